"""What the probes need to know about each transformer family: blocks, token layout, attention.

Every family's video stream is frame-major (token ``n`` of frame ``f`` is row
``f * tokens_per_frame + n``): CogVideoX, Wan, HunyuanVideo (1.5) and Mochi flatten a patchified
``(C, F, H, W)`` grid, LTX-Video's pipeline packs its latents the same way. What differs:

- which blocks run, in order (HunyuanVideo: dual-stream, then single-stream blocks);
- the self-attention module of a block (``attn1``, or ``attn`` for HunyuanVideo);
- what that attention sees: ``[text | video]`` (CogVideoX), ``[video | text]`` (HunyuanVideo,
  HunyuanVideo 1.5, Mochi: joint attention), or video only (Wan, LTX-Video, LTX-2: the text
  enters through a separate cross-attention, which the frame statistics leave out; LTX-2's audio
  stream too, through its own audio-video cross-attention). The layout's
  ``text_len`` is the number of text tokens in that self-attention (0 for video-only).

The statistics always see the text first (``attention_stats`` expects that order); see
``attention_capture`` for how queries and keys are taken from the model's own computation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from repvideo_eval.analysis.layout import TokenLayout, cogvideox_layout
from repvideo_eval.errors import UserError

#: ``(config, forward args, forward kwargs) -> TokenLayout`` of one transformer call
LayoutFn = Callable[[Any, tuple[Any, ...], dict[str, Any]], TokenLayout]


def argument(args: tuple[Any, ...], kwargs: dict[str, Any], name: str, position: int) -> Any:
    """A forward argument passed either by keyword or by position."""
    if name in kwargs:
        return kwargs[name]
    return args[position] if len(args) > position else None


@dataclass(frozen=True)
class ProbeFamily:
    """How to read one family's transformer (see the module docstring)."""

    name: str
    block_lists: tuple[str, ...]
    self_attention: str
    #: "text_first", "video_first" or "video_only": the order inside the self-attention
    order: str
    #: names and positions of the forward's latent and text arguments
    latents_arg: tuple[str, int]
    layout: LayoutFn

    def blocks(self, transformer: Any) -> list[Any]:
        return [block for name in self.block_lists for block in getattr(transformer, name)]


def _frames_grid(
    latent_shape: tuple[int, ...], patch_t: int, patch_h: int, patch_w: int
) -> tuple[int, int, int]:
    """Token frames and grid of a (B, C, F, H, W) latent."""
    _, _, frames, height, width = latent_shape
    return frames // patch_t, height // patch_h, width // patch_w


def _cogvideox(config: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> TokenLayout:
    latents = argument(args, kwargs, "hidden_states", 0)
    text = argument(args, kwargs, "encoder_hidden_states", 1)
    return cogvideox_layout(config, tuple(latents.shape), text.shape[1])


def _wan(config: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> TokenLayout:
    latents = argument(args, kwargs, "hidden_states", 0)
    frames, grid_h, grid_w = _frames_grid(tuple(latents.shape), *config.patch_size)
    return TokenLayout(0, frames, grid_h, grid_w)


def _hunyuan(config: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> TokenLayout:
    latents = argument(args, kwargs, "hidden_states", 0)
    text = argument(args, kwargs, "encoder_hidden_states", 2)
    p = int(config.patch_size)
    frames, grid_h, grid_w = _frames_grid(tuple(latents.shape), int(config.patch_size_t), p, p)
    return TokenLayout(int(text.shape[1]), frames, grid_h, grid_w)


def _hunyuan15(config: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> TokenLayout:
    latents = argument(args, kwargs, "hidden_states", 0)
    text = argument(args, kwargs, "encoder_hidden_states", 2)
    text_2 = argument(args, kwargs, "encoder_hidden_states_2", 5)
    image = argument(args, kwargs, "image_embeds", 7)
    condition = sum(int(t.shape[1]) for t in (text, text_2, image) if t is not None)
    p = int(config.patch_size)
    frames, grid_h, grid_w = _frames_grid(tuple(latents.shape), int(config.patch_size_t), p, p)
    return TokenLayout(condition, frames, grid_h, grid_w)


def _packed_layout(
    config: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    first: int,
    model: str,
    pipeline: str,
) -> TokenLayout:
    """Packed latents (LTX-Video, LTX-2): the grid comes from num_frames, height and width,
    passed from position ``first`` on."""
    frames = argument(args, kwargs, "num_frames", first)
    height = argument(args, kwargs, "height", first + 1)
    width = argument(args, kwargs, "width", first + 2)
    if frames is None or height is None or width is None:
        raise UserError(
            f"{model} diagnostics need num_frames, height and width in the transformer call",
            f"Sample through diffusers' {pipeline}, which passes them.",
        )
    p, p_t = int(config.patch_size), int(config.patch_size_t)
    return TokenLayout(0, int(frames) // p_t, int(height) // p, int(width) // p)


def _ltx(config: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> TokenLayout:
    return _packed_layout(config, args, kwargs, 4, "LTX-Video", "LTXPipeline")


def _ltx2(config: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> TokenLayout:
    """LTX-2: the video stream only (its self-attention sees neither the text nor the audio)."""
    return _packed_layout(config, args, kwargs, 10, "LTX-2", "LTX2Pipeline")


def _mochi(config: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> TokenLayout:
    latents = argument(args, kwargs, "hidden_states", 0)
    text = argument(args, kwargs, "encoder_hidden_states", 1)
    p = int(config.patch_size)
    frames, grid_h, grid_w = _frames_grid(tuple(latents.shape), 1, p, p)
    return TokenLayout(int(text.shape[1]), frames, grid_h, grid_w)


_LATENTS = ("hidden_states", 0)

#: stock diffusers class name -> how to probe it
PROBE_FAMILIES: dict[str, ProbeFamily] = {
    "CogVideoXTransformer3DModel": ProbeFamily(
        "cogvideox", ("transformer_blocks",), "attn1", "text_first", _LATENTS, _cogvideox
    ),
    "WanTransformer3DModel": ProbeFamily("wan", ("blocks",), "attn1", "video_only", _LATENTS, _wan),
    "HunyuanVideoTransformer3DModel": ProbeFamily(
        "hunyuanvideo",
        ("transformer_blocks", "single_transformer_blocks"),
        "attn",
        "video_first",
        _LATENTS,
        _hunyuan,
    ),
    "HunyuanVideo15Transformer3DModel": ProbeFamily(
        "hunyuanvideo1.5", ("transformer_blocks",), "attn", "video_first", _LATENTS, _hunyuan15
    ),
    "LTXVideoTransformer3DModel": ProbeFamily(
        "ltx", ("transformer_blocks",), "attn1", "video_only", _LATENTS, _ltx
    ),
    "LTX2VideoTransformer3DModel": ProbeFamily(
        "ltx2", ("transformer_blocks",), "attn1", "video_only", _LATENTS, _ltx2
    ),
    "MochiTransformer3DModel": ProbeFamily(
        "mochi", ("transformer_blocks",), "attn1", "video_first", _LATENTS, _mochi
    ),
}


def probe_family(transformer: Any) -> ProbeFamily:
    """The probe description of a transformer (stock or RepVideo-wrapped); UserError if none."""
    for cls in type(transformer).__mro__:
        if cls.__name__ in PROBE_FAMILIES:
            return PROBE_FAMILIES[cls.__name__]
    raise UserError(
        f"representation diagnostics do not support {type(transformer).__name__}",
        f"Analyse a model whose transformer is one of {', '.join(sorted(PROBE_FAMILIES))}.",
    )
