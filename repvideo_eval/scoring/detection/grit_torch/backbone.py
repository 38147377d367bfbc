"""GRiT's backbone: a ViTDet ViT-B/16 (window + global attention, decomposed relative positions)
and its simple feature pyramid P3-P7. Module names mirror the checkpoint's keys
(`backbone.bottom_up.blocks.N.attn.rel_pos_h`, `backbone.fpn_stride8_conv1`, ...).

Numerics follow vbench's code op for op where the order changes rounding: the query is scaled
before the product, relative positions are added before the softmax, attention is an explicit
matmul + softmax, GELU is erf-based (`nn.GELU()`), and each LayerNorm keeps its own eps.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from repvideo_eval.scoring.detection.grit_torch.config import GritConfig
from repvideo_eval.scoring.models.dino_vit import Mlp


def resized_rel_pos(table: torch.Tensor, length: int) -> torch.Tensor:
    """Relative-position rows for a `length`-long axis (q and k the same size), resized linearly."""
    span = 2 * length - 1
    if table.shape[0] != span:
        table = F.interpolate(table.T.unsqueeze(0), size=span, mode="linear").reshape(-1, span).T
    coords = torch.arange(length)[:, None] - torch.arange(length)[None, :] + (length - 1)
    return table[coords]


def abs_pos_grid(pos_embed: torch.Tensor, grid: int, height: int, width: int) -> torch.Tensor:
    """The pretraining position table (class token dropped), resized bicubically to (h, w)."""
    table = pos_embed[:, 1:].reshape(1, grid, grid, -1)
    if grid == height and grid == width:
        return table
    resized = F.interpolate(
        table.permute(0, 3, 1, 2), size=(height, width), mode="bicubic", align_corners=False
    )
    return resized.permute(0, 2, 3, 1)


class PatchEmbed(nn.Module):
    def __init__(self, config: GritConfig) -> None:
        super().__init__()
        size = config.patch_size
        self.proj = nn.Conv2d(3, config.embed_dim, kernel_size=size, stride=size)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.proj(images).permute(0, 2, 3, 1)


class Attention(nn.Module):
    def __init__(self, config: GritConfig, rel_pos_size: int) -> None:
        super().__init__()
        self.num_heads = config.num_heads
        head_dim = config.embed_dim // config.num_heads
        self.scale = head_dim**-0.5
        self.qkv = nn.Linear(config.embed_dim, config.embed_dim * 3)
        self.proj = nn.Linear(config.embed_dim, config.embed_dim)
        self.rel_pos_h = nn.Parameter(torch.zeros(2 * rel_pos_size - 1, head_dim))
        self.rel_pos_w = nn.Parameter(torch.zeros(2 * rel_pos_size - 1, head_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, height, width, _ = x.shape
        heads = self.num_heads
        qkv = self.qkv(x).reshape(batch, height * width, 3, heads, -1).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.reshape(3, batch * heads, height * width, -1).unbind(0)
        attn = (q * self.scale) @ k.transpose(-2, -1)
        rel_h = resized_rel_pos(self.rel_pos_h, height)
        rel_w = resized_rel_pos(self.rel_pos_w, width)
        grid_q = q.reshape(batch * heads, height, width, -1)
        along_h = torch.einsum("bhwc,hkc->bhwk", grid_q, rel_h)
        along_w = torch.einsum("bhwc,wkc->bhwk", grid_q, rel_w)
        attn = (
            attn.view(batch * heads, height, width, height, width)
            + along_h[:, :, :, :, None]
            + along_w[:, :, :, None, :]
        ).view(batch * heads, height * width, height * width)
        attn = attn.softmax(dim=-1)
        out = (attn @ v).view(batch, heads, height, width, -1).permute(0, 2, 3, 1, 4)
        return self.proj(out.reshape(batch, height, width, -1))


def window_partition(x: torch.Tensor, size: int) -> tuple[torch.Tensor, tuple[int, int]]:
    """(B, H, W, C) -> (B * windows, size, size, C), zero-padded bottom/right to whole windows."""
    batch, height, width, channels = x.shape
    pad_h, pad_w = (size - height % size) % size, (size - width % size) % size
    if pad_h or pad_w:
        x = F.pad(x, (0, 0, 0, pad_w, 0, pad_h))
    padded = (height + pad_h, width + pad_w)
    x = x.view(batch, padded[0] // size, size, padded[1] // size, size, channels)
    return x.permute(0, 1, 3, 2, 4, 5).contiguous().view(-1, size, size, channels), padded


def window_unpartition(
    windows: torch.Tensor, size: int, padded: tuple[int, int], hw: tuple[int, int]
) -> torch.Tensor:
    rows, cols = padded
    batch = windows.shape[0] // (rows * cols // size // size)
    x = windows.view(batch, rows // size, cols // size, size, size, -1)
    x = x.permute(0, 1, 3, 2, 4, 5).contiguous().view(batch, rows, cols, -1)
    return x[:, : hw[0], : hw[1], :].contiguous() if (rows, cols) != hw else x


class Block(nn.Module):
    def __init__(self, config: GritConfig, window_size: int) -> None:
        super().__init__()
        dim = config.embed_dim
        self.window_size = window_size
        self.norm1 = nn.LayerNorm(dim, eps=config.vit_ln_eps)
        self.attn = Attention(config, window_size or config.rel_pos_input_size)
        self.norm2 = nn.LayerNorm(dim, eps=config.vit_ln_eps)
        self.mlp = Mlp(dim, int(dim * config.mlp_ratio))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.norm1(x)
        if self.window_size:
            hw = (x.shape[1], x.shape[2])
            windows, padded = window_partition(x, self.window_size)
            x = window_unpartition(self.attn(windows), self.window_size, padded, hw)
        else:
            x = self.attn(x)
        x = shortcut + x
        return x + self.mlp(self.norm2(x))


class ViT(nn.Module):
    def __init__(self, config: GritConfig) -> None:
        super().__init__()
        self.grid = config.pretrain_grid
        self.patch_embed = PatchEmbed(config)
        self.pos_embed = nn.Parameter(torch.zeros(1, self.grid * self.grid + 1, config.embed_dim))
        self.blocks = nn.ModuleList(
            Block(config, 0 if i in config.global_blocks else config.window_size)
            for i in range(config.depth)
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(images)
        x = x + abs_pos_grid(self.pos_embed, self.grid, x.shape[1], x.shape[2])
        for block in self.blocks:
            x = block(x)
        return x.permute(0, 3, 1, 2)


class LastLevelP6P7(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.p6 = nn.Conv2d(channels, channels, 3, 2, 1)
        self.p7 = nn.Conv2d(channels, channels, 3, 2, 1)

    def forward(self, p5: torch.Tensor) -> list[torch.Tensor]:
        p6 = self.p6(p5)
        return [p6, self.p7(F.relu(p6))]


class Backbone(nn.Module):
    """ViT + simple pyramid: returns [P3, P4, P5, P6, P7] (strides 8..128, `fpn_channels` each)."""

    def __init__(self, config: GritConfig) -> None:
        super().__init__()
        width, out = config.embed_dim, config.fpn_channels
        self.bottom_up = ViT(config)
        self.top_block = LastLevelP6P7(out)
        self.maxpool = nn.MaxPool2d(2, stride=2)
        self.fpn_stride_16_8 = nn.ConvTranspose2d(width, width, 2, stride=2, bias=False)
        for stride in (8, 16, 32):
            setattr(self, f"fpn_stride{stride}_conv1", nn.Conv2d(width, out, 1, bias=False))
            setattr(self, f"fpn_stride{stride}_norm1", nn.LayerNorm(out, eps=config.fpn_ln_eps))
            setattr(
                self, f"fpn_stride{stride}_conv2", nn.Conv2d(out, out, 3, padding=1, bias=False)
            )
            setattr(self, f"fpn_stride{stride}_norm2", nn.LayerNorm(out, eps=config.fpn_ln_eps))

    def _level(self, stride: int, x: torch.Tensor) -> torch.Tensor:
        for step in (1, 2):
            conv = getattr(self, f"fpn_stride{stride}_conv{step}")
            norm = getattr(self, f"fpn_stride{stride}_norm{step}")
            x = norm(conv(x).permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        return x

    def forward(self, images: torch.Tensor) -> list[torch.Tensor]:
        features = self.bottom_up(images)
        p3 = self._level(8, self.fpn_stride_16_8(features))
        p5 = self._level(32, self.maxpool(features))
        p4 = self._level(16, features)
        return [p3, p4, p5, *self.top_block(p5)]
