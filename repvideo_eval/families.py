"""What the project knows about each text-to-video family diffusers ships: its pipeline and
transformer classes, the video shape its VAE and patching accept, and its sampler vocabulary.

Pure data and checks (no torch), so a card that breaks a family's rule fails when it is read,
before any model loads. One entry per family; docs/models.md lists the same facts with sources.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

#: The schedulers of CogVideoX's SAT sampler (dynamic CFG applies to them only).
COGVIDEOX_SCHEDULERS = ("dpm++2m", "ddim")
#: Flow-matching schedulers: Euler (HunyuanVideo, LTX, Mochi) and UniPC in flow mode (Wan).
FLOW_SCHEDULERS = ("flow-euler", "flow-unipc")
SCHEDULERS = COGVIDEOX_SCHEDULERS + FLOW_SCHEDULERS


@dataclass(frozen=True)
class FamilyFacts:
    """One family. `frame_step` k: the VAE accepts k*n + 1 frames; `spatial_multiple`: VAE
    downsampling x transformer patch, which height and width must be multiples of."""

    name: str
    pipeline: str
    transformer: str
    frame_step: int
    spatial_multiple: int
    schedulers: tuple[str, ...]
    #: "cfg": classifier-free guidance with a negative branch, its scale a pipeline argument;
    #: "guider": the same, run by the pipeline's `guider` component (ClassifierFreeGuidance,
    #: HunyuanVideo 1.5), whose scale is set when the pipeline is built; "embedded": guidance
    #: distilled into the transformer (HunyuanVideo), no negative branch.
    guidance: str = "cfg"
    #: An empty negative prompt means zeroed embeddings (CogVideoX's SAT sampler) rather than
    #: the encoded empty string (every other family, as diffusers does).
    zero_empty_negative: bool = False
    #: Text-encoder length when the sampler does not set one (None: the transformer's config).
    text_length: int | None = None
    #: The pipeline takes the frame rate (LTX conditions its rotary embedding on it).
    passes_frame_rate: bool = False
    #: Shipped as cards and tiny twins (False: documented, not loadable yet).
    supported: bool = True
    #: Pipeline arguments the harness sets from the card's sampler (a card's pipeline_kwargs may
    #: not: LTX-2's audio guidance scale follows guidance_scale, so that the pipeline runs its
    #: negative branch exactly when the harness encodes the negative prompt).
    harness_kwargs: tuple[str, ...] = ()


FAMILIES: dict[str, FamilyFacts] = {
    f.name: f
    for f in (
        FamilyFacts(
            "cogvideox",
            "CogVideoXPipeline",
            "CogVideoXTransformer3DModel",
            frame_step=4,
            spatial_multiple=16,
            schedulers=COGVIDEOX_SCHEDULERS,
            zero_empty_negative=True,
        ),
        # CogVideoX 1.5: same classes; time patched by 2, frames 16n + 1 (model card).
        FamilyFacts(
            "cogvideox1.5",
            "CogVideoXPipeline",
            "CogVideoXTransformer3DModel",
            frame_step=16,
            spatial_multiple=16,
            schedulers=COGVIDEOX_SCHEDULERS,
            zero_empty_negative=True,
        ),
        # Wan 2.1 (and Wan 2.2 A14B, which keeps the 2.1 VAE): 4x temporal, 8x spatial, patch 2.
        FamilyFacts(
            "wan",
            "WanPipeline",
            "WanTransformer3DModel",
            frame_step=4,
            spatial_multiple=16,
            schedulers=FLOW_SCHEDULERS,
            text_length=512,
        ),
        # Wan 2.2 TI2V-5B: the 2.2 VAE compresses 16x spatially, patch 2.
        FamilyFacts(
            "wan2.2",
            "WanPipeline",
            "WanTransformer3DModel",
            frame_step=4,
            spatial_multiple=32,
            schedulers=FLOW_SCHEDULERS,
            text_length=512,
        ),
        FamilyFacts(
            "hunyuanvideo",
            "HunyuanVideoPipeline",
            "HunyuanVideoTransformer3DModel",
            frame_step=4,
            spatial_multiple=16,
            schedulers=("flow-euler",),
            guidance="embedded",
            text_length=256,
        ),
        # HunyuanVideo 1.5: 4x temporal, 16x spatial VAE, patch 1; Qwen2.5-VL text (1000 tokens:
        # HunyuanVideo15Pipeline.tokenizer_max_length) plus ByT5 for quoted text; CFG by a guider.
        FamilyFacts(
            "hunyuanvideo1.5",
            "HunyuanVideo15Pipeline",
            "HunyuanVideo15Transformer3DModel",
            frame_step=4,
            spatial_multiple=16,
            schedulers=("flow-euler",),
            guidance="guider",
            text_length=1000,
        ),
        # LTX-Video: 8x temporal, 32x spatial, patch 1.
        FamilyFacts(
            "ltx",
            "LTXPipeline",
            "LTXVideoTransformer3DModel",
            frame_step=8,
            spatial_multiple=32,
            schedulers=("flow-euler",),
            text_length=128,
            passes_frame_rate=True,
        ),
        # LTX-2: LTX-Video's compression (8x temporal, 32x spatial, patch 1); a Gemma 3 encoder
        # (1024 tokens: LTX2Pipeline.__call__'s max_sequence_length); the pipeline also returns
        # audio, which the harness discards (generation.pipelines.sample_video).
        FamilyFacts(
            "ltx2",
            "LTX2Pipeline",
            "LTX2VideoTransformer3DModel",
            frame_step=8,
            spatial_multiple=32,
            schedulers=("flow-euler",),
            text_length=1024,
            passes_frame_rate=True,
            harness_kwargs=("audio_guidance_scale",),
        ),
        # Mochi-1: 6x temporal, 8x spatial, patch 2.
        FamilyFacts(
            "mochi",
            "MochiPipeline",
            "MochiTransformer3DModel",
            frame_step=6,
            spatial_multiple=16,
            schedulers=("flow-euler",),
            text_length=256,
        ),
    )
}

FAMILY_NAMES: tuple[str, ...] = tuple(FAMILIES)
#: Families a card may name today (the others are documented and refused with the reason).
SUPPORTED_FAMILIES: tuple[str, ...] = tuple(n for n, f in FAMILIES.items() if f.supported)
#: Why the documented-only families are not loadable (docs/models.md says the same); empty
#: while every family diffusers ships is supported.
UNSUPPORTED_REASONS: dict[str, str] = {}


def family_facts(name: str) -> FamilyFacts:
    """The facts of a supported family; ValueError naming the fix otherwise."""
    facts = FAMILIES.get(name)
    if facts is None:
        raise ValueError(f"family must be one of {', '.join(SUPPORTED_FAMILIES)}, got {name!r}")
    if not facts.supported:
        raise ValueError(
            f"family {name!r} is not supported yet: {UNSUPPORTED_REASONS[name]} (docs/models.md)"
        )
    return facts


def pipeline_classes() -> list[str]:
    """The diffusers pipeline classes a card may name."""
    return sorted({FAMILIES[n].pipeline for n in SUPPORTED_FAMILIES})


def check_pipeline(family: str, pipeline: str | None) -> str:
    """The card's pipeline class (the family's when unset); ValueError for an unknown class."""
    facts = family_facts(family)
    if pipeline is None:
        return facts.pipeline
    if pipeline not in pipeline_classes():
        raise ValueError(
            f"unknown pipeline class {pipeline!r}; supported diffusers classes: "
            f"{', '.join(pipeline_classes())} (set `pipeline:` to one, with its family)"
        )
    if pipeline != facts.pipeline:
        raise ValueError(
            f"pipeline {pipeline} does not belong to family {family!r} (its class is "
            f"{facts.pipeline}); set family to the one of {pipeline}"
        )
    return pipeline


def check_video_shape(family: str, num_frames: int, height: int, width: int) -> None:
    """The family's VAE rule: frames k*n + 1, height and width multiples of its spatial factor."""
    facts = family_facts(family)
    step, multiple = facts.frame_step, facts.spatial_multiple
    if (num_frames - 1) % step != 0:
        below = (num_frames - 1) // step * step + 1
        raise ValueError(
            f"{num_frames} frames break the {family} VAE rule ({step}n + 1 frames); "
            f"use {below} or {below + step}"
        )
    for name, value in (("height", height), ("width", width)):
        if value % multiple != 0:
            raise ValueError(
                f"{name} {value} is not a multiple of {multiple} ({family}: VAE x patch size); "
                f"use {max(multiple, value // multiple * multiple)} or {(value // multiple + 1) * multiple}"
            )


def check_pipeline_kwargs(family: str, names: Iterable[str]) -> None:
    """A card's pipeline_kwargs may not set what the harness derives from its sampler."""
    owned = sorted(set(names) & set(family_facts(family).harness_kwargs))
    if owned:
        raise ValueError(
            f"sampler.pipeline_kwargs.{owned[0]} is set by the harness for {family} (it follows "
            f"sampler.guidance_scale); remove it from pipeline_kwargs"
        )


def check_scheduler(
    family: str, scheduler: str, use_dynamic_cfg: bool, shift: float | None
) -> None:
    """The sampler vocabulary of the family: its schedulers; dynamic CFG on CogVideoX's, shift on
    the flow-matching ones."""
    facts = family_facts(family)
    if scheduler not in facts.schedulers:
        raise ValueError(
            f"sampler.scheduler {scheduler!r} does not apply to {family}; use one of "
            f"{', '.join(facts.schedulers)}"
        )
    if use_dynamic_cfg and scheduler not in COGVIDEOX_SCHEDULERS:
        raise ValueError(
            f"sampler.use_dynamic_cfg is CogVideoX's rule; set use_dynamic_cfg: false for {family}"
        )
    if shift is not None and scheduler not in FLOW_SCHEDULERS:
        raise ValueError(
            "sampler.shift applies to flow-matching schedulers only; remove it or use one of "
            f"{', '.join(FLOW_SCHEDULERS)}"
        )
