"""`--protocol`: the public VBench leaderboard's protocol for a model family, as flag values.

A preset is a mapping from flag names to values, applied to the parsed arguments before the run
spec is built, so it sets nothing the flags could not set themselves:

- `vbench-leaderboard`: every field the leaderboard used for the cards' family as far as the
  sources say (docs/vbench_protocols.md); an explicit flag that disagrees is a one-line error.
- `auto` (default): the same values for a VBench suite (`vbench`, `vbench/<dimension>`) run on
  full-size cards of a family the sources cover, but an explicit flag wins; otherwise nothing.
  So `run_eval.py --model repvideo --suite vbench` runs the leaderboard's protocol.
- `none`: the harness's own defaults (standard prompts, VBench mode from the video length).

Flags the user did not give keep their defaults wrapped in `HarnessDefault`, a `str` that
compares equal to the plain default, which is how an explicit `--suite smoke` is told from none.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

from repvideo_eval.errors import UserError
from repvideo_eval.vocabulary import GRIT_DETECTRON2, GRIT_TORCH, LONG_MODE, OFFICIAL_WEIGHTS

if TYPE_CHECKING:
    from repvideo_eval.config import ModelCard

PRESETS = ("auto", "none", "vbench-leaderboard")
LEADERBOARD = "vbench-leaderboard"
#: Flag values the public leaderboard used, per card family. Sources: Vchitect/VBench
#: sampled_videos/README.md at 45e79ec (prompt lists, lengths), README-FAQ.md (VBench-Long from
#: 5.0 s), #61/#77/#89 (CogVideoX: GPT-enhanced prompts, VBench-Long). Samples per prompt are the
#: VBench suite's own (5; 25 for temporal_flickering), so the preset requires that suite whole.
LEADERBOARD_FLAGS: dict[str, dict[str, str]] = {
    # CogVideoX-2B/5B (SAT, prompt-optimized): 49 frames at 8 fps, 6.1 s, GPT-enhanced prompts.
    "cogvideox": {
        "vbench_mode": LONG_MODE,
        "prompt_set": "gpt-enhanced",
        "scoring_weights": OFFICIAL_WEIGHTS,
    },
    # CogVideoX1.5-5B: 5.3 s and 10 s rows, GPT-enhanced prompts.
    "cogvideox1.5": {
        "vbench_mode": LONG_MODE,
        "prompt_set": "gpt-enhanced",
        "scoring_weights": OFFICIAL_WEIGHTS,
    },
    # HunyuanVideo: 5.4 s, its own prompt rewrite (hunyuan_all_dimension.txt).
    "hunyuanvideo": {
        "vbench_mode": LONG_MODE,
        "prompt_set": "hunyuan",
        "scoring_weights": OFFICIAL_WEIGHTS,
    },
    # Wan2.1-T2V-1.3B / 14B: 5 s, augmented prompts all_dimension_aug_wanx_seed42.txt.
    "wan": {"vbench_mode": LONG_MODE, "prompt_set": "wan2.1", "scoring_weights": OFFICIAL_WEIGHTS},
}
#: The flag each preset key stands for, for messages.
FLAG_NAMES = {
    "suite": "--suite",
    "vbench_mode": "--vbench-mode",
    "prompt_set": "--prompt-set",
    "scoring_weights": "--scoring-weights",
    "samples_per_prompt": "--samples-per-prompt",
    "detector": "--detector",
}
#: Values that leave the choice to the harness, so a preset may fill them.
OPEN_VALUES = ("auto",)
#: Suites the leaderboard protocol applies to (vbench-mini has 1 sample per prompt).
LEADERBOARD_SUITE = "vbench"
GRIT_DETECTORS = (GRIT_TORCH, GRIT_DETECTRON2)


class HarnessDefault(str):
    """A flag value the user did not give (equal to the plain default string)."""

    __slots__ = ()


def add_protocol_argument(parser: argparse.ArgumentParser) -> None:
    """`--protocol`, and mark the defaults of the flags a preset sets (call after adding them)."""
    parser.add_argument(
        "--protocol",
        choices=PRESETS,
        default="auto",
        help="vbench-leaderboard: the public VBench leaderboard's protocol for the model family "
        "(CogVideoX: --suite vbench, VBench-Long, GPT-enhanced prompts, official scorers, 5 samples "
        "per prompt), conflicting flags are an error; auto (default): the same for a vbench suite "
        "on full-size cards unless a flag says otherwise; none: the harness's defaults",
    )
    for dest in FLAG_NAMES:
        default = parser.get_default(dest)
        if isinstance(default, str):
            parser.set_defaults(**{dest: HarnessDefault(default)})


def given(args: argparse.Namespace, dest: str) -> bool:
    """True when the user gave the flag (its value is not a marked default or None)."""
    value = getattr(args, dest, None)
    return value is not None and not isinstance(value, HarnessDefault)


def is_vbench_suite(name: str) -> bool:
    return name == LEADERBOARD_SUITE or name.startswith(LEADERBOARD_SUITE + "/")


def leaderboard_flags(cards: Sequence[ModelCard]) -> tuple[str, dict[str, str]] | None:
    """(family, flag values) for the cards, or None when the sources do not cover them."""
    families = {card.family for card in cards}
    if len(families) != 1 or next(iter(families)) not in LEADERBOARD_FLAGS:
        return None
    family = families.pop()
    return family, dict(LEADERBOARD_FLAGS[family])


def apply_protocol(args: argparse.Namespace, cards: Sequence[ModelCard]) -> str | None:
    """Apply `args.protocol` to `args` in place; returns the preset applied (None: none).

    Afterwards every flag holds a plain value (the `HarnessDefault` marks are gone)."""
    try:
        return _apply(args, cards)
    finally:
        for dest in FLAG_NAMES:
            value = getattr(args, dest, None)
            if isinstance(value, HarnessDefault):
                setattr(args, dest, str(value))


def _apply(args: argparse.Namespace, cards: Sequence[ModelCard]) -> str | None:
    requested = getattr(args, "protocol", "none") or "none"
    if requested == "none":
        return None
    suite = str(getattr(args, "suite", "") or "")
    if requested == "auto":
        if not (given(args, "suite") and is_vbench_suite(suite)):
            return None
        if any(card.is_tiny for card in cards) or leaderboard_flags(cards) is None:
            return None
    resolved = leaderboard_flags(cards)
    if resolved is None:
        families = ", ".join(sorted({card.family for card in cards}))
        raise UserError(
            f"--protocol {LEADERBOARD} has no published protocol for family {families}",
            f"Sources cover: {', '.join(LEADERBOARD_FLAGS)} (one family per run); "
            "drop --protocol or set the flags yourself.",
        )
    family, values = resolved
    strict = requested == LEADERBOARD
    if strict:
        check_leaderboard_flags(args, family, values)
    if not given(args, "suite"):
        args.suite = LEADERBOARD_SUITE
    for dest, value in values.items():
        current = getattr(args, dest, None)
        if not given(args, dest) or current in OPEN_VALUES:
            setattr(args, dest, value)
    print(
        f"protocol {LEADERBOARD} ({family}): "
        + " ".join(f"{FLAG_NAMES[d]} {getattr(args, d)}" for d in ("suite", *values))
        + ("" if strict else " (explicit flags win; --protocol none for the harness defaults)")
    )
    return LEADERBOARD


def check_leaderboard_flags(args: argparse.Namespace, family: str, values: dict[str, str]) -> None:
    """One-line error for the first explicit flag that contradicts the preset."""

    def conflict(dest: str, wanted: str) -> UserError:
        return UserError(
            f"--protocol {LEADERBOARD} sets {FLAG_NAMES[dest]} {wanted} for {family}, "
            f"but {FLAG_NAMES[dest]} {getattr(args, dest)} was given",
            f"Drop {FLAG_NAMES[dest]}, or drop --protocol to choose it yourself.",
        )

    if given(args, "suite") and not is_vbench_suite(str(args.suite)):
        raise conflict("suite", "vbench (or vbench/<dimension>)")
    if given(args, "samples_per_prompt"):
        raise conflict("samples_per_prompt", "from the suite (5; 25 for temporal_flickering)")
    if given(args, "detector") and args.detector not in (*OPEN_VALUES, *GRIT_DETECTORS):
        raise conflict("detector", "grit-torch (VBench's GRiT)")
    for dest, value in values.items():
        current = getattr(args, dest, None)
        if given(args, dest) and current not in OPEN_VALUES and current != value:
            raise conflict(dest, value)
