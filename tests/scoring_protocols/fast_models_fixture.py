"""Random DINOv2 / DreamSim files in the official formats and layouts (VBench-Long --dev_flag fast models).

    <torch_home>/hub/checkpoints/dinov2_vitb14_pretrain.pth         torch hub's cache (dinov2 hub state dict)
    <home>/.cache/checkpoints/dino_vitbase16_pretrain.pth           DINO ViT-B/16 (dreamsim's torch.hub.load)
    <home>/.cache/dino_vitb16_pretrain.pth                          {'student': DINO head} (read by dreamsim only)
    <home>/.cache/{clip,open_clip}_vitb16_pretrain.pth.tar          {'state_dict': ViT-as-DINO + 'proj'}
    <home>/.cache/ensemble_lora/adapter_{config.json,model.safetensors}   written by peft's save_pretrained

`tiny=True` shrinks every network (DreamSim backbones 16 wide but 12 blocks deep: dreamsim reads
block 11) so the fast tests run in seconds; the same shrink is applied on both sides (see
`shrink_official_models` and the reference script).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import torch
from torch import nn

TINY_DINOV2 = {"embed_dim": 32, "depth": 2, "num_heads": 2}
TINY_VIT = {"embed_dim": 16, "depth": 12, "num_heads": 2}
TINY_HEAD = (16, 64)
LORA = {"r": 4, "lora_alpha": 0.5, "lora_dropout": 0.3, "bias": "none", "target_modules": ["qkv"]}


def hub_dinov2_vitb14(overrides: dict) -> nn.Module:
    """The hub's `dinov2_vitb14(pretrained=False)`, its ViT sizes replaced by `overrides` (tiny)."""
    import dinov2.models.vision_transformer as vits
    from dinov2.hub.backbones import dinov2_vitb14

    original = vits.DinoVisionTransformer
    vits.DinoVisionTransformer = lambda **kwargs: original(**{**kwargs, **overrides})
    try:
        return dinov2_vitb14(pretrained=False)
    finally:
        vits.DinoVisionTransformer = original


def tiny_vit_b16(**_: object) -> nn.Module:
    from dreamsim.feature_extraction.vision_transformer import VisionTransformer

    return VisionTransformer(
        patch_size=16, qkv_bias=True, norm_layer=partial(nn.LayerNorm, eps=1e-6), **TINY_VIT
    )


def _vit(tiny: bool) -> nn.Module:
    from dreamsim.feature_extraction.vision_transformer import vit_base

    return tiny_vit_b16() if tiny else vit_base(patch_size=16)


@torch.no_grad()
def _perturb(module: nn.Module, scale: float = 0.05) -> None:
    """Move every parameter off its init (LayerNorm/LayerScale too) so each one matters."""
    for param in module.parameters():
        param.add_(torch.randn_like(param) * scale)


def shrink_official_models(monkeypatch) -> None:
    """Make the project's official loaders build the tiny architectures of `build_fast_cache(tiny=True)`."""
    from repvideo_eval.scoring.models import dinov2, dreamsim_model

    monkeypatch.setattr(dinov2, "OFFICIAL_DINOV2", dict(TINY_DINOV2))
    monkeypatch.setattr(dreamsim_model, "_vit_b16", tiny_vit_b16)
    monkeypatch.setattr(dreamsim_model, "DINO_HEAD_DIMS", TINY_HEAD)


def build_fast_cache(home: Path, torch_home: Path, *, tiny: bool, seed: int = 0) -> None:
    from dreamsim.feature_extraction.vision_transformer import DINOHead
    from safetensors.torch import save_file  # noqa: F401  (peft writes safetensors)

    from repvideo_eval.scoring.models.dinov2 import Dinov2ViT
    from repvideo_eval.scoring.models.dreamsim_model import build_dreamsim

    torch.manual_seed(seed)
    dinov2 = Dinov2ViT(**(TINY_DINOV2 if tiny else {}))
    _perturb(dinov2)
    target = torch_home / "hub" / "checkpoints" / "dinov2_vitb14_pretrain.pth"
    target.parent.mkdir(parents=True, exist_ok=True)
    torch.save(dinov2.state_dict(), target)

    cache = home / ".cache"
    (cache / "checkpoints").mkdir(parents=True, exist_ok=True)
    dino = _vit(tiny)
    _perturb(dino)
    torch.save(dino.state_dict(), cache / "checkpoints" / "dino_vitbase16_pretrain.pth")
    head = DINOHead(*(TINY_HEAD if tiny else (768, 2048)))
    student = {
        f"module.head.{k}": v
        for k, v in head.state_dict().items()
        if not k.startswith("last_layer")
    }
    student["module.head.last_layer.weight"] = head.last_layer.weight.detach().clone()
    torch.save({"student": student}, cache / "dino_vitb16_pretrain.pth")
    backbones = {"dino_vitb16": (dino, head)}
    for name in ("clip_vitb16", "open_clip_vitb16"):
        vit = _vit(tiny)
        vit.pos_drop = nn.LayerNorm(vit.embed_dim)
        _perturb(vit)
        state = {
            **vit.state_dict(),
            "proj": torch.randn(vit.embed_dim, 8 if tiny else 512) * vit.embed_dim**-0.5,
        }
        torch.save({"state_dict": state}, cache / f"{name}_pretrain.pth.tar")
        backbones[name] = (vit, state["proj"])
    model = build_dreamsim(backbones, LORA, None)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_" in name:
                param.copy_(torch.randn_like(param) * 0.2)
    model.save_pretrained(str(cache / "ensemble_lora"))
