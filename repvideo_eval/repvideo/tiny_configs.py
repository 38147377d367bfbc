"""Tiny transformer configs for every family RepVideo supports, for CPU tests and demos.

Dimensions are tiny but the structure is the real one: 13 blocks in the RepVideo loop (two full 6-block cache
windows plus one block of a third), the real position-embedding kind of each family (sin-cos
table for CogVideoX 2B, rotary for 5B and 1.5, temporal patching for 1.5, Wan's own rotary
embedding), and an attention head size the rotary embeddings can split.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

TINY_LAYERS = 13

_COGVIDEOX_COMMON: dict[str, Any] = {
    "num_attention_heads": 2,
    "attention_head_dim": 16,
    "in_channels": 4,
    "out_channels": 4,
    "time_embed_dim": 8,
    "text_embed_dim": 16,
    "num_layers": TINY_LAYERS,
    "sample_width": 8,
    "sample_height": 8,
    "sample_frames": 9,  # 3 latent frames, see diffusers' note on sample_frames
    "patch_size": 2,
    "temporal_compression_ratio": 4,
    "max_text_seq_length": 8,
}

#: The tiny LTX-Video transformer, and LTX-2's video stream.
_LTX_VIDEO_STREAM: dict[str, Any] = {
    "in_channels": 8,
    "out_channels": 8,
    "patch_size": 1,
    "patch_size_t": 1,
    "num_attention_heads": 2,
    "attention_head_dim": 8,
    "cross_attention_dim": 16,
    "num_layers": TINY_LAYERS,
    "caption_channels": 16,
}

TINY_CONFIGS: dict[str, dict[str, Any]] = {
    # CogVideoX-2B: fixed 3D sin-cos position table added in patch_embed.
    "cogvideox-2b": dict(_COGVIDEOX_COMMON),
    # CogVideoX-5B: rotary embeddings passed in as image_rotary_emb, no position table.
    "cogvideox-5b": dict(_COGVIDEOX_COMMON, use_rotary_positional_embeddings=True),
    # CogVideoX 1.5: rotary embeddings, time patched by 2, no patch bias.
    "cogvideox-1.5": dict(
        _COGVIDEOX_COMMON,
        use_rotary_positional_embeddings=True,
        patch_size_t=2,
        patch_bias=False,
        sample_frames=13,
    ),
    # CogVideoX 1.5 image-to-video: image latents concatenated on channels, an "ofs" embedding.
    "cogvideox-1.5-i2v": dict(
        _COGVIDEOX_COMMON,
        in_channels=8,
        use_rotary_positional_embeddings=True,
        patch_size_t=2,
        patch_bias=False,
        sample_frames=13,
        ofs_embed_dim=8,
    ),
    # Wan 2.1: cross-attention to text, rotary embedding computed inside the model.
    "wan-2.1": {
        "patch_size": (1, 2, 2),
        "num_attention_heads": 2,
        "attention_head_dim": 12,
        "in_channels": 4,
        "out_channels": 4,
        "text_dim": 16,
        "freq_dim": 32,
        "ffn_dim": 32,
        "num_layers": TINY_LAYERS,
        "cross_attn_norm": True,
        "qk_norm": "rms_norm_across_heads",
        "rope_max_seq_len": 32,
    },
    # HunyuanVideo: 5 dual-stream blocks then 8 single-stream blocks (13 in the loop; the
    # transition falls inside the first cache window), rotary axes summing to the head size.
    "hunyuanvideo": {
        "in_channels": 4,
        "out_channels": 4,
        "num_attention_heads": 2,
        "attention_head_dim": 12,
        "num_layers": 5,
        "num_single_layers": TINY_LAYERS - 5,
        "num_refiner_layers": 1,
        "patch_size": 2,
        "patch_size_t": 1,
        "guidance_embeds": True,
        "text_embed_dim": 16,
        "pooled_projection_dim": 8,
        "rope_axes_dim": (4, 4, 4),
    },
    # HunyuanVideo 1.5 text-to-video: dual-stream blocks only, three condition sources (Qwen,
    # ByT5, image) joined into one condition stream.
    "hunyuanvideo1.5": {
        "in_channels": 9,  # latents 4 + image condition 4 + mask 1, as the real 32 + 32 + 1
        "out_channels": 4,
        "num_attention_heads": 2,
        "attention_head_dim": 12,
        "num_layers": TINY_LAYERS,
        "num_refiner_layers": 1,
        "patch_size": 1,
        "patch_size_t": 1,
        "text_embed_dim": 16,
        "text_embed_2_dim": 8,
        "image_embed_dim": 8,
        "rope_axes_dim": (4, 4, 4),
        "task_type": "t2v",
    },
    # LTX-Video: packed token input, video self-attention plus cross-attention to the caption.
    "ltx": dict(_LTX_VIDEO_STREAM),
    # LTX-2: video (width 16) and audio (width 8) streams with cross-modal attention in every
    # block; each stream cross-attends to its own projection of the caption.
    # The video stream is LTX-Video's (its cross_attention_dim = the video width, as 4096 in
    # the real model).
    "ltx2": {
        **_LTX_VIDEO_STREAM,
        "audio_in_channels": 4,
        "audio_out_channels": 4,
        "audio_num_attention_heads": 2,
        "audio_attention_head_dim": 4,
        "audio_cross_attention_dim": 8,  # = the audio width, as 2048 in the real model
    },
    # Mochi: dual stream with asymmetric widths (video 16, text 12); last block context_pre_only.
    "mochi": {
        "patch_size": 2,
        "num_attention_heads": 2,
        "attention_head_dim": 8,
        "num_layers": TINY_LAYERS,
        "pooled_projection_dim": 12,
        "in_channels": 4,
        "qk_norm": "rms_norm",
        "text_embed_dim": 16,
        "time_embed_dim": 4,
        "activation_fn": "swiglu",
        "max_sequence_length": 8,
    },
}
# Wan 2.2 TI2V-5B: the Wan class again; its pipeline passes one timestep per token (2-D).
TINY_CONFIGS["wan-2.2-ti2v"] = dict(TINY_CONFIGS["wan-2.1"])

#: tiny name -> stock diffusers class name (see adapters.ADAPTERS)
TINY_CLASSES: dict[str, str] = {
    "cogvideox-2b": "CogVideoXTransformer3DModel",
    "cogvideox-5b": "CogVideoXTransformer3DModel",
    "cogvideox-1.5": "CogVideoXTransformer3DModel",
    "cogvideox-1.5-i2v": "CogVideoXTransformer3DModel",
    "wan-2.1": "WanTransformer3DModel",
    "wan-2.2-ti2v": "WanTransformer3DModel",
    "hunyuanvideo": "HunyuanVideoTransformer3DModel",
    "hunyuanvideo1.5": "HunyuanVideo15Transformer3DModel",
    "ltx": "LTXVideoTransformer3DModel",
    "ltx2": "LTX2VideoTransformer3DModel",
    "mochi": "MochiTransformer3DModel",
}

# latent frames, height, width and text length of the tiny inputs per family
_INPUT_SHAPES: dict[str, tuple[int, int, int, int]] = {
    "cogvideox-2b": (3, 8, 8, 8),
    "cogvideox-5b": (3, 8, 8, 8),
    "cogvideox-1.5": (4, 8, 8, 8),
    "cogvideox-1.5-i2v": (4, 8, 8, 8),
    "wan-2.1": (3, 8, 8, 8),
    "wan-2.2-ti2v": (3, 8, 8, 8),
    "hunyuanvideo": (3, 8, 8, 8),
    "hunyuanvideo1.5": (3, 4, 4, 8),
    "ltx": (3, 4, 4, 8),
    "ltx2": (3, 4, 4, 8),
    "mochi": (3, 8, 8, 8),
}


def tiny_names() -> list[str]:
    """Names accepted by build_tiny_transformer and tiny_inputs."""
    return sorted(TINY_CONFIGS)


def build_tiny_transformer(
    name: str, seed: int = 0, dtype: torch.dtype = torch.float32
) -> torch.nn.Module:
    """A stock diffusers transformer of the named family with seeded random weights."""
    import diffusers

    if name not in TINY_CONFIGS:
        raise KeyError(f"unknown tiny transformer {name!r}; known: {', '.join(tiny_names())}")
    cls = getattr(diffusers, TINY_CLASSES[name])
    torch.manual_seed(seed)
    model = cls(**TINY_CONFIGS[name]).eval()
    return model if dtype == torch.float32 else model.to(dtype)


def _cogvideox_rotary(
    config: dict[str, Any], frames: int, height: int, width: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Rotary (cos, sin) tables as diffusers' CogVideoX pipelines build them for a latent size."""
    from diffusers.models.embeddings import get_3d_rotary_pos_embed

    p = config["patch_size"]
    grid = (height // p, width // p)
    p_t = config.get("patch_size_t")
    if p_t is None:
        return get_3d_rotary_pos_embed(
            embed_dim=config["attention_head_dim"],
            crops_coords=((0, 0), grid),
            grid_size=grid,
            temporal_size=frames,
        )
    return get_3d_rotary_pos_embed(
        embed_dim=config["attention_head_dim"],
        crops_coords=None,
        grid_size=grid,
        temporal_size=(frames + p_t - 1) // p_t,
        grid_type="slice",
        max_size=(config["sample_height"] // p, config["sample_width"] // p),
    )


def tiny_inputs(
    name: str, batch_size: int = 2, seed: int = 0, dtype: torch.dtype = torch.float32
) -> dict[str, Any]:
    """Seeded forward() keyword arguments for the named tiny transformer."""
    frames, height, width, text_len = _INPUT_SHAPES[name]
    draw = _Draw(
        TINY_CONFIGS[name],
        frames,
        height,
        width,
        text_len,
        batch_size,
        torch.Generator().manual_seed(seed),
        dtype,
    )
    if name in _OTHER_INPUTS:
        return _OTHER_INPUTS[name](draw)
    timestep = _timesteps(batch_size).long()
    if name.startswith("wan"):
        return _wan_inputs(draw, timestep)
    config = draw.config
    inputs: dict[str, Any] = {
        "hidden_states": draw.randn(frames, config["in_channels"], height, width),
        "encoder_hidden_states": draw.text("text_embed_dim"),
        "timestep": timestep,
    }
    if config.get("use_rotary_positional_embeddings"):
        inputs["image_rotary_emb"] = _cogvideox_rotary(config, frames, height, width)
    if config.get("ofs_embed_dim"):
        inputs["ofs"] = torch.full((batch_size,), 2.0)
    return inputs


def _timesteps(batch_size: int) -> torch.Tensor:
    return torch.tensor([999.0, 500.0, 250.0, 1.0][:batch_size] + [10.0] * max(0, batch_size - 4))


@dataclass(frozen=True)
class _Draw:
    """One request for tiny inputs: the sizes, the seeded generator (drawn from in key order) and
    the dtype, so every family's builder draws its tensors the same way."""

    config: dict[str, Any]
    frames: int
    height: int
    width: int
    text_len: int
    batch_size: int
    gen: torch.Generator
    dtype: torch.dtype

    def randn(self, *shape: int) -> torch.Tensor:
        """Seeded normal noise of (batch_size, *shape)."""
        return torch.randn(self.batch_size, *shape, generator=self.gen, dtype=self.dtype)

    def video(self) -> torch.Tensor:
        """Latents laid out (batch, channels, frames, height, width)."""
        return self.randn(self.config["in_channels"], self.frames, self.height, self.width)

    def text(self, width_key: str) -> torch.Tensor:
        """Text embeddings whose width is the config's `width_key`."""
        return self.randn(self.text_len, self.config[width_key])

    def timesteps(self) -> torch.Tensor:
        return _timesteps(self.batch_size).to(self.dtype)

    def text_mask(self) -> torch.Tensor:
        """A padding mask whose last row is shorter, so padded text tokens are exercised."""
        mask = torch.ones(self.batch_size, self.text_len, dtype=torch.long)
        mask[-1, self.text_len // 2 :] = 0
        return mask


def _wan_inputs(draw: _Draw, timestep: torch.Tensor) -> dict[str, Any]:
    return {
        "hidden_states": draw.video(),
        "encoder_hidden_states": draw.text("text_dim"),
        "timestep": timestep,
    }


def _wan22_inputs(draw: _Draw) -> dict[str, Any]:
    """Wan 2.2 TI2V: one timestep per latent token (the first frame's tokens at 0, as after I2V)."""
    p_t, p_h, p_w = draw.config["patch_size"]
    per_frame = (draw.height // p_h) * (draw.width // p_w)
    steps = _timesteps(draw.batch_size)[:, None].repeat(1, draw.frames // p_t * per_frame)
    steps[:, :per_frame] = 0.0
    return _wan_inputs(draw, steps)


def _hunyuan_inputs(draw: _Draw) -> dict[str, Any]:
    return {
        "hidden_states": draw.video(),
        "timestep": draw.timesteps(),
        "encoder_hidden_states": draw.text("text_embed_dim"),
        "encoder_attention_mask": draw.text_mask(),
        "pooled_projections": draw.randn(draw.config["pooled_projection_dim"]),
        "guidance": torch.full((draw.batch_size,), 6000.0, dtype=draw.dtype),
    }


def _hunyuan15_inputs(draw: _Draw) -> dict[str, Any]:
    byt5_len, image_len = 4, 2
    byt5_mask = torch.ones(draw.batch_size, byt5_len, dtype=torch.long)
    byt5_mask[0, 1:] = 0
    return {
        "hidden_states": draw.video(),
        "timestep": draw.timesteps(),
        "encoder_hidden_states": draw.text("text_embed_dim"),
        "encoder_attention_mask": draw.text_mask(),
        "encoder_hidden_states_2": draw.randn(byt5_len, draw.config["text_embed_2_dim"]),
        "encoder_attention_mask_2": byt5_mask,
        # all zeros: text-to-video (the stock forward then masks the image tokens out)
        "image_embeds": torch.zeros(
            draw.batch_size, image_len, draw.config["image_embed_dim"], dtype=draw.dtype
        ),
    }


def _ltx_inputs(draw: _Draw) -> dict[str, Any]:
    tokens = draw.frames * draw.height * draw.width
    return {
        "hidden_states": draw.randn(tokens, draw.config["in_channels"]),
        "encoder_hidden_states": draw.text("caption_channels"),
        "timestep": draw.timesteps()[:, None],
        "encoder_attention_mask": draw.text_mask(),
        "num_frames": draw.frames,
        "height": draw.height,
        "width": draw.width,
        "rope_interpolation_scale": (8 / 25, 32, 32),
    }


def _ltx2_inputs(draw: _Draw) -> dict[str, Any]:
    """Packed video tokens, 5 audio latent frames, one timestep per video token (as the pipeline)."""
    tokens = draw.frames * draw.height * draw.width
    audio_frames = 5
    return {
        "hidden_states": draw.randn(tokens, draw.config["in_channels"]),
        "audio_hidden_states": draw.randn(audio_frames, draw.config["audio_in_channels"]),
        "encoder_hidden_states": draw.text("caption_channels"),
        "audio_encoder_hidden_states": draw.text("caption_channels"),
        "timestep": draw.timesteps()[:, None].repeat(1, tokens),
        "audio_timestep": draw.timesteps(),
        "encoder_attention_mask": draw.text_mask(),
        "audio_encoder_attention_mask": draw.text_mask(),
        "num_frames": draw.frames,
        "height": draw.height,
        "width": draw.width,
        "fps": 24.0,
        "audio_num_frames": audio_frames,
    }


def _mochi_inputs(draw: _Draw) -> dict[str, Any]:
    return {
        "hidden_states": draw.video(),
        "encoder_hidden_states": draw.text("text_embed_dim"),
        "timestep": draw.timesteps(),
        "encoder_attention_mask": draw.text_mask(),
    }


_OTHER_INPUTS: dict[str, Callable[[_Draw], dict[str, Any]]] = {
    "wan-2.2-ti2v": _wan22_inputs,
    "hunyuanvideo": _hunyuan_inputs,
    "hunyuanvideo1.5": _hunyuan15_inputs,
    "ltx": _ltx_inputs,
    "ltx2": _ltx2_inputs,
    "mochi": _mochi_inputs,
}
