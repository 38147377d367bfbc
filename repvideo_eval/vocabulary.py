"""The run's words, defined once: scoring-weights modes, VBench modes, detectors, the device
default, the file-name tag of a weights mode, and which weights are random.

Specs (config), the CLI's `choices=`, planning, workers and reports all read these names from
here, so a mode cannot be accepted in one place and refused, or misread, in another. Prompt-set
names are not here (they belong to the prompt sets).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, cast, get_args

from repvideo_eval.errors import UserError

#: "Decide for me": the CLI value of --device, --vbench-mode, --detector and --scoring-weights
#: that a command resolves before a run starts (never stored in a spec, except --device).
AUTO = "auto"

# ----------------------------------------------------------------------------- device

#: The default of every --device flag and worker: CUDA when present, else CPU
#: (devices.resolve_device says what it means on this machine).
DEFAULT_DEVICE = AUTO
DEVICE_HELP = f"{AUTO} (CUDA when present, the default), cuda, cuda:N or cpu"

# -------------------------------------------------------------------- scoring weights

#: Where a session's scorer weights come from: VBench's files with checksums enforced
#: ("official"), the files found in the cache as they are ("local"), or seeded tiny random twins
#: ("tiny-random", optionally "tiny-random:seed=N"; offline demos and tests).
ScoringWeightsMode = Literal["official", "local", "tiny-random"]
SCORING_WEIGHTS_MODES: tuple[str, ...] = get_args(ScoringWeightsMode)
OFFICIAL_WEIGHTS, LOCAL_WEIGHTS, TINY_RANDOM_WEIGHTS = SCORING_WEIGHTS_MODES
DEFAULT_SCORING_WEIGHTS = cast(ScoringWeightsMode, OFFICIAL_WEIGHTS)
#: What --scoring-weights of `run` accepts (auto: tiny-random when every model is a tiny twin,
#: else official); `score` accepts the modes (both: tiny-random:seed=N too).
SCORING_WEIGHTS_CHOICES: tuple[str, ...] = (AUTO, *SCORING_WEIGHTS_MODES)


def parse_scoring_weights(value: object) -> tuple[ScoringWeightsMode, int]:
    """'official', 'local', 'tiny-random' or 'tiny-random:seed=N' -> (mode, seed).

    Raises ValueError (one line, naming the valid values) for anything else."""
    valid = f"use one of {', '.join(SCORING_WEIGHTS_MODES)} (or {TINY_RANDOM_WEIGHTS}:seed=N)"
    if not isinstance(value, str):
        raise ValueError(f"scoring weights must be a string, got {value!r}; {valid}")
    mode, colon, option = value.partition(":")
    if mode not in SCORING_WEIGHTS_MODES:
        raise ValueError(f"Unknown scoring weights mode {value!r}; {valid}")
    seed = 0
    if colon:
        name, _, number = option.partition("=")
        if mode != TINY_RANDOM_WEIGHTS or name != "seed" or not number.lstrip("-").isdigit():
            raise ValueError(
                f"invalid scoring weights option {value!r}; only {TINY_RANDOM_WEIGHTS} takes "
                f"one, e.g. {TINY_RANDOM_WEIGHTS}:seed=0"
            )
        seed = int(number)
    return cast(ScoringWeightsMode, mode), seed


def resolve_scoring_weights(requested: str, *, all_tiny: bool) -> str:
    """--scoring-weights of `run`: `auto` -> tiny-random when every model is a tiny twin, else
    official; a mode as given once checked (UserError naming the valid values)."""
    if requested == AUTO:
        return TINY_RANDOM_WEIGHTS if all_tiny else OFFICIAL_WEIGHTS
    try:
        parse_scoring_weights(requested)
    except ValueError as error:
        raise UserError(f"--scoring-weights: {error}", f"On `run`, {AUTO} is valid too.") from None
    return requested


def is_tiny_random(scoring_weights: str) -> bool:
    """Whether a scoring-weights value (mode or `tiny-random:seed=N`) builds tiny random scorers."""
    return scoring_weights.partition(":")[0] == TINY_RANDOM_WEIGHTS


def weights_tag(scoring_weights: str) -> str:
    """A scoring-weights value as a file-name part: `tiny-random:seed=3` -> `tiny-random_seed-3`.
    The one cleaner: score record folders and manifest names both use it."""
    return scoring_weights.replace(":", "_").replace("=", "-")


def tiny_random_weights_id(seed: int, detector: str | None = None) -> str:
    """The `weights_id` of a record scored with tiny random weights (is_random_weights_id knows it)."""
    suffix = f":detector={detector}" if detector else ""
    return f"{TINY_RANDOM_WEIGHTS}:seed={seed}{suffix}"


# ------------------------------------------------------------------------ random weights

#: `weights:` prefixes of model cards whose weights are made up: tiny twins (`tiny:cogvideox`)
#: and full-size random twins (`random:cogvideox-2b`); card sources of the same kinds.
TINY_CARD_PREFIX, RANDOM_CARD_PREFIX = RANDOM_CARD_WEIGHTS_PREFIXES = ("tiny:", "random:")
RANDOM_CARD_SOURCES = ("tiny", "random")


def is_random_weights_id(weights_id: object) -> bool:
    """Whether a score record's `weights_id` says it was scored with tiny random weights."""
    return str(weights_id).startswith(TINY_RANDOM_WEIGHTS)


def is_random_card(card: Mapping[str, Any]) -> bool:
    """Whether a card (as `ModelCard.to_dict()` writes it into run.json) has random weights:
    a tiny or random source, or (older run.json) such a `weights` label."""
    if str(card.get("source", "")) in RANDOM_CARD_SOURCES:
        return True
    weights = str(card.get("weights", ""))
    return weights.startswith((*RANDOM_CARD_WEIGHTS_PREFIXES, TINY_RANDOM_WEIGHTS))


# --------------------------------------------------------------------------- VBench modes

#: Run modes: VBench ("standard"), the official evaluate_long.sh ("long": `--dev_flag`, slow-fast
#: subject/background consistency) and vbench-long without `--dev_flag` ("long-inclip": clip
#: scores only).
VBenchMode = Literal["standard", "long", "long-inclip"]
VBENCH_MODES: tuple[str, ...] = get_args(VBenchMode)
STANDARD_MODE, LONG_MODE, LONG_INCLIP_MODE = VBENCH_MODES
LONG_MODES: tuple[str, ...] = (LONG_MODE, LONG_INCLIP_MODE)
VBENCH_MODE_CHOICES: tuple[str, ...] = (AUTO, *VBENCH_MODES)

# ------------------------------------------------------------------------------ detectors

#: VBench's dimensions scored by a detector (GRiT); a run's detector choice matters only to them.
DETECTION_DIMENSIONS = ("object_class", "multiple_objects", "color", "spatial_relationship")
#: Their backends (scoring.detection.select): GRiT in plain PyTorch, vbench's GRiT on detectron2,
#: OWLv2 (not VBench's detector).
DETECTORS: tuple[str, ...] = ("grit-torch", "grit-detectron2", "owlv2")
GRIT_TORCH, GRIT_DETECTRON2, OWLV2 = DETECTORS
DEFAULT_DETECTOR = GRIT_TORCH
DETECTOR_CHOICES: tuple[str, ...] = (AUTO, *DETECTORS)


def check_choice(what: str, value: object, allowed: tuple[str, ...]) -> str:
    """`value` if it is one of `allowed`, else ValueError naming `what` and the valid values."""
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}, got {value!r}")
    return value
