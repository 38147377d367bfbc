"""RAFT optical flow (architecture from vbench.third_party.RAFT), official large or tiny small."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from repvideo_eval.scoring.checkpoints import clean_prefix, load_state_file
from repvideo_eval.scoring.models.loading import resolve_for, seeded, skipped_init, tiny_weights_id
from repvideo_eval.scoring.preprocess import pad_amounts
from repvideo_eval.scoring.scorer import ScorerContext


def load_raft(context: ScorerContext) -> tuple[Any, str]:
    """RAFT (large: small=False, no mixed precision) from `raft-things.pth`, or a tiny RAFT-small.

    The checkpoint keys carry DataParallel's `module.` prefix, stripped as vbench does. The tiny
    twin is RAFT-small with a 2-level, radius-1 correlation pyramid (valid for 32x32 frames);
    `model.args.corr_levels/corr_radius` tell the flow loop which pyramid to build.
    """
    from easydict import EasyDict
    from vbench.third_party.RAFT.core.raft import RAFT
    from vbench.third_party.RAFT.core.update import SmallUpdateBlock

    if context.tiny_random:
        args = EasyDict(small=True, mixed_precision=False, alternate_corr=False)
        with seeded(context.seed):
            model = RAFT(args)
            args.corr_levels, args.corr_radius = 2, 1
            model.update_block = SmallUpdateBlock(args, hidden_dim=model.hidden_dim)
        weights_id = tiny_weights_id(context)
    else:
        resolved = resolve_for(context, "raft_things")
        with skipped_init():
            model = RAFT(EasyDict(small=False, mixed_precision=False, alternate_corr=False))
        model.load_state_dict(clean_prefix(load_state_file(resolved.path)), strict=True)
        weights_id = resolved.weights_id
    return model.to(context.device).eval(), weights_id


RAFT_ITERS = 20


def raft_input(frames_rgb: np.ndarray) -> torch.Tensor:
    """(N, H, W, 3) RGB uint8 -> (N, 3, H', W') RAFT input: replicate-padded to a multiple of 8
    (RAFT's InputPadder, 'sintel' split) and scaled to -1..1 as `RAFT.forward` does."""
    images = torch.from_numpy(np.ascontiguousarray(frames_rgb)).permute(0, 3, 1, 2).float()
    left, right, top, bottom = pad_amounts(images.shape[-2], images.shape[-1], 8)
    images = F.pad(images, [left, right, top, bottom], mode="replicate")
    return 2 * (images / 255.0) - 1.0


@torch.inference_mode()
def raft_flows(
    model: Any, images: torch.Tensor, pairs: Sequence[tuple[int, int]], device: str
) -> np.ndarray:
    """Upsampled flow (P, 2, H', W') of each (i, j) pair of `raft_input` frames, in one batch.

    Same numbers as `RAFT.forward(image_i, image_j, iters=20, test_mode=True)` per pair, with
    less work: the feature encoder runs once per distinct frame (it is instance-normed, so a
    frame's features do not depend on its batch), and the convex upsampling runs once after the
    last iteration (RAFT computes it every iteration and returns only the last). The pyramid
    follows `model.args.corr_levels/corr_radius`, so the tiny RAFT-small works too.
    """
    from vbench.third_party.RAFT.core.corr import CorrBlock

    frames = sorted({k for pair in pairs for k in pair})
    where = {k: n for n, k in enumerate(frames)}
    fmaps = model.fnet(images[frames].to(device).contiguous()).float()
    first = [where[i] for i, _ in pairs]
    second = [where[j] for _, j in pairs]
    corr_fn = CorrBlock(
        fmaps[first],
        fmaps[second],
        num_levels=getattr(model.args, "corr_levels", 4),
        radius=getattr(model.args, "corr_radius", 4),
    )
    image1 = images[[i for i, _ in pairs]].to(device).contiguous()
    net, inp = torch.split(model.cnet(image1), [model.hidden_dim, model.context_dim], dim=1)
    net, inp = torch.tanh(net), torch.relu(inp)
    coords0, coords1 = model.initialize_flow(image1)
    up_mask = None
    for _ in range(RAFT_ITERS):
        corr = corr_fn(coords1)
        net, up_mask, delta_flow = model.update_block(net, inp, corr, coords1 - coords0)
        coords1 = coords1 + delta_flow
    if up_mask is None:  # RAFT-small has no convex upsampler: bilinear x8 (RAFT's upflow8)
        flow = coords1 - coords0
        flow_up = 8 * F.interpolate(
            flow, size=(8 * flow.shape[2], 8 * flow.shape[3]), mode="bilinear", align_corners=True
        )
    else:
        flow_up = model.upsample_flow(coords1 - coords0, up_mask)
    return flow_up.cpu().numpy()
