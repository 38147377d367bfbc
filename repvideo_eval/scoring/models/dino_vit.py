"""DINO ViT (facebookresearch/dino `vision_transformer.py` semantics), written for this project.

vbench loads DINO ViT-B/16 through torch.hub from GitHub code that is not on PyPI, so the
architecture is re-implemented here to the behaviour that matters for scoring:

* patch embedding: Conv2d(k=16, s=16) (floors non-multiple sizes), flatten, prepend CLS;
* positional embedding interpolated for non-224 inputs exactly as DINO does it: bicubic
  `F.interpolate` with `scale_factor=((h//16 + 0.1)/sqrt(N), (w//16 + 0.1)/sqrt(N))` on the
  square grid (the +0.1 is DINO's guard against float error), skipped only when the patch count
  equals N *and* the input is square;
* pre-norm blocks: LayerNorm(eps=1e-6), attention with qkv bias and scale head_dim**-0.5,
  MLP with exact GELU; final LayerNorm; output = normalised CLS token.

Its state_dict keys equal DINO's (`cls_token`, `pos_embed`, `patch_embed.proj.*`, `blocks.N.*`,
`norm.*`), so the official `dino_vitbase16_pretrain.pth` loads with strict=True.
`PatchEmbed` and `ViTBlock` (with DINOv2's LayerScale switched on) also build `dinov2.Dinov2ViT`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class PatchEmbed(nn.Module):
    def __init__(self, patch_size: int, embed_dim: int) -> None:
        super().__init__()
        self.patch_size = patch_size
        self.proj = nn.Conv2d(3, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).flatten(2).transpose(1, 2)


class _Attention(nn.Module):
    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, tokens, channels = x.shape
        qkv = (
            self.qkv(x)
            .reshape(batch, tokens, 3, self.num_heads, channels // self.num_heads)
            .permute(2, 0, 3, 1, 4)
        )
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(batch, tokens, channels))


class Mlp(nn.Module):
    """The ViT feed-forward block (`fc1`, exact GELU, `fc2`), DINOv2's and ViTDet's alike."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class _LayerScale(nn.Module):
    """DINOv2's per-channel residual scale (`ls1.gamma`, `ls2.gamma`)."""

    def __init__(self, dim: int, init_values: float = 1.0) -> None:
        super().__init__()
        self.gamma = nn.Parameter(init_values * torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gamma


class ViTBlock(nn.Module):
    """Pre-norm ViT block with DINO's parameter names; `layer_scale=True` adds DINOv2's ls1/ls2."""

    def __init__(
        self, dim: int, num_heads: int, mlp_ratio: float, layer_scale: bool = False
    ) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = _Attention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        self.ls1: nn.Module = _LayerScale(dim) if layer_scale else nn.Identity()
        self.ls2: nn.Module = _LayerScale(dim) if layer_scale else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.ls1(self.attn(self.norm1(x)))
        return x + self.ls2(self.mlp(self.norm2(x)))


class DinoViT(nn.Module):
    """DINO's VisionTransformer with num_classes=0: returns the final-norm CLS feature."""

    def __init__(
        self,
        patch_size: int = 16,
        embed_dim: int = 768,
        depth: int = 12,
        num_heads: int = 12,
        mlp_ratio: float = 4.0,
        img_size: int = 224,
    ) -> None:
        super().__init__()
        self.patch_embed = PatchEmbed(patch_size, embed_dim)
        num_patches = (img_size // patch_size) ** 2
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, num_patches + 1, embed_dim))
        self.blocks = nn.ModuleList(
            [ViTBlock(embed_dim, num_heads, mlp_ratio) for _ in range(depth)]
        )
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)

    def interpolate_pos_encoding(
        self, tokens: torch.Tensor, height: int, width: int
    ) -> torch.Tensor:
        """DINO's rule (see module doc); `height`/`width` are the input image's pixel sizes."""
        npatch = tokens.shape[1] - 1
        grid = self.pos_embed.shape[1] - 1
        if npatch == grid and width == height:
            return self.pos_embed
        class_pos = self.pos_embed[:, 0]
        patch_pos = self.pos_embed[:, 1:]
        dim = tokens.shape[-1]
        side = math.sqrt(grid)
        h0 = height // self.patch_embed.patch_size + 0.1
        w0 = width // self.patch_embed.patch_size + 0.1
        patch_pos = F.interpolate(
            patch_pos.reshape(1, int(side), int(side), dim).permute(0, 3, 1, 2),
            scale_factor=(h0 / side, w0 / side),
            mode="bicubic",
        )
        patch_pos = patch_pos.permute(0, 2, 3, 1).reshape(1, -1, dim)
        return torch.cat((class_pos.unsqueeze(0), patch_pos), dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, _, height, width = x.shape
        tokens = self.patch_embed(x)
        tokens = torch.cat((self.cls_token.expand(batch, -1, -1), tokens), dim=1)
        tokens = tokens + self.interpolate_pos_encoding(tokens, height, width)
        for block in self.blocks:
            tokens = block(tokens)
        return self.norm(tokens)[:, 0]
