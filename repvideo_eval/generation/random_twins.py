"""Full-size random twins: the real architectures of every family with seeded random weights.

Speed and memory do not depend on weight values, so a model built from the public configs
(shipped as JSON facts in ``architectures/``, one file per model with the source of every
component) measures what the real one would. Modules are built on the meta device (no memory
at all), then every parameter is filled with seeded values created directly in the target dtype
on the target device: a 4.8 B-parameter T5-XXL in bf16 never exists as an fp32 copy on the host.

An architecture file holds one config per component (``transformer``, ``vae``, ``text_encoder``
and, where the model has them, ``transformer_2`` and ``text_encoder_2``) and ``scheduler``; the
keys starting with ``_`` say which class builds each component (``_classes``), where each config
comes from (``_sources``), the parameter count the config builds (``_parameters``, checked by a
test), the published size it matches (``_published``), the pipeline class (``_pipeline``) and,
where the hub repo's model_index.json sets them, the pipeline's arguments (``_pipeline_args``,
e.g. Wan 2.2 A14B's boundary_ratio; their source is ``_sources["_pipeline_args"]``).

Values: biases 0, one-dimensional weights (norm scales) 1, everything else normal with std
1/sqrt(fan_in), so activations stay finite in fp16 and bf16. Each parameter's generator is
seeded from the card's seed and the parameter's name, so the same seed gives the same weights
on the same device type whatever subset of blocks is built.
"""

from __future__ import annotations

import importlib
import json
import math
import zlib
from functools import cache
from importlib import resources
from typing import Any

import torch

from repvideo_eval.errors import UserError
from repvideo_eval.vocabulary import RANDOM_CARD_PREFIX

#: Module components in seed order (a component's seed is the card's seed + its index here).
COMPONENTS: tuple[str, ...] = (
    "transformer",
    "vae",
    "text_encoder",
    "transformer_2",
    "text_encoder_2",
    "connectors",  # LTX-2's text connectors, audio VAE and vocoder (appended: seeds unchanged)
    "audio_vae",
    "vocoder",
)
RANDOM_PREFIX = RANDOM_CARD_PREFIX
#: The classes of an architecture file without ``_classes`` (the CogVideoX layout).
DEFAULT_CLASSES = {
    "transformer": "diffusers.CogVideoXTransformer3DModel",
    "vae": "diffusers.AutoencoderKLCogVideoX",
    "text_encoder": "transformers.T5EncoderModel",
    "scheduler": "diffusers.CogVideoXDPMScheduler",
}


def _architecture_folder() -> Any:
    return resources.files("repvideo_eval.generation") / "architectures"


@cache
def architecture_names() -> tuple[str, ...]:
    """Every shipped architecture, by file name."""
    names = (p.name[: -len(".json")] for p in _architecture_folder().iterdir())
    return tuple(sorted(n for n in names if not n.startswith(".")))


@cache
def _architecture_json(name: str) -> str:
    return (_architecture_folder() / f"{name}.json").read_text(encoding="utf-8")


def architecture_configs(name: str) -> dict[str, Any]:
    """The public configs of `name` (components, scheduler and `_` facts), fresh copies."""
    if name not in architecture_names():
        raise UserError(
            f"unknown random-twin architecture {name!r}",
            f"Set weights to one of: {', '.join(RANDOM_PREFIX + a for a in architecture_names())}.",
        )
    return json.loads(_architecture_json(name))


def architecture_of(card_weights: str) -> str:
    """`random:cogvideox-2b` -> `cogvideox-2b` (the weights field of a random card)."""
    if not card_weights.startswith(RANDOM_PREFIX):
        raise UserError(
            f"a random card's weights must look like {RANDOM_PREFIX}<architecture>, "
            f"got {card_weights!r}",
            f"Use one of: {', '.join(RANDOM_PREFIX + a for a in architecture_names())}.",
        )
    name = card_weights[len(RANDOM_PREFIX) :]
    architecture_configs(name)  # a UserError for an unknown name
    return name


def module_components(configs: dict[str, Any]) -> tuple[str, ...]:
    """The module components an architecture has, in seed order."""
    return tuple(c for c in COMPONENTS if c in configs)


def component_class(configs: dict[str, Any], component: str) -> type:
    """The diffusers or transformers class named for `component` in the architecture file
    (`diffusers.X`, or a module inside the library for classes it does not export at the top,
    e.g. `diffusers.pipelines.ltx2.LTX2TextConnectors`)."""
    module, _, name = configs.get("_classes", DEFAULT_CLASSES)[component].rpartition(".")
    library = module.partition(".")[0]
    if library not in ("diffusers", "transformers"):
        raise ValueError(f"architecture classes come from diffusers or transformers, not {library}")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


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


def _build_empty(
    component: str, config: dict[str, Any], configs: dict[str, Any] | None = None
) -> torch.nn.Module:
    """`component` on the meta device (`configs`: the architecture file naming its class)."""
    from accelerate import init_empty_weights

    cls = component_class(configs or {}, component)
    with init_empty_weights(include_buffers=False):
        if cls.__module__.startswith("diffusers"):
            return cls.from_config(config)  # type: ignore[attr-defined,no-any-return]
        fields = {k: v for k, v in config.items() if k != "architectures"}
        model = cls(cls.config_class(**fields))  # type: ignore[attr-defined]
    # transformers ties shared embeddings (T5's encoder.embed_tokens = shared) when it loads a
    # checkpoint, not when it builds on the meta device: tie here, so counts and bytes are real.
    model.tie_weights()
    return model  # type: ignore[no-any-return]


def build_empty_component(
    architecture: str, component: str, overrides: dict[str, Any] | None = None
) -> torch.nn.Module:
    """One component of `architecture` on the meta device: no memory, real shapes."""
    configs = architecture_configs(architecture)
    return _build_empty(component, {**configs[component], **(overrides or {})}, configs)


def parameter_count(module: torch.nn.Module) -> int:
    """Parameters of `module`, tied ones once (as a checkpoint stores them)."""
    return sum(p.numel() for p in module.parameters())


def build_random_component(
    architecture: str,
    component: str,
    seed: int,
    dtype: torch.dtype,
    device: str,
    overrides: dict[str, Any] | None = None,
) -> torch.nn.Module:
    """One full-size component (`overrides` shrink depth for light tests, never width)."""
    empty = build_empty_component(architecture, component, overrides)
    # Each component gets its own seed stream, as the tiny twins do.
    offset = COMPONENTS.index(component)
    return materialize_seeded(empty, seed + offset, dtype, device)


def component_bytes(
    architecture: str, dtype: torch.dtype, overrides: dict[str, dict[str, Any]] | None = None
) -> dict[str, int]:
    """Bytes each module component's parameters will take in `dtype`, before any weight exists:
    the meta-build counts the file records (a test rebuilds them), or a meta build of a
    component with `overrides`."""
    overrides = overrides or {}
    configs = architecture_configs(architecture)
    itemsize = torch.empty((), dtype=dtype).element_size()
    sizes = {}
    for name in module_components(configs):
        if name in overrides or name not in configs.get("_parameters", {}):
            count = parameter_count(build_empty_component(architecture, name, overrides.get(name)))
        else:
            count = int(configs["_parameters"][name])
        sizes[name] = count * itemsize
    return sizes


def random_scheduler(architecture: str) -> Any:
    configs = architecture_configs(architecture)
    return component_class(configs, "scheduler").from_config(configs["scheduler"])  # type: ignore[attr-defined]


def build_random_components(
    architecture: str,
    seed: int,
    dtype: torch.dtype,
    device: str,
    overrides: dict[str, dict[str, Any]] | None = None,
    park_on: str | None = None,
) -> dict[str, Any]:
    """Components for the architecture's pipeline, weights made on `device` in `dtype` (then
    moved to `park_on`, if given). T5-family text encoders get the offline T5 tokenizer; the
    other tokenizers are the pipeline builder's (their vocabularies are not offline here)."""
    from repvideo_eval.generation.tokenizer import build_tiny_t5_tokenizer

    overrides = overrides or {}
    configs = architecture_configs(architecture)
    components: dict[str, Any] = {}
    for name in module_components(configs):
        module = build_random_component(
            architecture, name, seed, dtype, device, overrides.get(name)
        )
        # Offloaded pipelines keep weights on the host: made on the GPU (fast, seeded there),
        # parked one component at a time, so the GPU never holds more than the largest one.
        components[name] = module.to(park_on) if park_on else module
    if component_class(configs, "text_encoder").__name__ in ("T5EncoderModel", "UMT5EncoderModel"):
        components["tokenizer"] = build_tiny_t5_tokenizer()
    components["scheduler"] = random_scheduler(architecture)
    return components


def random_learned_gates(num_layers: int, seed: int) -> torch.Tensor:
    """Stand-in for a checkpoint's learned gates around the official init of 0.5 (as tiny twins)."""
    from repvideo_eval.generation.tiny import tiny_learned_gates

    return tiny_learned_gates(num_layers, seed)
