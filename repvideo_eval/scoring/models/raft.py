"""RAFT optical flow (architecture from vbench.third_party.RAFT), official large or tiny small."""

from __future__ import annotations

import torch

from repvideo_eval.scoring.checkpoints import clean_prefix, load_state_file
from repvideo_eval.scoring.models.loading import resolve_for, seeded, tiny_weights_id
from repvideo_eval.scoring.scorer import ScorerContext


def load_raft(context: ScorerContext) -> tuple[torch.nn.Module, str]:
    """RAFT (large: small=False, no mixed precision) from `raft-things.pth`, or a tiny RAFT-small.

    The checkpoint keys carry DataParallel's `module.` prefix, stripped as vbench does. The tiny
    twin is RAFT-small with a 2-level, radius-1 correlation pyramid (valid for 32x32 frames);
    `model.args.corr_levels/corr_radius` tell the flow loop which pyramid to build.
    """
    from easydict import EasyDict

    from vbench.third_party.RAFT.core.raft import RAFT
    from vbench.third_party.RAFT.core.update import SmallUpdateBlock

    if context.weights == "tiny-random":
        args = EasyDict(small=True, mixed_precision=False, alternate_corr=False)
        with seeded(context.seed):
            model = RAFT(args)
            args.corr_levels, args.corr_radius = 2, 1
            model.update_block = SmallUpdateBlock(args, hidden_dim=model.hidden_dim)
        weights_id = tiny_weights_id(context)
    else:
        resolved = resolve_for(context, "raft_things")
        model = RAFT(EasyDict(small=False, mixed_precision=False, alternate_corr=False))
        model.load_state_dict(clean_prefix(load_state_file(resolved.path)))
        weights_id = resolved.weights_id
    return model.to(context.device).eval(), weights_id
