"""Writes a tiny checkpoint in the official SAT layout (RepVideo / CogVideoX-2B), for tests.

The SAT side is written from the official model code's facts, independently of the converter:
fused q/k/v rows, 12 adaLN chunks (video shift/scale/gate for attention, then for the MLP, then
the same six for text), a zero-text + 3D sin-cos position table computed the SAT way (numpy,
float64, grid divided by the interpolation factor), and ``transformer.learnable_gating``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from repvideo_eval.repvideo.tiny_configs import TINY_CONFIGS

PREFIX = "model.diffusion_model."
#: The tiny 2B config as the SAT model would build it: layer norms with eps 1e-6.
TINY_SAT_CONFIG = dict(TINY_CONFIGS["cogvideox-2b"], norm_eps=1e-6)
#: What the converter cannot infer from shapes for the tiny model.
TINY_OVERRIDES = {
    key: TINY_SAT_CONFIG[key]
    for key in ("sample_width", "sample_height", "sample_frames", "max_text_seq_length")
}


def _sincos_1d(dim: int, pos: np.ndarray) -> np.ndarray:
    omega = 1.0 / 10000 ** (np.arange(dim // 2, dtype=np.float64) / (dim / 2.0))
    out = np.outer(pos.reshape(-1), omega)
    return np.concatenate([np.sin(out), np.cos(out)], axis=1)


def sat_pos_table(
    hidden: int, grid_h: int, grid_w: int, frames: int, text_len: int, interp: float = 1.875
) -> torch.Tensor:
    """SAT's Basic3DPositionEmbeddingMixin table: zeros for text, [temporal | spatial] sin-cos for video."""
    spatial_dim, temporal_dim = hidden // 4 * 3, hidden // 4
    w, h = np.meshgrid(
        np.arange(grid_w, dtype=np.float32) / interp, np.arange(grid_h, dtype=np.float32) / interp
    )
    spatial = np.concatenate(
        [_sincos_1d(spatial_dim // 2, w), _sincos_1d(spatial_dim // 2, h)], axis=1
    )
    temporal = _sincos_1d(temporal_dim, np.arange(frames, dtype=np.float32))
    video = np.concatenate(
        [
            np.repeat(temporal[:, None, :], grid_h * grid_w, axis=1),
            np.repeat(spatial[None], frames, axis=0),
        ],
        axis=-1,
    ).reshape(-1, hidden)
    table = torch.zeros(1, text_len + video.shape[0], hidden)
    table[0, text_len:] = torch.from_numpy(video).float()
    return table


def sat_state_from_diffusers(
    model: torch.nn.Module, gates: torch.Tensor
) -> dict[str, torch.Tensor]:
    """The SAT state dict holding the same weights as a stock diffusers CogVideoX model."""
    sd = {k: v.detach().clone() for k, v in model.state_dict().items()}
    cfg = model.config
    sat: dict[str, torch.Tensor] = {}
    for i in range(cfg.num_layers):
        b = f"transformer_blocks.{i}."
        layer = f"transformer.layers.{i}."
        for p in ("weight", "bias"):
            sat[f"{layer}input_layernorm.{p}"] = sd[f"{b}norm1.norm.{p}"]
            sat[f"{layer}post_attention_layernorm.{p}"] = sd[f"{b}norm2.norm.{p}"]
            sat[f"{layer}attention.query_key_value.{p}"] = torch.cat(
                [sd[f"{b}attn1.to_q.{p}"], sd[f"{b}attn1.to_k.{p}"], sd[f"{b}attn1.to_v.{p}"]]
            )
            sat[f"{layer}attention.dense.{p}"] = sd[f"{b}attn1.to_out.0.{p}"]
            sat[f"{layer}mlp.dense_h_to_4h.{p}"] = sd[f"{b}ff.net.0.proj.{p}"]
            sat[f"{layer}mlp.dense_4h_to_h.{p}"] = sd[f"{b}ff.net.2.{p}"]
            n1 = sd[f"{b}norm1.linear.{p}"].chunk(
                6
            )  # shift, scale, gate, text shift, text scale, text gate
            n2 = sd[f"{b}norm2.linear.{p}"].chunk(6)
            sat[f"mixins.adaln_layer.adaLN_modulations.{i}.1.{p}"] = torch.cat(
                [*n1[:3], *n2[:3], *n1[3:], *n2[3:]]
            )
            sat[f"mixins.adaln_layer.query_layernorm_list.{i}.{p}"] = sd[f"{b}attn1.norm_q.{p}"]
            sat[f"mixins.adaln_layer.key_layernorm_list.{i}.{p}"] = sd[f"{b}attn1.norm_k.{p}"]
    for p in ("weight", "bias"):
        sat[f"transformer.final_layernorm.{p}"] = sd[f"norm_final.{p}"]
        sat[f"mixins.patch_embed.proj.{p}"] = sd[f"patch_embed.proj.{p}"]
        sat[f"mixins.patch_embed.text_proj.{p}"] = sd[f"patch_embed.text_proj.{p}"]
        sat[f"time_embed.0.{p}"] = sd[f"time_embedding.linear_1.{p}"]
        sat[f"time_embed.2.{p}"] = sd[f"time_embedding.linear_2.{p}"]
        sat[f"mixins.final_layer.norm_final.{p}"] = sd[f"norm_out.norm.{p}"]
        sat[f"mixins.final_layer.linear.{p}"] = sd[f"proj_out.{p}"]
        sat[f"mixins.final_layer.adaLN_modulation.1.{p}"] = sd[f"norm_out.linear.{p}"]
    sat["transformer.learnable_gating"] = gates.clone()
    p = cfg.patch_size
    frames = (cfg.sample_frames - 1) // cfg.temporal_compression_ratio + 1
    sat["mixins.pos_embed.pos_embedding"] = sat_pos_table(
        cfg.num_attention_heads * cfg.attention_head_dim,
        cfg.sample_height // p,
        cfg.sample_width // p,
        frames,
        cfg.max_text_seq_length,
    )
    return {PREFIX + k: v for k, v in sat.items()}


def write_sat_checkpoint(
    folder: Path, state: dict[str, torch.Tensor], iteration: str = "1000", extra: dict | None = None
) -> Path:
    """Write ``latest`` and ``<iteration>/mp_rank_00_model_states.pt`` as SAT's save does."""
    (folder / iteration).mkdir(parents=True, exist_ok=True)
    (folder / "latest").write_text(iteration + "\n")
    payload = {
        "module": state,
        "iteration": int(iteration),
        "args": argparse.Namespace(num_layers=13, mode="finetune"),
    }
    payload.update(extra or {})
    path = folder / iteration / "mp_rank_00_model_states.pt"
    torch.save(payload, path)
    return path


def write_tiny_real_format_checkpoints(root: Path, **convert_overrides: object) -> dict[str, Path]:
    """The tiny baseline as a diffusers pipeline folder, the same transformer with seeded learned
    gates as a SAT checkpoint, and that checkpoint converted as on first use (`convert_overrides`
    go to the converter's config, e.g. norm_eps). Keys: pipeline, sat, converted."""
    from diffusers import CogVideoXPipeline

    from repvideo_eval.generation.tiny import (
        build_tiny_components,
        tiny_learned_gates,
        tiny_transformer_config,
    )
    from repvideo_eval.repvideo.sat_convert import convert_sat_checkpoint

    paths = {name: root / name for name in ("pipeline", "sat", "converted")}
    components = build_tiny_components(0)
    CogVideoXPipeline(**components).save_pretrained(paths["pipeline"])
    transformer = components["transformer"]
    gates = tiny_learned_gates(transformer.config.num_layers, 0)
    write_sat_checkpoint(paths["sat"], sat_state_from_diffusers(transformer, gates))
    config = tiny_transformer_config()
    shapes = ("sample_width", "sample_height", "sample_frames", "max_text_seq_length")
    overrides = {key: config[key] for key in shapes} | convert_overrides
    convert_sat_checkpoint(paths["sat"], paths["converted"], config_overrides=overrides)
    return paths
