"""imaging_quality: MUSIQ (SPAQ) technical quality of every frame.

vbench (`imaging_quality.technical_quality`): all frames via decord as float 0..255; default
preprocessing mode "longer": if max(H, W) > 512, Resize to (int(s*H), int(s*W)) with
s = 512/max(H, W) (bilinear, antialias=False); then /255. MUSIQ runs frame by frame; video score =
mean of `float(score)` over frames on MUSIQ's 0..100 scale. The dimension score divides the mean
over videos by 100, so records carry score = video mean / 100 (aggregation weight 1) and keep the
raw 0..100 value in details["musiq"] (that raw value is what eval_results.json lists per video).
Other vbench modes ("shorter", "shorter_centercrop", "None") are available via `preprocess_mode`.
"""

from __future__ import annotations

import numpy as np
import torch
import torchvision.transforms.functional as TF

from repvideo_eval.scoring.decode import DecodedVideo
from repvideo_eval.scoring.models.loading import batch_size_for
from repvideo_eval.scoring.models.musiq import load_musiq
from repvideo_eval.scoring.preprocess import batches, frames_as_float
from repvideo_eval.scoring.records import VideoToScore
from repvideo_eval.scoring.scorer import DimensionScore, Scorer, ScorerContext

PREPROCESS_MODES = ("longer", "shorter", "shorter_centercrop", "None")


def musiq_input(frames: torch.Tensor, mode: str = "longer") -> torch.Tensor:
    """vbench `imaging_quality.transform` on (T, 3, H, W) float 0..255 frames."""
    _, _, height, width = frames.shape
    if mode.startswith("shorter"):
        if min(height, width) > 512:
            scale = 512.0 / min(height, width)
            frames = TF.resize(frames, [int(scale * height), int(scale * width)], antialias=False)
            if mode == "shorter_centercrop":
                frames = TF.center_crop(frames, 512)
    elif mode == "longer":
        if max(height, width) > 512:
            scale = 512.0 / max(height, width)
            frames = TF.resize(frames, [int(scale * height), int(scale * width)], antialias=False)
    elif mode != "None":
        raise ValueError(
            f"unknown imaging_quality preprocessing mode {mode!r}; use one of {PREPROCESS_MODES}"
        )
    return frames / 255.0


class ImagingQuality(Scorer):
    dimension = "imaging_quality"
    decoder = "decord"
    min_frames = 1
    batch_size = 8
    preprocess_mode = "longer"

    def __init__(self, context: ScorerContext) -> None:
        super().__init__(context)
        self.model, self.weights_id = load_musiq(context)
        self.batch_size = batch_size_for(context.device, type(self).batch_size)

    @torch.inference_mode()
    def score(self, frames: np.ndarray, video: DecodedVideo, item: VideoToScore) -> DimensionScore:
        images = musiq_input(frames_as_float(frames), self.preprocess_mode)
        per_frame: list[float] = []
        for a, b in batches(len(images), self.batch_size):
            per_frame.extend(self.model(images[a:b].to(self.context.device)).reshape(-1).tolist())
        total = 0.0
        for value in per_frame:
            total += float(value)
        musiq = total / len(per_frame)
        return DimensionScore(
            score=musiq / 100.0,
            aggregation_weight=1.0,
            details={"frames": len(per_frame), "musiq": musiq},
        )
