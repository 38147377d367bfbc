"""Frozen descriptions of what to run: model cards, sampler settings, suites and run specs.

Everything that changes a generated video lives in a `ModelCard` (and its `SamplerSettings`), so
the card's hash addresses the videos it produced: two runs with equal cards reuse each other's
videos, and a card that differs in any setting never does.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from repvideo_eval.families import (
    SCHEDULERS,
    check_pipeline,
    check_pipeline_kwargs,
    check_scheduler,
    check_video_shape,
    family_facts,
)
from repvideo_eval.vocabulary import (
    DEFAULT_DETECTOR,
    DEFAULT_SCORING_WEIGHTS,
    DETECTION_DIMENSIONS,
    DETECTORS,
    STANDARD_MODE,
    VBENCH_MODES,
    check_choice,
    parse_scoring_weights,
)

Dtype = Literal["float32", "float16", "bfloat16"]
GateMode = Literal["learned", "fixed", "seeded", "off"]
Family = Literal[
    "cogvideox",
    "cogvideox1.5",
    "wan",
    "wan2.2",
    "hunyuanvideo",
    "hunyuanvideo1.5",
    "ltx",
    "ltx2",
    "mochi",
]
Source = Literal["hub", "tiny", "random"]

DTYPES: tuple[str, ...] = get_args(Dtype)
GATE_MODES: tuple[str, ...] = get_args(GateMode)
SOURCES: tuple[str, ...] = ("hub", "tiny", "random")
OFFLOAD_MODES: tuple[str, ...] = ("none", "model", "sequential", "auto")
ATTENTION_BACKENDS: tuple[str, ...] = ("default", "flash", "efficient", "cudnn", "math")


def check_cache_window(value: object) -> int:
    """RepVideo's cache window: a positive int (not a bool or a string). The one check, used by
    cards, ablation grids and the method itself; raises ValueError naming the setting."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"RepVideo cache window must be a positive integer, got {value!r}")
    return value


def check_gate_mode(value: object) -> str:
    """RepVideo's gate mode, one of GATE_MODES; YAML 1.1 reads a bare `off` as false, so false
    means "off"."""
    if value is False:
        return "off"
    if not isinstance(value, str) or value not in GATE_MODES:
        raise ValueError(f"RepVideo gates must be one of {', '.join(GATE_MODES)}, got {value!r}")
    return value


def check_gate_value(value: object) -> float:
    """The constant of fixed gates: a finite number in 0..1 (0.5 is the official initialisation)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not 0.0 <= value <= 1.0
    ):
        raise ValueError(f"RepVideo gate_value must be a number between 0 and 1, got {value!r}")
    return float(value)


#: Largest gate_seed: torch.Generator.manual_seed takes any 64-bit value, and one that fits a
#: signed 64-bit integer is the same number in JSON, YAML and every language that reads them.
MAX_GATE_SEED = 2**63 - 1


def check_gate_seed(value: object) -> int:
    """The seed of seeded gates: an integer in 0..2**63-1 (not a bool or a string)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_GATE_SEED:
        raise ValueError(
            f"RepVideo gate_seed must be an integer between 0 and 2**63-1, got {value!r}"
        )
    return value


#: The prompt set of a run that gives the model each suite prompt as it is (repvideo_eval.prompt_sets
#: names the others).
STANDARD_PROMPT_SET = "standard"


@dataclass(frozen=True)
class SamplerSettings:
    """How videos are sampled. Baseline and RepVideo must share one of these (sampler parity).

    The scheduler names are the project's (repvideo_eval.families.SCHEDULERS): CogVideoX's
    `dpm++2m`/`ddim` (with dynamic CFG) and the flow-matching `flow-euler`/`flow-unipc` (with
    `shift`). Which apply is the card's family's rule, checked by ModelCard. Fields added for the
    other families default to None/empty and are left out of the card hash then, so CogVideoX
    cards keep their hashes.
    """

    scheduler: str = "dpm++2m"
    num_inference_steps: int = 50
    guidance_scale: float = 6.0
    use_dynamic_cfg: bool = True
    dynamic_cfg_exp: float = 5.0
    negative_prompt: str = ""
    num_frames: int = 49
    height: int = 480
    width: int = 720
    fps: int = 8
    #: Flow-matching shift (FlowMatchEuler `shift`, UniPC `flow_shift`); None keeps the
    #: scheduler config the weights ship with.
    shift: float | None = None
    #: Wan 2.2 A14B: guidance of the low-noise expert (transformer_2), below the boundary.
    guidance_scale_2: float | None = None
    #: Text-encoder length in tokens; None: the family's (CogVideoX: the transformer's config).
    max_sequence_length: int | None = None
    #: Further keyword arguments of the pipeline call, as (name, value) pairs (e.g. LTX's
    #: decode_timestep); plain values only.
    pipeline_kwargs: tuple[tuple[str, bool | int | float | str], ...] = ()

    #: Fields that enter the hash only when set (they did not exist for the first cards).
    OPTIONAL_FIELDS = ("shift", "guidance_scale_2", "max_sequence_length", "pipeline_kwargs")

    def __post_init__(self) -> None:
        if self.scheduler not in SCHEDULERS:
            raise ValueError(
                f"sampler.scheduler must be one of {', '.join(SCHEDULERS)}, got {self.scheduler!r}"
            )
        for name in ("num_inference_steps", "num_frames", "height", "width", "fps"):
            if int(getattr(self, name)) <= 0:
                raise ValueError(
                    f"sampler.{name} must be a positive integer, got {getattr(self, name)!r}"
                )
        if self.use_dynamic_cfg and float(self.dynamic_cfg_exp) != 5.0:
            raise ValueError(
                "sampler.dynamic_cfg_exp must be 5 (the exponent diffusers' CogVideoX pipelines implement)"
            )
        if self.max_sequence_length is not None and int(self.max_sequence_length) <= 0:
            raise ValueError(
                f"sampler.max_sequence_length must be a positive integer, got {self.max_sequence_length!r}"
            )

    def hashed(self) -> dict[str, Any]:
        """The settings as the card hash sees them: optional fields only when set."""
        data = dataclasses.asdict(self)
        for name in self.OPTIONAL_FIELDS:
            if data[name] in (None, ()):
                data.pop(name)
        if "pipeline_kwargs" in data:
            data["pipeline_kwargs"] = dict(self.pipeline_kwargs)
        return data


@dataclass(frozen=True)
class RepVideoSettings:
    """The method's two knobs: the cache window and the gates (learned, a fixed constant, seeded
    values around the official init, or off). Fixed and seeded gates need no trained checkpoint,
    so they are the training-free RepVideo of every family."""

    cache_window: int = 6
    gates: GateMode = "learned"
    gate_value: float | None = None
    #: Seed of seeded gates (repvideo_eval.repvideo.gates.seeded_gates); None for other modes,
    #: and then left out of the card hash, so cards written before the field keep their hashes.
    gate_seed: int | None = None

    def __post_init__(self) -> None:
        check_cache_window(self.cache_window)
        object.__setattr__(self, "gates", check_gate_mode(self.gates))
        if self.gates == "fixed" and self.gate_value is None:
            raise ValueError("repvideo.gates is 'fixed' but repvideo.gate_value is missing")
        if self.gate_value is not None:
            check_gate_value(self.gate_value)
        if self.gates == "seeded":
            if self.gate_seed is None:
                raise ValueError(
                    "repvideo.gates is 'seeded' but repvideo.gate_seed is missing: "
                    "add gate_seed: <integer>"
                )
            if self.gate_value is not None:
                raise ValueError(
                    "repvideo.gate_value applies to gates 'fixed', not 'seeded': remove gate_value"
                )
        elif self.gate_seed is not None:
            raise ValueError(
                f"repvideo.gate_seed applies to gates 'seeded', not {self.gates!r}: "
                "remove gate_seed or set gates: seeded"
            )
        if self.gate_seed is not None:
            check_gate_seed(self.gate_seed)

    def hashed(self) -> dict[str, Any]:
        """The settings as the card hash sees them: gate_seed only when set."""
        data = dataclasses.asdict(self)
        if data["gate_seed"] is None:
            data.pop("gate_seed")
        return data


#: The key of `ModelCard.hub_id` in card files, run.json and the card hash (its on-disk name).
HUB_ID_KEY = "weights"


@dataclass(frozen=True)
class MemorySettings:
    """How a pipeline fits in GPU memory (docs/gpu.md has the table `auto` follows).

    Only VAE tiling changes pixels (tiles are decoded apart and blended), so only it enters the
    card hash; slicing (one video per decode anyway) and offloading (same kernels, weights moved)
    are recorded in sidecars but never split the videos of a card.
    """

    vae_tiling: bool = False
    vae_slicing: bool = False
    offload: str = "none"

    def __post_init__(self) -> None:
        if self.offload not in OFFLOAD_MODES:
            raise ValueError(
                f"memory.offload must be one of {', '.join(OFFLOAD_MODES)}, got {self.offload!r}"
            )

    def hashed(self) -> dict[str, Any]:
        return {"vae_tiling": bool(self.vae_tiling)}


@dataclass(frozen=True)
class SpeedSettings:
    """Speed options. Each can change the numbers (kernel choice, fusion, TF32 matmuls), so all of
    them enter the card hash: compiled and eager videos never share a folder."""

    compile: bool = False
    attention: str = "default"
    tf32: bool = False

    def __post_init__(self) -> None:
        if self.attention not in ATTENTION_BACKENDS:
            raise ValueError(
                f"speed.attention must be one of {', '.join(ATTENTION_BACKENDS)}, "
                f"got {self.attention!r}"
            )


@dataclass(frozen=True)
class ModelCard:
    """One registered model: where its weights come from and exactly how it samples.

    `hub_id` is the Hugging Face repo id (or local folder) of the pipeline, written `weights:`
    in card files; a tiny card's is a label such as `tiny:cogvideox`, a full-size random
    twin's `random:cogvideox-2b`.
    """

    name: str
    family: Family
    source: Source
    hub_id: str
    dtype: Dtype
    sampler: SamplerSettings
    repvideo: RepVideoSettings | None = None
    transformer_weights: str | None = None
    tiny_seed: int | None = None
    description: str = ""
    twin: str | None = None
    #: Overrides of the transformer's diffusers config, as (field, value) pairs: e.g. the baseline
    #: CogVideoX-2B takes RepVideo's norm_eps so that the two arms differ only in the method.
    transformer_config: tuple[tuple[str, bool | int | float | str], ...] = ()
    memory: MemorySettings = field(default_factory=MemorySettings)
    speed: SpeedSettings = field(default_factory=SpeedSettings)
    #: seed of a full-size random twin's weights (source "random")
    random_seed: int | None = None
    #: The diffusers pipeline class (the generic card form); None: the family's class.
    pipeline: str | None = None
    #: Config overrides per pipeline component, as (component, ((field, value), ...)) pairs:
    #: applied to a tiny twin's configs, and to hub components as from_pretrained overrides.
    components: tuple[tuple[str, tuple[tuple[str, bool | int | float | str], ...]], ...] = ()

    def __post_init__(self) -> None:
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)}, got {self.source!r}")
        if self.source == "random" and self.random_seed is None:
            raise ValueError(
                "a random card needs random_seed (the seed its full-size random weights come from)"
            )
        family_facts(self.family)  # a known, supported family
        check_pipeline(self.family, self.pipeline)
        check_scheduler(
            self.family, self.sampler.scheduler, self.sampler.use_dynamic_cfg, self.sampler.shift
        )
        check_video_shape(
            self.family, self.sampler.num_frames, self.sampler.height, self.sampler.width
        )
        check_pipeline_kwargs(self.family, (name for name, _ in self.sampler.pipeline_kwargs))
        if self.source == "tiny" and self.transformer_config:
            raise ValueError(
                "transformer_config applies to hub weights; a tiny card's transformer is fixed"
            )
        if self.source == "tiny" and self.tiny_seed is None:
            raise ValueError(
                "a tiny card needs tiny_seed (the seed its random weights are built from)"
            )

    @property
    def is_tiny(self) -> bool:
        return self.source == "tiny"

    def to_dict(self) -> dict[str, Any]:
        """The card as its files spell it (`hub_id` under HUB_ID_KEY); the hash is taken over it."""
        data = {
            (HUB_ID_KEY if key == "hub_id" else key): value
            for key, value in dataclasses.asdict(self).items()
        }
        data["transformer_config"] = dict(self.transformer_config)
        data["components"] = {name: dict(fields) for name, fields in self.components}
        data["sampler"]["pipeline_kwargs"] = dict(self.sampler.pipeline_kwargs)
        return data

    @property
    def is_random(self) -> bool:
        return self.source == "random"

    def generation_dict(self) -> dict[str, Any]:
        """The fields that change pixels. Name, description and twin are labels, not settings.

        Memory and speed enter as the parts that can change numbers, and only when they differ
        from the defaults, so cards written before these options existed keep their hashes.
        """
        data = self.to_dict()
        for label in ("name", "description", "twin"):
            data.pop(label)
        if not data["transformer_config"]:  # no overrides: the hash a card had before the field
            data.pop("transformer_config")
        data.pop("memory")
        speed = data.pop("speed")
        if self.memory.hashed() != MemorySettings().hashed():
            data["memory"] = self.memory.hashed()
        if self.speed != SpeedSettings():
            data["speed"] = speed
        if data["random_seed"] is None:
            data.pop("random_seed")
        data["sampler"] = self.sampler.hashed()
        if self.repvideo is not None:
            data["repvideo"] = self.repvideo.hashed()
        if data["pipeline"] is None:  # the family's class: the hash cards had before the field
            data.pop("pipeline")
        if not data["components"]:
            data.pop("components")
        return data

    @property
    def card_hash(self) -> str:
        """12 hex digits of sha256 over the canonical JSON of the generation settings."""
        return stable_hash(self.generation_dict())

    def with_repvideo(
        self, settings: RepVideoSettings | None, name: str | None = None
    ) -> ModelCard:
        """A copy with other RepVideo settings (used by ablation grids)."""
        return dataclasses.replace(self, repvideo=settings, name=name or self.name)


def stable_hash(data: Mapping[str, Any] | list[Any], length: int = 12) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:length]


@dataclass(frozen=True)
class PromptEntry:
    """One prompt of a suite, with VBench's per-dimension auxiliary info (JSON text, hashable)."""

    text: str
    dimensions: tuple[str, ...] = ()
    auxiliary_info_json: str = "{}"
    samples: int | None = (
        None  # overrides the suite's samples_per_prompt (temporal flickering wants 25)
    )
    #: The text the model is given when a prompt set replaces it (VBench's rule: generate from
    #: this, name and score under `text`); None: `text` itself.
    generation_text: str | None = None

    @property
    def text_for_model(self) -> str:
        return self.text if self.generation_text is None else self.generation_text

    def __post_init__(self) -> None:
        if not isinstance(self.text, str) or not self.text.strip():
            raise ValueError(f"a prompt must be a non-empty string, got {self.text!r}")
        if self.samples is not None and (
            isinstance(self.samples, bool) or not isinstance(self.samples, int) or self.samples < 1
        ):
            raise ValueError(
                f"'samples' of prompt {self.text!r} must be a positive integer, got {self.samples!r}"
            )
        try:
            info = json.loads(self.auxiliary_info_json)
        except (TypeError, ValueError):
            info = None
        if not isinstance(info, dict):
            raise ValueError(f"auxiliary info of prompt {self.text!r} must be a JSON object")

    @property
    def auxiliary_info(self) -> dict[str, Any]:
        return json.loads(self.auxiliary_info_json)


@dataclass(frozen=True)
class Suite:
    """A prompt set plus how many samples each prompt gets and which dimensions score it."""

    name: str
    prompts: tuple[PromptEntry, ...]
    samples_per_prompt: int = 1
    dimensions: tuple[str, ...] = ()
    base_seed: int = 0
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"a suite needs a name, got {self.name!r}")
        if (
            isinstance(self.samples_per_prompt, bool)
            or not isinstance(self.samples_per_prompt, int)
            or self.samples_per_prompt < 1
        ):
            raise ValueError(
                f"samples_per_prompt must be a positive integer, got {self.samples_per_prompt!r}"
            )
        if isinstance(self.base_seed, bool) or not isinstance(self.base_seed, int):
            raise ValueError(f"base_seed must be an integer, got {self.base_seed!r}")
        if not all(isinstance(p, PromptEntry) for p in self.prompts):
            raise ValueError("a suite's prompts must be PromptEntry values")

    def samples_for(self, entry: PromptEntry) -> int:
        return entry.samples if entry.samples is not None else self.samples_per_prompt

    def seed_for(self, prompt_index: int, sample_index: int) -> int:
        """VBench's published scheme for its own samples: 100000 * prompt index + sample index."""
        return self.base_seed + 100000 * prompt_index + sample_index


@dataclass(frozen=True)
class RunSpec:
    """Everything that defines a run. Its hash names the default output folder."""

    models: tuple[ModelCard, ...]
    suite: Suite
    dimensions: tuple[str, ...]
    vbench_mode: str = STANDARD_MODE
    scoring_weights: str = DEFAULT_SCORING_WEIGHTS
    #: Backend of the detection dimensions (vocabulary.DETECTORS).
    detector: str = DEFAULT_DETECTOR
    #: The prompt set the videos are generated from (repvideo_eval.prompt_sets): a set's name,
    #: or "file:<sha256>" for a user's list.
    prompt_set: str = STANDARD_PROMPT_SET
    #: Where a user's list was read from (a label for run.json; its sha256 is in `prompt_set`).
    prompt_set_file: str | None = None

    def __post_init__(self) -> None:
        """A spec is valid when built: a misspelled mode must not run as another one, nor a bad
        weights value surface only after every video was generated."""
        if not self.models or not all(isinstance(c, ModelCard) for c in self.models):
            raise ValueError("a run needs at least one model card")
        if not isinstance(self.suite, Suite):
            raise ValueError(f"a run's suite must be a Suite, got {self.suite!r}")
        check_choice("vbench_mode", self.vbench_mode, VBENCH_MODES)
        parse_scoring_weights(self.scoring_weights)
        check_choice("detector", self.detector, DETECTORS)
        if not isinstance(self.prompt_set, str) or not self.prompt_set:
            raise ValueError(
                f"prompt_set must be a set name or file:<sha256>, got {self.prompt_set!r}"
            )

    @property
    def uses_detector(self) -> bool:
        return bool(set(self.dimensions) & set(DETECTION_DIMENSIONS))

    @property
    def run_id(self) -> str:
        names = "+".join(card.name for card in self.models)
        # The detector joins the id only where it matters, so other runs keep their ids.
        detector = {"detector": self.detector} if self.uses_detector else {}
        # Likewise the prompt set: standard runs keep the ids they had before sets existed.
        prompt_set = (
            {"prompt_set": self.prompt_set} if self.prompt_set != STANDARD_PROMPT_SET else {}
        )
        digest = stable_hash(
            {
                **detector,
                **prompt_set,
                "models": [card.card_hash for card in self.models],
                "suite": [
                    self.suite.name,
                    len(self.suite.prompts),
                    self.suite.samples_per_prompt,
                    self.suite.base_seed,
                ],
                "dimensions": list(self.dimensions),
                "vbench_mode": self.vbench_mode,
                "scoring_weights": self.scoring_weights,
            },
            length=8,
        )
        safe_suite = self.suite.name.replace("/", "_")
        return f"{safe_suite}__{names}__{digest}"
