"""Tiny transformer configs for every family RepVideo supports, for CPU tests and demos.

Dimensions are tiny but the structure is the real one: 13 blocks (two full 6-block cache
windows plus one block of a third), the real position-embedding kind of each family (sin-cos
table for CogVideoX 2B, rotary for 5B and 1.5, temporal patching for 1.5, Wan's own rotary
embedding), and an attention head size the rotary embeddings can split.
"""

from __future__ import annotations

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
}

# latent frames, height, width and text length of the tiny inputs per family
_INPUT_SHAPES: dict[str, tuple[int, int, int, int]] = {
    "cogvideox-2b": (3, 8, 8, 8),
    "cogvideox-5b": (3, 8, 8, 8),
    "cogvideox-1.5": (4, 8, 8, 8),
    "cogvideox-1.5-i2v": (4, 8, 8, 8),
    "wan-2.1": (3, 8, 8, 8),
}


def tiny_names() -> list[str]:
    """Names accepted by build_tiny_transformer and tiny_inputs."""
    return sorted(TINY_CONFIGS)


def build_tiny_transformer(
    name: str, seed: int = 0, dtype: torch.dtype = torch.float32
) -> torch.nn.Module:
    """A stock diffusers transformer of the named family with seeded random weights."""
    from diffusers import CogVideoXTransformer3DModel, WanTransformer3DModel

    if name not in TINY_CONFIGS:
        raise KeyError(f"unknown tiny transformer {name!r}; known: {', '.join(tiny_names())}")
    cls = WanTransformer3DModel if name.startswith("wan") else CogVideoXTransformer3DModel
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
    config = TINY_CONFIGS[name]
    frames, height, width, text_len = _INPUT_SHAPES[name]
    gen = torch.Generator().manual_seed(seed)
    timestep = torch.tensor([999, 500, 250, 1][:batch_size] + [10] * max(0, batch_size - 4))
    if name.startswith("wan"):
        return {
            "hidden_states": torch.randn(
                batch_size, config["in_channels"], frames, height, width, generator=gen, dtype=dtype
            ),
            "encoder_hidden_states": torch.randn(
                batch_size, text_len, config["text_dim"], generator=gen, dtype=dtype
            ),
            "timestep": timestep,
        }
    inputs: dict[str, Any] = {
        "hidden_states": torch.randn(
            batch_size, frames, config["in_channels"], height, width, generator=gen, dtype=dtype
        ),
        "encoder_hidden_states": torch.randn(
            batch_size, text_len, config["text_embed_dim"], generator=gen, dtype=dtype
        ),
        "timestep": timestep,
    }
    if config.get("use_rotary_positional_embeddings"):
        inputs["image_rotary_emb"] = _cogvideox_rotary(config, frames, height, width)
    if config.get("ofs_embed_dim"):
        inputs["ofs"] = torch.full((batch_size,), 2.0)
    return inputs
