"""Build the diffusers pipeline a model card describes, real or tiny, with RepVideo applied.

The same function serves the tiny twins and the real models; only the component source differs.
Sampler parity lives here too: every card's sampler settings map onto the pipeline the same way, so
baseline and RepVideo differ only in the transformer.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from repvideo_eval.config import ModelCard
from repvideo_eval.errors import UserError
from repvideo_eval.generation.guidance import dynamic_cfg_schedule

CONVERTED_MARKER = (
    "repvideo.safetensors"  # written by repvideo_eval.repvideo beside a converted transformer
)
TORCH_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def converted_weights_dir(repo: str) -> Path:
    root = Path(os.environ.get("REPVIDEO_EVAL_CACHE", Path.home() / ".cache" / "repvideo-eval"))
    return root / "converted" / repo.replace("/", "--")


def _make_scheduler(name: str, config: Any) -> Any:
    from diffusers import CogVideoXDDIMScheduler, CogVideoXDPMScheduler

    if name == "dpm++2m":
        return CogVideoXDPMScheduler.from_config(config)
    return CogVideoXDDIMScheduler.from_config(config)


def _apply_repvideo_settings(
    transformer: Any, card: ModelCard, learned_gates: torch.Tensor | None
) -> Any:
    """Turn `transformer` into RepVideo per the card; learned gates come from the checkpoint."""
    from repvideo_eval.repvideo import apply_repvideo, configure_repvideo, is_repvideo, set_gates

    settings = card.repvideo
    assert settings is not None
    if not is_repvideo(transformer):
        apply_repvideo(transformer, cache_window=settings.cache_window, gate_init=0.5)
    if settings.gates == "learned":
        if learned_gates is None:
            raise UserError(
                f"model card {card.name} asks for learned gates but its weights carry none",
                "Set repvideo.gates to 'fixed' (with gate_value) or 'off' in the card.",
            )
        set_gates(transformer, learned_gates)
        gates: Any = "learned"
    elif settings.gates == "fixed":
        gates = float(settings.gate_value)  # type: ignore[arg-type]
    else:
        gates = "off"
    return configure_repvideo(transformer, gates=gates, cache_window=settings.cache_window)


def _tiny_pipeline(card: ModelCard) -> Any:
    from diffusers import CogVideoXPipeline

    from repvideo_eval.generation.tiny import build_tiny_components, tiny_learned_gates

    if card.family != "cogvideox":
        raise UserError(
            f"no tiny pipeline for family {card.family!r} yet", "Use a cogvideox tiny card."
        )
    components = build_tiny_components(int(card.tiny_seed or 0))
    transformer = components["transformer"]
    if card.repvideo is not None:
        learned = tiny_learned_gates(transformer.config.num_layers, int(card.tiny_seed or 0))
        _apply_repvideo_settings(transformer, card, learned)
    return CogVideoXPipeline(**components)


def _check_transformer_config(transformer: Any, card: ModelCard) -> Any:
    """Fail on an override the transformer's config does not hold (diffusers drops those)."""
    for key, value in card.transformer_config:
        if key not in transformer.config or transformer.config[key] != value:
            raise UserError(
                f"model card {card.name}: transformer_config.{key} is not a field of "
                f"{type(transformer).__name__}'s config",
                f"Use fields of its config.json: {', '.join(sorted(transformer.config))}.",
            )
    return transformer


def _hub_pipeline(card: ModelCard) -> Any:
    from diffusers import CogVideoXPipeline, CogVideoXTransformer3DModel

    dtype = TORCH_DTYPES[card.dtype]
    overrides = dict(card.transformer_config)
    components = {}
    if overrides:
        components["transformer"] = _check_transformer_config(
            CogVideoXTransformer3DModel.from_pretrained(
                card.hub_id, subfolder="transformer", torch_dtype=dtype, **overrides
            ),
            card,
        )
    pipe = CogVideoXPipeline.from_pretrained(card.hub_id, torch_dtype=dtype, **components)
    if card.repvideo is not None:
        learned = None
        if card.transformer_weights:
            from huggingface_hub import snapshot_download

            from repvideo_eval.repvideo import ensure_converted, load_repvideo

            source = Path(card.transformer_weights).expanduser()
            if (source / CONVERTED_MARKER).is_file():  # an already converted diffusers folder
                out_dir = source
            else:  # the SAT checkpoint (local folder or Hub repo), converted once and cached
                sat_dir = (
                    source if source.is_dir() else Path(snapshot_download(card.transformer_weights))
                )
                out_dir = ensure_converted(sat_dir, converted_weights_dir(card.transformer_weights))
            pipe.transformer = _check_transformer_config(
                load_repvideo(out_dir, torch_dtype=dtype, config_overrides=overrides), card
            )
            learned = pipe.transformer.repvideo_gates.detach().clone()
        _apply_repvideo_settings(pipe.transformer, card, learned)
    return pipe


def load_pipeline(card: ModelCard, device: str) -> Any:
    """The ready-to-sample pipeline for `card` on `device` (call preflight checks first)."""
    pipe = _tiny_pipeline(card) if card.is_tiny else _hub_pipeline(card)
    pipe.scheduler = _make_scheduler(card.sampler.scheduler, pipe.scheduler.config)
    dtype = TORCH_DTYPES[card.dtype]
    pipe.to(device=device, dtype=dtype)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def sample_video(
    pipe: Any, card: ModelCard, prompt: str, seed: int
) -> tuple[np.ndarray, dict[str, Any]]:
    """One video as float frames (T, H, W, 3) in [0, 1], plus what the sampler actually did.

    The official sampler's unconditional branch uses zeroed text embeddings (negative prompt "");
    `uncond` records which form was used. Noise comes from a CPU generator so a seed gives the same
    latents on every device.
    """
    s = card.sampler
    max_len = int(pipe.transformer.config.max_text_seq_length)
    do_cfg = s.guidance_scale > 1.0
    prompt_embeds, negative_embeds = pipe.encode_prompt(
        prompt=prompt,
        negative_prompt=s.negative_prompt,
        do_classifier_free_guidance=do_cfg,
        max_sequence_length=max_len,
        device=pipe._execution_device,
    )
    if do_cfg and s.negative_prompt == "":
        negative_embeds = torch.zeros_like(prompt_embeds)
    generator = torch.Generator(device="cpu").manual_seed(int(seed))
    applied: list[float] = []

    def record_guidance(
        pipeline: Any, step: int, timestep: Any, tensors: dict[str, Any]
    ) -> dict[str, Any]:
        applied.append(float(pipeline.guidance_scale))
        return {}

    with torch.inference_mode():
        result = pipe(
            prompt_embeds=prompt_embeds,
            negative_prompt_embeds=negative_embeds if do_cfg else None,
            num_frames=s.num_frames,
            height=s.height,
            width=s.width,
            num_inference_steps=s.num_inference_steps,
            guidance_scale=s.guidance_scale,
            use_dynamic_cfg=s.use_dynamic_cfg,
            generator=generator,
            output_type="np",
            max_sequence_length=max_len,
            callback_on_step_end=record_guidance,
        )
    frames = np.asarray(result.frames[0], dtype=np.float32)
    timesteps = [float(t) for t in pipe.scheduler.timesteps]
    schedule = (
        dynamic_cfg_schedule(timesteps, s.num_inference_steps, s.guidance_scale, s.dynamic_cfg_exp)
        if s.use_dynamic_cfg
        else [s.guidance_scale] * len(timesteps)
    )
    info = {
        "timesteps": timesteps,
        "guidance_schedule": schedule,
        "guidance_applied": applied,
        "uncond": "zero-embeddings" if do_cfg and s.negative_prompt == "" else "negative-prompt",
    }
    return frames, info
