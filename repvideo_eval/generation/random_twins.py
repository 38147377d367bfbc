"""Full-size random twins: the real CogVideoX architectures with seeded random weights.

Speed and memory do not depend on weight values, so a model built from the public configs
(shipped as JSON facts in ``architectures/``) measures what the real one would. Modules are
built on the meta device (no memory at all), then every parameter is filled with seeded values
created directly in the target dtype on the target device: a 4.8 B-parameter T5-XXL in bf16
never exists as an fp32 copy on the host. Past this point the pipeline is the real cards' code.

Values: biases 0, one-dimensional weights (norm scales) 1, everything else normal with std
1/sqrt(fan_in), so activations stay finite in fp16 and bf16. Each parameter's generator is
seeded from the card's seed and the parameter's name, so the same seed gives the same weights
on the same device type whatever subset of blocks is built.
"""

from __future__ import annotations

import json
import math
import zlib
from functools import cache
from importlib import resources
from typing import Any

import torch

from repvideo_eval.errors import UserError
from repvideo_eval.vocabulary import RANDOM_CARD_PREFIX

ARCHITECTURES: tuple[str, ...] = ("cogvideox-2b", "cogvideox-5b")
COMPONENTS: tuple[str, ...] = ("transformer", "vae", "text_encoder")
RANDOM_PREFIX = RANDOM_CARD_PREFIX


@cache
def _architecture_json(name: str) -> str:
    source = resources.files("repvideo_eval.generation") / "architectures" / f"{name}.json"
    return source.read_text(encoding="utf-8")


def architecture_configs(name: str) -> dict[str, Any]:
    """The public configs of `name` (transformer, vae, text_encoder, scheduler), fresh copies."""
    if name not in ARCHITECTURES:
        raise UserError(
            f"unknown random-twin architecture {name!r}",
            f"Set weights to one of: {', '.join(RANDOM_PREFIX + a for a in ARCHITECTURES)}.",
        )
    return json.loads(_architecture_json(name))


def architecture_of(card_weights: str) -> str:
    """`random:cogvideox-2b` -> `cogvideox-2b` (the weights field of a random card)."""
    if not card_weights.startswith(RANDOM_PREFIX):
        raise UserError(
            f"a random card's weights must look like {RANDOM_PREFIX}<architecture>, "
            f"got {card_weights!r}",
            f"Use one of: {', '.join(RANDOM_PREFIX + a for a in ARCHITECTURES)}.",
        )
    name = card_weights[len(RANDOM_PREFIX) :]
    architecture_configs(name)  # a UserError for an unknown name
    return name


def _parameter_seed(seed: int, name: str) -> int:
    return (int(seed) * 1_000_003 + zlib.crc32(name.encode("utf-8"))) % (2**63 - 1)


def _fill(shape: torch.Size, name: str, seed: int, dtype: torch.dtype, device: str) -> torch.Tensor:
    if name.endswith("bias"):
        return torch.zeros(shape, dtype=dtype, device=device)
    if len(shape) == 1:
        return torch.ones(shape, dtype=dtype, device=device)
    fan_in = math.prod(shape[1:])
    generator = torch.Generator(device=device).manual_seed(_parameter_seed(seed, name))
    values = torch.empty(shape, dtype=dtype, device=device)
    return values.normal_(0.0, 1.0 / math.sqrt(fan_in), generator=generator)


def materialize_seeded(
    module: torch.nn.Module, seed: int, dtype: torch.dtype, device: str, prefix: str = ""
) -> torch.nn.Module:
    """Replace every meta parameter of `module` with seeded values made on `device` in `dtype`.

    Buffers (built for real, e.g. CogVideoX-2B's sin-cos position table) move to `device`; the
    pipeline casts them as it casts a loaded checkpoint's. `prefix` is the module's name in its
    model, so a submodule made alone gets the values it gets inside the whole model.
    """
    made: dict[int, torch.nn.Parameter] = {}  # tied parameters stay tied
    for module_name, owner in module.named_modules(prefix=prefix):
        for param_name, param in list(owner._parameters.items()):
            if param is None:
                continue
            if id(param) not in made:
                full_name = f"{module_name}.{param_name}" if module_name else param_name
                value = _fill(param.shape, full_name, seed, dtype, device)
                made[id(param)] = torch.nn.Parameter(value, requires_grad=False)
            owner._parameters[param_name] = made[id(param)]
        for buffer_name, buffer in list(owner._buffers.items()):
            if buffer is not None and buffer.device.type != "meta":
                owner._buffers[buffer_name] = buffer.to(device)
    leftover = [n for n, t in module.state_dict().items() if t.device.type == "meta"]
    if leftover:
        raise RuntimeError(f"random twin left tensors on the meta device: {leftover[:5]}")
    return module.eval()


def _build_empty(component: str, config: dict[str, Any]) -> torch.nn.Module:
    from accelerate import init_empty_weights

    with init_empty_weights(include_buffers=False):
        if component == "transformer":
            from diffusers import CogVideoXTransformer3DModel

            return CogVideoXTransformer3DModel.from_config(config)
        if component == "vae":
            from diffusers import AutoencoderKLCogVideoX

            return AutoencoderKLCogVideoX.from_config(config)
        from transformers import T5Config, T5EncoderModel

        fields = {k: v for k, v in config.items() if k != "architectures"}
        return T5EncoderModel(T5Config(**fields))


def build_random_component(
    architecture: str,
    component: str,
    seed: int,
    dtype: torch.dtype,
    device: str,
    overrides: dict[str, Any] | None = None,
) -> torch.nn.Module:
    """One full-size component (`overrides` shrink depth for light tests, never width)."""
    config = {**architecture_configs(architecture)[component], **(overrides or {})}
    # Each component gets its own seed stream, as the tiny twins do.
    offset = COMPONENTS.index(component)
    return materialize_seeded(_build_empty(component, config), seed + offset, dtype, device)


def component_bytes(
    architecture: str, dtype: torch.dtype, overrides: dict[str, dict[str, Any]] | None = None
) -> dict[str, int]:
    """Bytes each component's parameters will take in `dtype`, from a meta build (no memory)."""
    overrides = overrides or {}
    sizes: dict[str, int] = {}
    for name in COMPONENTS:
        config = {**architecture_configs(architecture)[name], **overrides.get(name, {})}
        module = _build_empty(name, config)
        count = sum(p.numel() for p in module.parameters())
        sizes[name] = count * torch.empty((), dtype=dtype).element_size()
    return sizes


def random_scheduler(architecture: str) -> Any:
    from diffusers import CogVideoXDPMScheduler

    return CogVideoXDPMScheduler.from_config(architecture_configs(architecture)["scheduler"])


def build_random_components(
    architecture: str,
    seed: int,
    dtype: torch.dtype,
    device: str,
    overrides: dict[str, dict[str, Any]] | None = None,
    park_on: str | None = None,
) -> dict[str, Any]:
    """Components for `CogVideoXPipeline(**components)`, weights made on `device` in `dtype`
    (then moved to `park_on`, if given)."""
    from repvideo_eval.generation.tokenizer import build_tiny_t5_tokenizer

    overrides = overrides or {}
    components: dict[str, Any] = {}
    for name in COMPONENTS:
        module = build_random_component(
            architecture, name, seed, dtype, device, overrides.get(name)
        )
        # Offloaded pipelines keep weights on the host: made on the GPU (fast, seeded there),
        # parked one component at a time, so the GPU never holds more than the largest one.
        components[name] = module.to(park_on) if park_on else module
    components["tokenizer"] = build_tiny_t5_tokenizer()
    components["scheduler"] = random_scheduler(architecture)
    return components


def random_learned_gates(num_layers: int, seed: int) -> torch.Tensor:
    """Stand-in for a checkpoint's learned gates around the official init of 0.5 (as tiny twins)."""
    from repvideo_eval.generation.tiny import tiny_learned_gates

    return tiny_learned_gates(num_layers, seed)
