"""How each family's diffusers pipeline is called: its text encoding, its scheduler and the
keyword arguments of its `__call__`. The one place that knows the pipelines' signatures differ.

Encodings are dicts of the pipeline's own keyword names (`prompt_embeds`, `prompt_attention_mask`,
`pooled_prompt_embeds`, HunyuanVideo 1.5's `prompt_embeds_mask` and `prompt_embeds_2`); the
negative branch takes the same names with `negative_` in front, as every diffusers video pipeline
spells them. The "guider" families' call (HunyuanVideo 1.5) takes no guidance scale, text length
or step callback: the scale lives in its `guider` component, the text length in
`tokenizer_max_length`, and the applied scale is read off the guider as it combines.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch

from repvideo_eval.config import ModelCard, SamplerSettings
from repvideo_eval.families import FAMILIES

#: Families whose encode_prompt returns (embeds, mask, negative embeds, negative mask).
_MASKED = ("ltx", "ltx2", "mochi")


def text_length(pipe: Any, sampler: SamplerSettings, family: str) -> int:
    """Tokens the text encoder gets: the sampler's, else the family's, else (CogVideoX) the
    transformer's `max_text_seq_length`, which its position embeddings are built for."""
    if sampler.max_sequence_length is not None:
        return int(sampler.max_sequence_length)
    default = FAMILIES[family].text_length
    if default is not None:
        return default
    return int(pipe.transformer.config.max_text_seq_length)


def encode_text(pipe: Any, family: str, text: str, max_length: int) -> dict[str, torch.Tensor]:
    """The conditional keyword arguments of one prompt (one call of the pipeline's encoder)."""
    device = pipe._execution_device
    if family == "hunyuanvideo":
        template = getattr(pipe, "repvideo_eval_prompt_template", None)
        extra = {} if template is None else {"prompt_template": template}
        embeds, pooled, mask = pipe.encode_prompt(
            prompt=text, device=device, max_sequence_length=max_length, **extra
        )
        return {
            "prompt_embeds": embeds,
            "pooled_prompt_embeds": pooled,
            "prompt_attention_mask": mask,
        }
    if family == "hunyuanvideo1.5":
        pipe.tokenizer_max_length = max_length  # its Qwen length: an attribute, no argument
        embeds, mask, embeds_2, mask_2 = pipe.encode_prompt(prompt=text, device=device)
        return {
            "prompt_embeds": embeds,
            "prompt_embeds_mask": mask,
            "prompt_embeds_2": embeds_2,  # ByT5 of the prompt's quoted text (zeros when none)
            "prompt_embeds_mask_2": mask_2,
        }
    encoded = pipe.encode_prompt(
        prompt=text,
        do_classifier_free_guidance=False,
        max_sequence_length=max_length,
        device=device,
    )
    if family in _MASKED:
        return {"prompt_embeds": encoded[0], "prompt_attention_mask": encoded[1]}
    return {"prompt_embeds": encoded[0]}


def make_scheduler(sampler: SamplerSettings, config: Any) -> Any:
    """The sampler's scheduler from the pipeline's scheduler config (shift applied when set)."""
    from diffusers import (
        CogVideoXDDIMScheduler,
        CogVideoXDPMScheduler,
        FlowMatchEulerDiscreteScheduler,
        UniPCMultistepScheduler,
    )

    name = sampler.scheduler
    if name == "dpm++2m":
        return CogVideoXDPMScheduler.from_config(config)
    if name == "ddim":
        return CogVideoXDDIMScheduler.from_config(config)
    if name == "flow-euler":
        shift = {} if sampler.shift is None else {"shift": float(sampler.shift)}
        return FlowMatchEulerDiscreteScheduler.from_config(config, **shift)
    shift = {} if sampler.shift is None else {"flow_shift": float(sampler.shift)}
    return UniPCMultistepScheduler.from_config(
        config, prediction_type="flow_prediction", use_flow_sigmas=True, **shift
    )


def uses_negative_branch(card: ModelCard) -> bool:
    """Classifier-free guidance runs a negative branch; HunyuanVideo's guidance is embedded."""
    return FAMILIES[card.family].guidance != "embedded" and card.sampler.guidance_scale > 1.0


def apply_guider_scale(pipe: Any, card: ModelCard) -> None:
    """A "guider" family's guidance scale is its guider's: the card's, whatever the guider built
    or loaded with (a hub folder's guider/config.json, a twin's default). The guider is enabled
    exactly when uses_negative_branch holds (scale > 1, every other pipeline's rule), so the
    negative branch it runs is always the card's negative prompt, encoded by the harness."""
    if FAMILIES[card.family].guidance == "guider":
        scale = float(card.sampler.guidance_scale)
        pipe.guider = pipe.guider.new(guidance_scale=scale, enabled=uses_negative_branch(card))


@contextmanager
def recording_guidance(pipe: Any, family: str) -> Iterator[tuple[dict[str, Any], list[float]]]:
    """(call keywords, scales): the guidance scale applied at each step, recorded while the
    pipeline runs. Pipelines with a step callback report theirs (CogVideoX's dynamic CFG
    changes it per step); a guider family's guider is watched as it combines the branches
    (1.0 where it ran the conditional branch only)."""
    applied: list[float] = []
    if FAMILIES[family].guidance != "guider":

        def on_step_end(pipeline: Any, step: int, timestep: Any, tensors: dict) -> dict:
            applied.append(float(pipeline.guidance_scale))
            return {}

        yield {"callback_on_step_end": on_step_end}, applied
        return
    guider = pipe.guider
    combine = guider.forward

    def forward(*args: Any, **kwargs: Any) -> Any:
        applied.append(float(guider.guidance_scale) if guider.num_conditions > 1 else 1.0)
        return combine(*args, **kwargs)

    guider.forward = forward
    try:
        yield {}, applied
    finally:
        del guider.forward  # the class's own again


#: LTX-2's guidance passes beyond CFG, each one more (conditional-only) transformer call per step:
#: name -> (video scale, audio scale, the value at and below which it is off)
_LTX2_EXTRA_PASSES = {
    "spatio-temporal guidance": ("stg_scale", "audio_stg_scale", 0.0),
    "modality isolation guidance": ("modality_scale", "audio_modality_scale", 1.0),
}


def extra_guidance_passes(card: ModelCard) -> list[str]:
    """The guidance passes beyond CFG a card's pipeline runs each step (LTX-2's, when on), as
    LTX2Pipeline decides: the card's pipeline_kwargs over its `__call__` defaults, an audio scale
    of 0 falling back to the video one. Empty for every other family."""
    if card.family != "ltx2":
        return []
    import inspect

    import diffusers

    pipeline = getattr(diffusers, card.pipeline or FAMILIES[card.family].pipeline)
    defaults = {
        name: p.default for name, p in inspect.signature(pipeline.__call__).parameters.items()
    }
    given = dict(card.sampler.pipeline_kwargs)
    passes = []
    for name, (video_key, audio_key, off) in _LTX2_EXTRA_PASSES.items():
        video = float(given.get(video_key, defaults[video_key]))
        audio = float(given.get(audio_key, defaults[audio_key]) or video)
        if video > off or audio > off:
            passes.append(name)
    return passes


def call_kwargs(card: ModelCard, max_length: int) -> dict[str, Any]:
    """Everything the pipeline call takes besides the embeddings, generator and callback."""
    s = card.sampler
    kwargs: dict[str, Any] = dict(
        num_frames=s.num_frames,
        height=s.height,
        width=s.width,
        num_inference_steps=s.num_inference_steps,
        output_type="np",
    )
    if FAMILIES[card.family].guidance != "guider":  # see the module docstring
        kwargs.update(guidance_scale=s.guidance_scale, max_sequence_length=max_length)
    if card.family in ("cogvideox", "cogvideox1.5"):
        kwargs["use_dynamic_cfg"] = s.use_dynamic_cfg
    if s.guidance_scale_2 is not None:
        kwargs["guidance_scale_2"] = s.guidance_scale_2
    if FAMILIES[card.family].passes_frame_rate:
        kwargs["frame_rate"] = s.fps
    if "audio_guidance_scale" in FAMILIES[card.family].harness_kwargs:
        # LTX-2 guides its audio too and runs the negative branch when either scale is > 1
        kwargs["audio_guidance_scale"] = s.guidance_scale
    kwargs.update(dict(s.pipeline_kwargs))
    return kwargs
