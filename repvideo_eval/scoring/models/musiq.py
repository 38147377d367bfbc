"""MUSIQ (pyiqa's architecture) with the SPAQ head, official or tiny."""

from __future__ import annotations

import torch

from repvideo_eval.scoring.checkpoints import clean_prefix, load_state_file
from repvideo_eval.scoring.models.loading import resolve_for, seeded, skipped_init, tiny_weights_id
from repvideo_eval.scoring.scorer import ScorerContext


def load_musiq(context: ScorerContext) -> tuple[torch.nn.Module, str]:
    """MUSIQ(num_class=1) from `musiq_spaq_ckpt-358bb6af.pth` (strict, `module.` stripped).

    The tiny twin is a 2-layer, 32-wide MUSIQ with one 64 px rescaled view (plus native size).

    vbench only sets `model.training = False` on the top module (it gates the (x-0.5)*2 step and
    the multiscale patching); submodules stay in train mode but hold no dropout>0 or BatchNorm.
    We do exactly the same so nothing else can differ.
    """
    from pyiqa.archs.musiq_arch import MUSIQ

    if context.tiny_random:
        with seeded(context.seed):
            model = MUSIQ(
                pretrained=False,
                hidden_size=32,
                mlp_dim=64,
                num_heads=2,
                num_layers=2,
                longer_side_lengths=[64],
            )
        weights_id = tiny_weights_id(context)
    else:
        resolved = resolve_for(context, "musiq_spaq")
        with skipped_init():
            model = MUSIQ(pretrained=False)
        model.load_state_dict(clean_prefix(load_state_file(resolved.path)), strict=True)
        weights_id = resolved.weights_id
    model = model.to(context.device)
    model.training = False
    return model, weights_id
