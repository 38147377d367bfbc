"""OpenAI CLIP image towers as vbench runs them (`clip.load(path, device)`, jit=False).

`clip.load` rebuilds the model with `clip.model.build_model(state_dict)`, which casts Linear,
Conv and attention weights to fp16, then calls `.float()` on CPU only. So on CUDA vbench's CLIP
runs in **fp16** (half precision where vbench uses it) and on CPU in fp32 from the fp16-rounded
weights. We build it the same way from the converted safetensors copy of the TorchScript file.
"""

from __future__ import annotations

from typing import Any

from repvideo_eval.scoring.checkpoints import torchscript_state_dict
from repvideo_eval.scoring.models.loading import (
    is_cuda,
    resolve_for,
    seeded,
    skipped_init,
    tiny_weights_id,
)
from repvideo_eval.scoring.scorer import ScorerContext


def load_clip(context: ScorerContext, weight_name: str, tiny_embed_dim: int) -> tuple[Any, str]:
    """(model in eval mode on the context device, weights_id)."""
    from clip.model import CLIP, build_model

    if context.tiny_random:
        with seeded(context.seed):
            model = CLIP(tiny_embed_dim, 224, 2, 64, 32, 77, 49408, 32, 2, 1)
        weights_id = tiny_weights_id(context)
        model = model.float()
    else:
        resolved = resolve_for(context, weight_name)
        state = torchscript_state_dict(resolved.path, resolved.sha256)
        with skipped_init():  # build_model loads the state dict strictly
            model = build_model(dict(state))
        if not is_cuda(context.device):
            model = model.float()
        weights_id = resolved.weights_id
    return model.to(context.device).eval(), weights_id
