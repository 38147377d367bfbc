"""GRiT's architecture constants: one frozen dataclass, GRiT-B's values as defaults.

The values are vbench 0.1.5's `GRiT_B_DenseCap_ObjectDet.yaml` on `Base.yaml` with vbench's
overrides (score threshold 0.5, beam 1, soft-NMS off). `tiny()` is for the offline demo
(`--scoring-weights tiny-random`): smaller widths and depths, and tighter caps on detections per frame
and tokens per caption so random weights stay fast; the rules of the inference path stay.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class GritConfig:
    # ViT backbone (ViTDet-style, MAE-initialised ViT-B/16 in GRiT-B)
    patch_size: int = 16
    embed_dim: int = 768
    depth: int = 12
    num_heads: int = 12
    mlp_ratio: float = 4.0
    window_size: int = 14
    global_blocks: tuple[int, ...] = (2, 5, 8, 11)
    #: rel-pos tables of global blocks are sized for a 1024 px input (64 patches).
    rel_pos_input_size: int = 64
    #: absolute position table (with a class token), sized for 224 px pretraining.
    pretrain_grid: int = 14
    vit_ln_eps: float = 1e-6
    # Simple feature pyramid
    fpn_channels: int = 256
    fpn_ln_eps: float = 1e-5
    size_divisibility: int = 32
    strides: tuple[int, ...] = (8, 16, 32, 64, 128)
    # CenterNet (class-agnostic proposals)
    centernet_convs: int = 4
    centernet_groups: int = 32
    proposal_score_min: float = 1e-4
    pre_nms_topk: int = 1000
    proposal_nms: float = 0.9
    post_nms_topk: int = 256
    # Cascade box heads
    pooler_resolution: int = 7
    box_fc_dim: int = 1024
    cascade_weights: tuple[tuple[float, float, float, float], ...] = (
        (10.0, 10.0, 5.0, 5.0),
        (20.0, 20.0, 10.0, 10.0),
        (30.0, 30.0, 15.0, 15.0),
    )
    scale_clamp: float = math.log(1000.0 / 16)
    score_threshold: float = 0.5
    nms_threshold: float = 0.5
    max_detections: int = 256
    # Text decoder (BERT-style, post-norm)
    object_pooler_resolution: int = 14
    text_hidden: int = 768
    text_layers: int = 6
    text_heads: int = 12
    text_ffn: int = 3072
    vocab_size: int = 30522
    max_positions: int = 1024
    text_ln_eps: float = 1e-12
    embedding_ln_eps: float = 1e-8
    max_tokens: int = 40
    objectdet_begin_token: int = 101
    densecap_begin_token: int = 104
    end_token: int = 102
    repeat_penalty_logit: float = -10000.0
    pixel_mean: tuple[float, float, float] = (123.675, 116.28, 103.53)
    pixel_std: tuple[float, float, float] = (58.395, 57.12, 57.375)

    def begin_token(self, task: str) -> int:
        return self.objectdet_begin_token if task == "ObjectDet" else self.densecap_begin_token


GRIT_B = GritConfig()


def tiny(vocab_size: int) -> GritConfig:
    """A GRiT a few MB in size with GRiT-B's inference rules (random weights, offline demo)."""
    return replace(
        GRIT_B,
        embed_dim=48,
        depth=4,
        num_heads=4,
        window_size=4,
        global_blocks=(1, 3),
        rel_pos_input_size=8,
        pretrain_grid=4,
        fpn_channels=32,
        centernet_convs=1,
        centernet_groups=8,
        box_fc_dim=64,
        text_hidden=32,
        text_layers=2,
        text_heads=2,
        text_ffn=64,
        vocab_size=vocab_size,
        max_positions=64,
        max_detections=4,
        max_tokens=6,
    )
