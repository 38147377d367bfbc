"""DINO ViT-B/16 for subject_consistency: official weights or a tiny twin."""

from __future__ import annotations

import torch

from repvideo_eval.scoring.checkpoints import load_state_file
from repvideo_eval.scoring.models.dino_vit import DinoViT
from repvideo_eval.scoring.models.loading import resolve_for, seeded, tiny_weights_id
from repvideo_eval.scoring.scorer import ScorerContext


def load_dino(context: ScorerContext) -> tuple[torch.nn.Module, str]:
    """DINO ViT-B/16 from `dino_model/dino_vitbase16_pretrain.pth` (strict), fp32 as in vbench."""
    if context.tiny_random:
        with seeded(context.seed):
            model = DinoViT(embed_dim=32, depth=2, num_heads=2)
        weights_id = tiny_weights_id(context)
    else:
        resolved = resolve_for(context, "dino_vitb16")
        with torch.device(
            "meta"
        ):  # skip the random init of 86M parameters; the checkpoint replaces them all
            model = DinoViT()
        model.load_state_dict(load_state_file(resolved.path), strict=True, assign=True)
        weights_id = resolved.weights_id
    return model.to(context.device).eval(), weights_id
