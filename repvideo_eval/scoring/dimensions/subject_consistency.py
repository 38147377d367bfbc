"""subject_consistency: DINO ViT-B/16 CLS features of every frame, pair formula.

vbench (`subject_consistency.py`): all frames via decord (`load_video`), `dino_transform(224)`
(short side to 224, bilinear, antialias=False, **no crop**, so the ViT sees e.g. 224x358 and
interpolates its positional embedding), DINO forward **one frame at a time** in fp32 (also on
GPU; vbench never calls .eval(), harmless: no dropout). Features are L2-normalised, then the pair
formula of `consistency.py`; aggregation weight = T - 1 frame pairs.
We batch frames (`batch_size`) instead of one at a time; results agree to float rounding.
"""

from __future__ import annotations

import numpy as np
import torch

from repvideo_eval.scoring.decode import DecodedVideo
from repvideo_eval.scoring.dimensions.consistency import pair_consistency
from repvideo_eval.scoring.models.dino import load_dino
from repvideo_eval.scoring.preprocess import batches, dino_transform, frames_as_float
from repvideo_eval.scoring.records import VideoToScore
from repvideo_eval.scoring.scorer import DimensionScore, Scorer, ScorerContext


class SubjectConsistency(Scorer):
    dimension = "subject_consistency"
    decoder = "decord"
    min_frames = 2
    batch_size = 16

    def __init__(self, context: ScorerContext) -> None:
        super().__init__(context)
        self.model, self.weights_id = load_dino(context)

    @torch.inference_mode()
    def features(self, frames: np.ndarray) -> torch.Tensor:
        images = dino_transform(frames_as_float(frames))
        feats = [
            self.model(images[a:b].to(self.context.device))
            for a, b in batches(len(images), self.batch_size)
        ]
        return torch.cat(feats).float().cpu()

    def score(self, frames: np.ndarray, video: DecodedVideo, item: VideoToScore) -> DimensionScore:
        return pair_consistency(self.features(frames))
