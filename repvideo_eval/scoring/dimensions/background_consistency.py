"""background_consistency: CLIP ViT-B/32 image features of every frame, pair formula.

vbench (`background_consistency.py`): all frames via decord, `clip_transform(224)` (short side to
224 bicubic antialias=False, center crop, CLIP normalisation), `clip_model.encode_image` on
**all frames in one batch** (no no_grad; fp16 on CUDA, fp32 on CPU, see `models/clip_models.py`),
L2-normalised, pair formula of `consistency.py`; aggregation weight = T - 1 frame pairs.
We encode in batches of `batch_size` under inference_mode (same values, bounded memory).
"""

from __future__ import annotations

import numpy as np
import torch

from repvideo_eval.scoring.decode import DecodedVideo
from repvideo_eval.scoring.dimensions.consistency import pair_consistency
from repvideo_eval.scoring.models.clip_models import load_clip
from repvideo_eval.scoring.preprocess import batches, clip_transform, frames_as_float
from repvideo_eval.scoring.records import VideoToScore
from repvideo_eval.scoring.scorer import DimensionScore, Scorer, ScorerContext


class BackgroundConsistency(Scorer):
    dimension = "background_consistency"
    decoder = "decord"
    min_frames = 2
    batch_size = 32

    def __init__(self, context: ScorerContext) -> None:
        super().__init__(context)
        self.model, self.weights_id = load_clip(context, "clip_vit_b32", tiny_embed_dim=32)

    @torch.inference_mode()
    def features(self, frames: np.ndarray) -> torch.Tensor:
        images = clip_transform(frames_as_float(frames))
        feats = [
            self.model.encode_image(images[a:b].to(self.context.device))
            for a, b in batches(len(images), self.batch_size)
        ]
        return torch.cat(feats)

    def score(self, frames: np.ndarray, video: DecodedVideo, item: VideoToScore) -> DimensionScore:
        # On CUDA the features stay fp16, as in vbench; the pair formula runs on them as is.
        return pair_consistency(self.features(frames))
