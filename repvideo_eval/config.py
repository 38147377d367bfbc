"""Frozen descriptions of what to run: model cards, sampler settings, suites and run specs.

Everything that changes a generated video lives in a `ModelCard` (and its `SamplerSettings`), so
the card's hash addresses the videos it produced: two runs with equal cards reuse each other's
videos, and a card that differs in any setting never does.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Dtype = Literal["float32", "float16", "bfloat16"]
GateMode = Literal["learned", "fixed", "off"]
Family = Literal["cogvideox", "wan"]
Source = Literal["hub", "tiny"]

DTYPES: tuple[str, ...] = ("float32", "float16", "bfloat16")
GATE_MODES: tuple[str, ...] = ("learned", "fixed", "off")
SCHEDULERS: tuple[str, ...] = ("dpm++2m", "ddim")


#: VBench's dimensions scored by a detector (GRiT); a run's detector choice matters only to them.
DETECTION_DIMENSIONS = ("object_class", "multiple_objects", "color", "spatial_relationship")
#: Their backends (scoring.detection.select): GRiT in plain PyTorch, vbench's GRiT on detectron2,
#: OWLv2 (not VBench's detector). The first is the default.
DETECTORS = ("grit-torch", "grit-detectron2", "owlv2")


@dataclass(frozen=True)
class SamplerSettings:
    """How videos are sampled. Baseline and RepVideo must share one of these (sampler parity)."""

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


@dataclass(frozen=True)
class RepVideoSettings:
    """The method's two knobs: the cache window and the gates (learned, a fixed constant, or off)."""

    cache_window: int = 6
    gates: str = "learned"
    gate_value: float | None = None

    def __post_init__(self) -> None:
        if int(self.cache_window) < 1:
            raise ValueError(f"repvideo.cache_window must be >= 1, got {self.cache_window!r}")
        if self.gates not in GATE_MODES:
            raise ValueError(
                f"repvideo.gates must be one of {', '.join(GATE_MODES)}, got {self.gates!r}"
            )
        if self.gates == "fixed" and self.gate_value is None:
            raise ValueError("repvideo.gates is 'fixed' but repvideo.gate_value is missing")


@dataclass(frozen=True)
class ModelCard:
    """One registered model: where its weights come from and exactly how it samples."""

    name: str
    family: str
    source: str
    weights: str
    dtype: str
    sampler: SamplerSettings
    repvideo: RepVideoSettings | None = None
    transformer_weights: str | None = None
    tiny_seed: int | None = None
    description: str = ""
    twin: str | None = None

    def __post_init__(self) -> None:
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")
        if self.source not in ("hub", "tiny"):
            raise ValueError(f"source must be 'hub' or 'tiny', got {self.source!r}")
        if self.family not in ("cogvideox", "wan"):
            raise ValueError(f"family must be 'cogvideox' or 'wan', got {self.family!r}")
        if self.source == "tiny" and self.tiny_seed is None:
            raise ValueError(
                "a tiny card needs tiny_seed (the seed its random weights are built from)"
            )

    @property
    def is_tiny(self) -> bool:
        return self.source == "tiny"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def generation_dict(self) -> dict[str, Any]:
        """The fields that change pixels. Name, description and twin are labels, not settings."""
        data = self.to_dict()
        for label in ("name", "description", "twin"):
            data.pop(label)
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
    vbench_mode: str = "standard"
    scoring_weights: str = "official"
    device: str = "cpu"
    extra: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    #: Backend of the detection dimensions (scoring.detection.select.DETECTORS).
    detector: str = DETECTORS[0]

    @property
    def uses_detector(self) -> bool:
        return bool(set(self.dimensions) & set(DETECTION_DIMENSIONS))

    @property
    def run_id(self) -> str:
        names = "+".join(card.name for card in self.models)
        # The detector joins the id only where it matters, so other runs keep their ids.
        detector = {"detector": self.detector} if self.uses_detector else {}
        digest = stable_hash(
            {
                **detector,
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
