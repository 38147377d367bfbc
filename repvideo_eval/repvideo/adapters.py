"""Which diffusers transformer classes RepVideo can wrap, and the adapter for each.

This is the one lookup every caller uses: ``apply_repvideo`` dispatches through it, and cards ask
it "can this transformer be wrapped" before any weight loads (``check_wrappable``). It imports
neither torch nor diffusers, so a card check stays cheap; the adapter module loads on first use.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any

from repvideo_eval.errors import UserError


@dataclass(frozen=True)
class Adapter:
    """One family's adapter: where its RepVideo subclass lives and what its loop mixes."""

    family: str
    module: str
    subclass: str
    #: streams mixed before each block, in the loop's order (see docs/repvideo.md)
    streams: tuple[str, ...]

    def load(self) -> Any:
        """The RepVideo subclass (imports torch, diffusers and the adapter module)."""
        return getattr(import_module(self.module), self.subclass)


_PACKAGE = "repvideo_eval.repvideo"

#: stock diffusers class name -> its adapter
ADAPTERS: dict[str, Adapter] = {
    "CogVideoXTransformer3DModel": Adapter(
        "cogvideox",
        f"{_PACKAGE}.cogvideox",
        "RepVideoCogVideoXTransformer3DModel",
        ("video", "text"),
    ),
    "WanTransformer3DModel": Adapter(
        "wan", f"{_PACKAGE}.wan", "RepVideoWanTransformer3DModel", ("video",)
    ),
    "HunyuanVideoTransformer3DModel": Adapter(
        "hunyuanvideo",
        f"{_PACKAGE}.hunyuan_video",
        "RepVideoHunyuanVideoTransformer3DModel",
        ("video", "text"),
    ),
    "HunyuanVideo15Transformer3DModel": Adapter(
        "hunyuanvideo1.5",
        f"{_PACKAGE}.hunyuan_video15",
        "RepVideoHunyuanVideo15Transformer3DModel",
        ("video", "text"),
    ),
    "LTXVideoTransformer3DModel": Adapter(
        "ltx", f"{_PACKAGE}.ltx", "RepVideoLTXVideoTransformer3DModel", ("video",)
    ),
    "LTX2VideoTransformer3DModel": Adapter(
        "ltx2",
        f"{_PACKAGE}.ltx2",
        "RepVideoLTX2VideoTransformer3DModel",
        ("video", "audio"),
    ),
    "MochiTransformer3DModel": Adapter(
        "mochi", f"{_PACKAGE}.mochi", "RepVideoMochiTransformer3DModel", ("video", "text")
    ),
}


def supported_classes() -> list[str]:
    """Names of the stock diffusers transformer classes RepVideo can wrap."""
    return sorted(ADAPTERS)


def _class_name(transformer_or_name: object) -> str:
    if isinstance(transformer_or_name, str):
        return transformer_or_name
    if isinstance(transformer_or_name, type):
        return transformer_or_name.__name__
    return type(transformer_or_name).__name__


def can_wrap(transformer_or_name: object) -> bool:
    """True when RepVideo has an adapter for this transformer (instance, class or class name)."""
    return _class_name(transformer_or_name) in ADAPTERS


def adapter_for(transformer_or_name: object) -> Adapter:
    """The adapter of a transformer (instance, class or class name); one-line UserError if none."""
    name = _class_name(transformer_or_name)
    if name not in ADAPTERS:
        raise UserError(
            f"RepVideo cannot wrap {name}: no adapter for this transformer class",
            f"Remove the card's repvideo block, or use a model whose transformer is one of "
            f"{', '.join(supported_classes())}.",
        )
    return ADAPTERS[name]
