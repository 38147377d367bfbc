"""DreamSim "ensemble" (dreamsim 0.2.1), loaded without running pickled code.

VBench-Long with `--dev_flag` scores the background_consistency "fast" video with
`dreamsim(pretrained=True, cache_dir=~/.cache)` (dreamsim_type "ensemble", normalize_embeds
True). We build the same model from dreamsim's own classes (`PerceptualModel`, `ViTExtractor`,
its DINO-style `vit_base`, `DINOHead`, `QuickGELU`) and peft's LoRA, but load every weight
ourselves:

* dreamsim's `ViTExtractor.create_model` gets the DINO ViT-B/16 backbone through
  `torch.hub.load('facebookresearch/dino:main', 'dino_vitb16')` (GitHub code, a full pickle load
  of `<cache>/checkpoints/dino_vitbase16_pretrain.pth` by torch hub). Here the backbone is
  dreamsim's copy of DINO's `vit_base(patch_size=16)` with that file loaded strictly
  (`weights_only=True`). The DINO projection head dreamsim attaches (from the zip's
  `dino_vitb16_pretrain.pth`) is never used by the ensemble's "cls" features; a randomly
  initialised `DINOHead` keeps the module tree (and so the LoRA key names) identical.
* CLIP / OpenCLIP ViT-B/16 "as DINO": the zip's `*_vitb16_pretrain.pth.tar` (`state_dict` with a
  `proj` tensor), converted exactly as `load_clip_as_dino` / `load_open_clip_as_dino` do.
* LoRA: `ensemble_lora/adapter_config.json` as a peft `LoraConfig`, `get_peft_model`, and the
  adapter weights (`adapter_model.safetensors`, or `adapter_model.bin` via `torch.load
  (weights_only=True)`) set with `set_peft_model_state_dict`; every adapter tensor must land.

`embed(images)` (images: (N, 3, 224, 224) in 0..1) is dreamsim's `PerceptualModel.embed`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from unittest import mock

import torch

from repvideo_eval.errors import UserError
from repvideo_eval.scoring.checkpoints import load_state_file
from repvideo_eval.scoring.models.loading import resolve_for, seeded, skipped_init, tiny_weights_id
from repvideo_eval.scoring.scorer import ScorerContext

ENSEMBLE_BACKBONES = ("dino_vitb16", "clip_vitb16", "open_clip_vitb16")
#: Tiny twin: 12 blocks are required (dreamsim reads the CLS token at block index 11).
TINY_VIT = {"embed_dim": 16, "depth": 12, "num_heads": 2}


def _import_dreamsim():
    try:
        from dreamsim.config import dreamsim_args
        from dreamsim.feature_extraction import extractor
        from dreamsim.feature_extraction.load_clip_as_dino import QuickGELU
        from dreamsim.feature_extraction.vision_transformer import (
            DINOHead,
            VisionTransformer,
            vit_base,
        )
        from dreamsim.model import PerceptualModel
    except ImportError as exc:
        raise UserError(
            f"DreamSim is not installed ({exc}); VBench-Long slow-fast background_consistency needs it.",
            "pip install -c requirements/constraints.txt 'dreamsim==0.2.1' (see requirements/vbench-nodeps.txt)",
        ) from None
    return (
        dreamsim_args,
        extractor,
        QuickGELU,
        DINOHead,
        VisionTransformer,
        vit_base,
        PerceptualModel,
    )


def _clip_as_dino(
    vit: Any, state: dict, quick_gelu, open_clip: bool
) -> tuple[torch.nn.Module, torch.Tensor]:
    """`load_clip_as_dino` / `load_open_clip_as_dino` (ViT-B) on an already built `vit_base`."""
    vit.pos_drop = torch.nn.LayerNorm(vit.embed_dim)
    state = dict(state)
    proj = state.pop("proj")
    vit.load_state_dict(state, strict=True)
    if not open_clip:
        for block in vit.blocks:
            block.mlp.act = quick_gelu()
    for module in vit.modules():
        if isinstance(module, torch.nn.LayerNorm):
            module.eps = 1e-5
    return vit, proj


def _clip_state(path: Path) -> dict:
    data = load_state_file(path)
    if not isinstance(data, dict) or "state_dict" not in data:
        raise UserError(
            f"{path} is not a DreamSim backbone file (no 'state_dict').",
            "Delete it and fetch it again.",
        )
    return data["state_dict"]


def _lora_state(lora_dir: Path) -> dict[str, torch.Tensor]:
    safetensors_path = lora_dir / "adapter_model.safetensors"
    if safetensors_path.is_file():
        from safetensors.torch import load_file

        return load_file(str(safetensors_path))
    return load_state_file(lora_dir / "adapter_model.bin")


def build_dreamsim(
    backbones: dict[str, tuple[torch.nn.Module, torch.Tensor | torch.nn.Module]],
    lora_config: dict,
    lora_state: dict[str, torch.Tensor] | None,
    *,
    device: str = "cpu",
) -> torch.nn.Module:
    """dreamsim's ensemble `PerceptualModel` over given (backbone, proj) pairs, with LoRA applied.

    Mirrors `dreamsim.model.dreamsim(dreamsim_type="ensemble", normalize_embeds=True)`, except
    that backbones come in ready-made and the adapter is set from `lora_state` (None: peft init).
    """
    dreamsim_args, extractor, *_rest, PerceptualModel = _import_dreamsim()
    from peft import LoraConfig, get_peft_model, set_peft_model_state_dict

    pending = dict(backbones)

    def create_model(model_type: str, load_dir: str = "") -> tuple[torch.nn.Module, object]:
        return pending.pop(model_type)

    with mock.patch.object(extractor.ViTExtractor, "create_model", staticmethod(create_model)):
        model = PerceptualModel(
            **dreamsim_args["model_config"]["ensemble"],
            device=device,
            load_dir="",
            normalize_embeds=True,
        )
    known = set(LoraConfig.__dataclass_fields__)
    config = LoraConfig(
        **{
            k: v
            for k, v in lora_config.items()
            if k in known and k not in ("peft_type", "task_type")
        }
    )
    model = get_peft_model(model, config)
    if lora_state is not None:
        result = set_peft_model_state_dict(model, lora_state)
        lora_keys = [k for k in lora_state if "lora_" in k]
        if getattr(result, "unexpected_keys", None) or not lora_keys:
            raise UserError(
                f"DreamSim LoRA adapter does not fit the ensemble model (unexpected keys: "
                f"{list(getattr(result, 'unexpected_keys', []))[:3]}).",
                "Delete ensemble_lora/ and fetch it again.",
            )
    return model.to(device).eval().requires_grad_(False)


def tiny_dreamsim(seed: int, device: str = "cpu") -> torch.nn.Module:
    """A seeded DreamSim ensemble with 16-wide, 12-block backbones and a random rank-2 LoRA."""
    _, _, QuickGELU, DINOHead, VisionTransformer, _, _ = _import_dreamsim()
    with seeded(seed):
        dino = VisionTransformer(
            patch_size=16, qkv_bias=True, norm_layer=_layer_norm_1e6, **TINY_VIT
        )
        head = DINOHead(TINY_VIT["embed_dim"], 64, hidden_dim=32, bottleneck_dim=16)
        backbones: dict = {"dino_vitb16": (dino, head)}
        for name, open_clip in (("clip_vitb16", False), ("open_clip_vitb16", True)):
            vit = VisionTransformer(
                patch_size=16, qkv_bias=True, norm_layer=_layer_norm_1e6, **TINY_VIT
            )
            vit.pos_drop = torch.nn.LayerNorm(vit.embed_dim)
            state = {**vit.state_dict(), "proj": torch.randn(TINY_VIT["embed_dim"], 8) * 0.25}
            backbones[name] = _clip_as_dino(
                VisionTransformer(
                    patch_size=16, qkv_bias=True, norm_layer=_layer_norm_1e6, **TINY_VIT
                ),
                state,
                QuickGELU,
                open_clip,
            )
        model = build_dreamsim(
            backbones,
            {
                "r": 2,
                "lora_alpha": 1.0,
                "lora_dropout": 0.0,
                "bias": "none",
                "target_modules": ["qkv"],
            },
            None,
            device="cpu",
        )
        for name, param in model.named_parameters():
            if "lora_B" in name:
                torch.nn.init.normal_(param, std=0.1)
    return model.to(device)


def _layer_norm_1e6(dim: int) -> torch.nn.LayerNorm:
    return torch.nn.LayerNorm(dim, eps=1e-6)


def _vit_b16() -> torch.nn.Module:
    """dreamsim's `vit_base(patch_size=16)` (DINO's ViT-B/16), for a strict load; tests may shrink it."""
    with skipped_init():  # every parameter comes from a checkpoint loaded with strict=True
        return _import_dreamsim()[5](patch_size=16)


#: (in_dim, out_dim) of the unused DINO head; tests may shrink it.
DINO_HEAD_DIMS = (768, 2048)


def load_dreamsim(context: ScorerContext) -> tuple[Any, str]:
    """DreamSim ensemble from the dreamsim cache (`~/.cache`), or its tiny twin."""
    if context.tiny_random:
        return tiny_dreamsim(context.seed, context.device).eval(), tiny_weights_id(context)
    _, _, QuickGELU, DINOHead, _, _, _ = _import_dreamsim()
    dino_file = resolve_for(context, "dreamsim_dino_vitb16")
    clip_file = resolve_for(context, "dreamsim_clip_vitb16")
    open_clip_file = resolve_for(context, "dreamsim_open_clip_vitb16")
    config_file = resolve_for(context, "dreamsim_ensemble_lora_config")
    lora_file = resolve_for(context, "dreamsim_ensemble_lora")
    dino = _vit_b16()
    dino.load_state_dict(load_state_file(dino_file.path), strict=True)
    with seeded(context.seed):
        head = DINOHead(*DINO_HEAD_DIMS)  # unused by the ensemble's CLS features (see module doc)
    backbones = {
        "dino_vitb16": (dino, head),
        "clip_vitb16": _clip_as_dino(_vit_b16(), _clip_state(clip_file.path), QuickGELU, False),
        "open_clip_vitb16": _clip_as_dino(
            _vit_b16(), _clip_state(open_clip_file.path), QuickGELU, True
        ),
    }
    lora_config = json.loads(config_file.path.read_text())
    model = build_dreamsim(
        backbones, lora_config, _lora_state(lora_file.path.parent), device=context.device
    )
    parts = (dino_file, clip_file, open_clip_file, lora_file)
    weights_id = "dreamsim_ensemble:" + "+".join(p.weights_id.split(":", 1)[1] for p in parts)
    return model, weights_id
