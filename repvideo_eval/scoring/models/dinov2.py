"""DINOv2 ViT-B/14 (`torch.hub.load('facebookresearch/dinov2', 'dinov2_vitb14')`) as a small module.

VBench-Long with `--dev_flag` scores the subject_consistency "fast" video with it. The hub code
is not on PyPI, so this is an own implementation of the inference path of
`dinov2/models/vision_transformer.py` (facebookresearch/dinov2, hub defaults for dinov2_vitb14:
img_size 518, patch 14, LayerScale init 1.0, MLP FFN, no register tokens, no block chunks,
interpolate_offset 0.1, interpolate_antialias False), with the hub's parameter names, so the
official `dinov2_vitb14_pretrain.pth` loads with `strict=True`.

`forward(x)` returns what the hub model returns in eval mode: the final-norm CLS token
(`head` is Identity). Positional embeddings are resized like the hub code: bicubic with
`scale_factor = (w0 + 0.1) / 37` (not `size`), no antialias, in float32.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from repvideo_eval.scoring.checkpoints import load_state_file
from repvideo_eval.scoring.models.dino_vit import PatchEmbed, ViTBlock
from repvideo_eval.scoring.models.loading import resolve_for, seeded, tiny_weights_id
from repvideo_eval.scoring.scorer import ScorerContext


class Dinov2ViT(nn.Module):
    """DINOv2 ViT (hub parameter names); `forward` returns the final-norm CLS token."""

    def __init__(
        self,
        *,
        img_size: int = 518,
        patch_size: int = 14,
        embed_dim: int = 768,
        depth: int = 12,
        num_heads: int = 12,
        mlp_ratio: float = 4.0,
        interpolate_offset: float = 0.1,
    ) -> None:
        super().__init__()
        self.patch_size = patch_size
        self.interpolate_offset = interpolate_offset
        self.patch_embed = PatchEmbed(patch_size, embed_dim)
        num_patches = (img_size // patch_size) ** 2
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, num_patches + 1, embed_dim))
        self.mask_token = nn.Parameter(
            torch.zeros(1, embed_dim)
        )  # training only; in the checkpoint
        self.blocks = nn.ModuleList(
            ViTBlock(embed_dim, num_heads, mlp_ratio, layer_scale=True) for _ in range(depth)
        )
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.normal_(self.cls_token, std=1e-6)

    def interpolate_pos_encoding(self, tokens: torch.Tensor, w: int, h: int) -> torch.Tensor:
        """The hub's rule (its `w` is the input's dim 2, `h` dim 3)."""
        previous_dtype = tokens.dtype
        npatch = tokens.shape[1] - 1
        n = self.pos_embed.shape[1] - 1
        if npatch == n and w == h:
            return self.pos_embed
        pos_embed = self.pos_embed.float()
        class_pos, patch_pos = pos_embed[:, 0], pos_embed[:, 1:]
        dim = tokens.shape[-1]
        w0, h0 = w // self.patch_size, h // self.patch_size
        m = int(math.sqrt(n))
        kwargs: dict[str, Any]
        if self.interpolate_offset:
            kwargs = {
                "scale_factor": (
                    float(w0 + self.interpolate_offset) / m,
                    float(h0 + self.interpolate_offset) / m,
                )
            }
        else:
            kwargs = {"size": (w0, h0)}
        patch_pos = nn.functional.interpolate(
            patch_pos.reshape(1, m, m, dim).permute(0, 3, 1, 2),
            mode="bicubic",
            antialias=False,
            **kwargs,
        )
        if tuple(patch_pos.shape[-2:]) != (w0, h0):
            raise RuntimeError(f"positional grid {tuple(patch_pos.shape[-2:])} != {(w0, h0)}")
        patch_pos = patch_pos.permute(0, 2, 3, 1).reshape(1, -1, dim)
        return torch.cat((class_pos.unsqueeze(0), patch_pos), dim=1).to(previous_dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, _, w, h = x.shape
        tokens = self.patch_embed(x)
        tokens = torch.cat((self.cls_token.expand(tokens.shape[0], -1, -1), tokens), dim=1)
        tokens = tokens + self.interpolate_pos_encoding(tokens, w, h)
        for block in self.blocks:
            tokens = block(tokens)
        return self.norm(tokens)[:, 0]


TINY_DINOV2 = {"embed_dim": 32, "depth": 2, "num_heads": 2}
#: Architecture of the official checkpoint (hub defaults); tests may shrink it.
OFFICIAL_DINOV2: dict = {}


def load_dinov2(context: ScorerContext) -> tuple[Dinov2ViT, str]:
    """DINOv2 ViT-B/14 from torch hub's `checkpoints/dinov2_vitb14_pretrain.pth` (strict), fp32."""
    if context.tiny_random:
        with seeded(context.seed):
            model = Dinov2ViT(**TINY_DINOV2)
        weights_id = tiny_weights_id(context)
    else:
        resolved = resolve_for(context, "dinov2_vitb14")
        with torch.device("meta"):
            model = Dinov2ViT(**OFFICIAL_DINOV2)
        model.load_state_dict(load_state_file(resolved.path), strict=True, assign=True)
        weights_id = resolved.weights_id
    return model.to(context.device).eval(), weights_id
