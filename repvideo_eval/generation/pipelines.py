"""Build the diffusers pipeline a model card describes, real or tiny, with RepVideo applied.

The same function serves the tiny twins and the real models; only the component source differs.
Sampler parity lives here too: every card's sampler settings map onto the pipeline the same way, so
baseline and RepVideo differ only in the transformer.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from repvideo_eval.config import ModelCard
from repvideo_eval.errors import UserError
from repvideo_eval.families import FAMILIES
from repvideo_eval.generation.family_calls import (
    apply_guider_scale,
    call_kwargs,
    make_scheduler,
    recording_guidance,
    uses_negative_branch,
)
from repvideo_eval.generation.guidance import dynamic_cfg_schedule
from repvideo_eval.generation.prompt_cache import PromptEmbeddings
from repvideo_eval.generation.runtime_options import (
    apply_memory_options,
    apply_speed_options,
    attention_backend,
    check_offload_device,
    check_tiled_size,
    pipeline_weight_bytes,
    resolve_offload,
    runtime_record,
)

CONVERTED_MARKER = (
    "repvideo.safetensors"  # written by repvideo_eval.repvideo beside a converted transformer
)
TORCH_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def converted_weights_dir(repo: str) -> Path:
    root = Path(os.environ.get("REPVIDEO_EVAL_CACHE", Path.home() / ".cache" / "repvideo-eval"))
    return root / "converted" / repo.replace("/", "--")


def _apply_repvideo_settings(
    transformer: Any,
    card: ModelCard,
    learned_gates: torch.Tensor | None,
    attribute: str = "transformer",
) -> Any:
    """Turn `transformer` (the pipeline's `attribute`) into RepVideo per the card; learned gates
    come from the checkpoint, seeded ones from the card's gate_seed and `attribute`."""
    from repvideo_eval.repvideo import apply_repvideo, configure_repvideo, is_repvideo, set_gates
    from repvideo_eval.repvideo.gates import expert_gate_seed, seeded_gates

    settings = card.repvideo
    assert settings is not None
    if not is_repvideo(transformer):
        apply_repvideo(transformer, cache_window=settings.cache_window, gate_init=0.5)
    if settings.gates == "learned":
        if learned_gates is None:
            raise UserError(
                f"model card {card.name} asks for learned gates but its weights carry none",
                "Set repvideo.gates to 'fixed' (with gate_value), 'seeded' (with gate_seed) or "
                "'off' in the card.",
            )
        set_gates(transformer, learned_gates)
        gates: Any = "learned"
    elif settings.gates == "fixed":
        gates = float(settings.gate_value)  # type: ignore[arg-type]
    elif settings.gates == "seeded":
        count = int(transformer.repvideo_gates.numel())
        gates = seeded_gates(count, expert_gate_seed(int(settings.gate_seed or 0), attribute))
    else:
        gates = "off"
    return configure_repvideo(transformer, gates=gates, cache_window=settings.cache_window)


#: the seed offset between the stand-in learned gates of a pipeline's transformers (index 0 keeps
#: the card's seed, so single-transformer twins keep their gates and videos)
GATE_SEED_STRIDE = 10


def _apply_repvideo_to_pipeline(
    pipe: Any, card: ModelCard, learned_gates: Callable[[int, int], torch.Tensor | None]
) -> None:
    """Apply the card's RepVideo block to every denoising transformer of `pipe` (Wan 2.2 A14B has
    two). `learned_gates(index, count)` gives transformer `index`'s learned gates (its adapter
    decides `count`, one per block of its loop), or None when its weights carry none."""
    from repvideo_eval.repvideo import apply_repvideo, is_repvideo
    from repvideo_eval.repvideo.apply import named_pipeline_transformers

    settings = card.repvideo
    assert settings is not None
    for index, (attribute, module) in enumerate(named_pipeline_transformers(pipe)):
        transformer: Any = module  # a RepVideo model once apply_repvideo ran
        if not is_repvideo(transformer):
            apply_repvideo(transformer, cache_window=settings.cache_window, gate_init=0.5)
        count = int(transformer.repvideo_gates.numel())
        _apply_repvideo_settings(transformer, card, learned_gates(index, count), attribute)


def _pipeline_class(card: ModelCard) -> Any:
    import diffusers

    return getattr(diffusers, card.pipeline or FAMILIES[card.family].pipeline)


def _tiny_pipeline(card: ModelCard) -> Any:
    from repvideo_eval.generation.tiny import build_tiny_components, tiny_learned_gates
    from repvideo_eval.generation.tiny_families import build_family_components

    seed = int(card.tiny_seed or 0)
    overrides = {name: dict(fields) for name, fields in card.components}
    if card.family == "cogvideox" and not overrides:
        components = build_tiny_components(seed)
    else:
        components = build_family_components(card.family, seed, overrides)
    pipe = _pipeline_class(card)(**components)
    if card.repvideo is not None:
        _apply_repvideo_to_pipeline(
            pipe,
            card,
            lambda index, count: tiny_learned_gates(count, seed + GATE_SEED_STRIDE * index),
        )
    _offline_prompt_template(pipe, card)
    return pipe


def _offline_prompt_template(pipe: Any, card: ModelCard) -> None:
    """The prompt template of the offline tokenizers (tiny and random twins): HunyuanVideo's
    Llama one has no chat template, so the prompt goes in bare; HunyuanVideo 1.5's chat template
    (generation.tokenizer) has its own token count to crop before the user's text."""
    if card.family == "hunyuanvideo":
        pipe.repvideo_eval_prompt_template = {"template": "{}", "crop_start": 0}
    elif card.family == "hunyuanvideo1.5":
        from repvideo_eval.generation.tokenizer import tiny_chat_crop_start

        pipe.prompt_template_encode_start_idx = tiny_chat_crop_start(
            pipe.tokenizer, pipe.system_message
        )


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


def _offline_tokenizers(card: ModelCard, pipeline_class: Any, components: dict[str, Any]) -> None:
    """Fill the tokenizers a random twin's pipeline still lacks with its family's tiny twin's
    (their real vocabularies are not offline here; ids stay inside the full-size embeddings),
    and its guider (HunyuanVideo 1.5; its scale is set from the card in load_pipeline)."""
    import inspect

    from repvideo_eval.generation.tiny_families import build_family_components

    wanted = [
        name
        for name in inspect.signature(pipeline_class.__init__).parameters
        if (name.startswith("tokenizer") or name == "guider") and name not in components
    ]
    if wanted:
        tiny = build_family_components(card.family, 0, {})
        components.update({name: tiny[name] for name in wanted})


def _random_pipeline(card: ModelCard, device: str) -> tuple[Any, str]:
    """A full-size random twin, its weights made in the card's dtype on `device`, and the
    offload mode, decided before any weight exists (from a meta build's sizes). The pipeline
    class is the architecture file's (`_pipeline`), its arguments the file's `_pipeline_args` (what
    the hub repo's model_index.json holds: Wan 2.2's boundary_ratio, expand_timesteps) updated by
    the card's `components.pipeline` entries."""
    import diffusers

    from repvideo_eval.generation.random_twins import (
        architecture_configs,
        architecture_of,
        build_random_components,
        component_bytes,
        random_learned_gates,
    )

    architecture = architecture_of(card.hub_id)
    configs = architecture_configs(architecture)
    pipeline_class = getattr(diffusers, configs.get("_pipeline", "CogVideoXPipeline"))
    dtype = TORCH_DTYPES[card.dtype]
    sizes = None
    if card.memory.offload == "auto" and device.startswith("cuda"):
        sizes = component_bytes(architecture, dtype)
    offload = resolve_offload(card.memory, device, sizes)
    seed = int(card.random_seed or 0)
    components = build_random_components(
        architecture, seed, dtype, device, park_on=None if offload == "none" else "cpu"
    )
    _offline_tokenizers(card, pipeline_class, components)
    components.update(configs.get("_pipeline_args", {}))
    components.update(dict(dict(card.components).get("pipeline", {})))
    pipe = pipeline_class(**components)
    _offline_prompt_template(pipe, card)
    if card.repvideo is not None:
        _apply_repvideo_to_pipeline(
            pipe,
            card,
            lambda index, count: random_learned_gates(count, seed + GATE_SEED_STRIDE * index),
        )
    return pipe, offload


def _hub_components(card: ModelCard, dtype: torch.dtype) -> dict[str, Any]:
    """The card's `components:` overrides: diffusers models loaded from their subfolder with
    config overrides; `pipeline` entries are the pipeline's own arguments (boundary_ratio)."""
    from diffusers import AutoModel

    loaded: dict[str, Any] = {}
    for name, fields in card.components:
        if name == "pipeline":
            loaded.update(dict(fields))
        else:
            loaded[name] = AutoModel.from_pretrained(
                card.hub_id, subfolder=name, torch_dtype=dtype, **dict(fields)
            )
    return loaded


def _hub_pipeline(card: ModelCard) -> Any:
    from diffusers import AutoModel

    dtype = TORCH_DTYPES[card.dtype]
    overrides = dict(card.transformer_config)
    components = _hub_components(card, dtype)
    if overrides:
        components["transformer"] = _check_transformer_config(
            AutoModel.from_pretrained(  # the folder's own class: any family's transformer
                card.hub_id, subfolder="transformer", torch_dtype=dtype, **overrides
            ),
            card,
        )
    pipe = _pipeline_class(card).from_pretrained(card.hub_id, torch_dtype=dtype, **components)
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
        checkpoint_gates = learned  # the converted checkpoint's gates belong to `transformer`
        _apply_repvideo_to_pipeline(
            pipe, card, lambda index, count: checkpoint_gates if index == 0 else None
        )
    return pipe


def load_pipeline(card: ModelCard, device: str) -> Any:
    """The ready-to-sample pipeline for `card` on `device` (call preflight checks first).

    Tiny, random and hub cards differ only in where the components come from; scheduler,
    precision, memory and speed options are applied here to all of them alike. What was applied
    (`auto` resolved) is left in ``pipe.repvideo_eval_runtime`` for the sidecars.
    """
    check_offload_device(card.memory, device)  # before any weights are built
    offload: str | None = None
    if card.is_tiny:
        pipe = _tiny_pipeline(card)
    elif card.is_random:
        pipe, offload = _random_pipeline(card, device)
    else:
        pipe = _hub_pipeline(card)
    pipe.scheduler = make_scheduler(card.sampler, pipe.scheduler.config)
    apply_guider_scale(pipe, card)
    dtype = TORCH_DTYPES[card.dtype]
    if offload is None:  # loaded on the host: sizes are the real ones
        offload = resolve_offload(card.memory, device, pipeline_weight_bytes(pipe))
    if offload == "none":
        pipe.to(device=device, dtype=dtype)
    else:  # the offload hooks move each component to `device` when it runs
        pipe.to(dtype=dtype)
    apply_memory_options(pipe, card.memory, device, offload)
    if card.memory.vae_tiling:
        check_tiled_size(pipe.vae, card.sampler.height, card.sampler.width)
    apply_speed_options(pipe, card.speed)
    pipe.set_progress_bar_config(disable=True)
    pipe.repvideo_eval_runtime = runtime_record(card.memory, card.speed, offload)
    return pipe


def sample_video(
    pipe: Any,
    card: ModelCard,
    prompt: str,
    seed: int,
    embeddings: PromptEmbeddings | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """One video as float frames (T, H, W, 3) in [0, 1], plus what the sampler actually did.

    A pipeline that also returns audio (LTX-2) has it dropped; the record says so (``audio``).

    CogVideoX's official sampler's unconditional branch uses zeroed text embeddings (negative
    prompt ""); other families encode their negative prompt; `uncond` records which form was
    used. Noise comes from a CPU generator so a seed gives the same latents on every device.
    Pass the worker's `embeddings` so each prompt is encoded once.
    """
    s = card.sampler
    if embeddings is None:
        embeddings = PromptEmbeddings(pipe, s, family=card.family)
    do_cfg = uses_negative_branch(card)
    encoded = embeddings.conditional_kwargs(prompt)
    negative = embeddings.negative_kwargs(encoded) if do_cfg else {}
    generator = torch.Generator(device="cpu").manual_seed(int(seed))
    with (
        torch.inference_mode(),
        attention_backend(card.speed.attention),
        recording_guidance(pipe, card.family) as (recorder, applied),
    ):
        result = pipe(
            **encoded,
            **negative,
            **call_kwargs(card, embeddings.max_length),
            generator=generator,
            **recorder,
        )
    frames = np.asarray(result.frames[0], dtype=np.float32)
    timesteps = [float(t) for t in pipe.scheduler.timesteps]
    schedule = (
        dynamic_cfg_schedule(timesteps, s.num_inference_steps, s.guidance_scale, s.dynamic_cfg_exp)
        if s.use_dynamic_cfg
        else [s.guidance_scale] * len(timesteps)
    )
    info: dict[str, Any] = {
        "timesteps": timesteps,
        "guidance_schedule": schedule,
        "guidance_applied": applied,
        "uncond": embeddings.uncond_kind if do_cfg else "none",
    }
    audio = getattr(result, "audio", None)
    if audio is not None:  # LTX-2 generates a soundtrack; videos are written and scored silent
        info["audio"] = {"discarded": True, "shape": [int(n) for n in audio[0].shape]}
    return frames, info
