"""The "fast" (clip-to-clip) consistency score of VBench-Long with `--dev_flag`.

vbench2_beta_long scores the video made of the first frame of every clip with another model than
the in-clip score:

* subject_consistency: DINOv2 ViT-B/14, `subject_consistency_dinov2`: frames through
  `dinov2_transform(224)` (Resize(256, bicubic), CenterCrop(224), /255,
  ImageNet Normalize), `model(frame)` one frame at a time, L2-normalised;
* background_consistency: DreamSim ensemble, `background_consistency_dreamsim`: frames through
  `dreamsim_transform(224)` (Resize((224, 224), bicubic), /255),
  `model.embed(frames)` on the whole video at once, L2-normalised.

Both then average, over frames 1..n-1, `(max(0, cos(prev, cur)) + max(0, cos(first, cur))) / 2`.
Frames come from vbench's `load_video` (decord, all frames), i.e. `DecodedVideo.decord_rgb()`,
which hands them over as a **float32** tensor (`torch.Tensor(uint8 array)`, values 0..255): the
bicubic resizes run on floats, without the rounding and clamping a uint8 resize would do
(that difference alone moves a score by ~1e-3).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from repvideo_eval.scoring.preprocess import IMAGENET_MEAN, IMAGENET_STD
from repvideo_eval.scoring.scorer import ScorerContext

#: `details.clip2clip_extractor` per dimension (what vbench's --dev_flag selects).
FAST_EXTRACTORS = {
    "subject_consistency": "dinov2_vitb14",
    "background_consistency": "dreamsim_ensemble",
}


def dinov2_transform(n_px: int = 224) -> Callable[[torch.Tensor], torch.Tensor]:
    """vbench2_beta_long.utils.dinov2_transform on (T, C, H, W) float 0..255 tensors."""
    from torchvision import transforms

    return transforms.Compose(
        [
            transforms.Resize(256, interpolation=transforms.InterpolationMode.BICUBIC),
            transforms.CenterCrop(n_px),
            transforms.Lambda(lambda x: x.float().div(255.0)),
            transforms.Normalize(mean=IMAGENET_MEAN, std=IMAGENET_STD),
        ]
    )


def dreamsim_transform(n_px: int = 224) -> Callable[[torch.Tensor], torch.Tensor]:
    """vbench2_beta_long.utils.dreamsim_transform on (T, C, H, W) float 0..255 tensors."""
    from torchvision import transforms

    return transforms.Compose(
        [
            transforms.Resize((n_px, n_px), interpolation=transforms.InterpolationMode.BICUBIC),
            transforms.Lambda(lambda x: x.float().div(255.0)),
        ]
    )


def consistency_rule(features: torch.Tensor) -> float:
    """vbench's per-video rule on L2-normalised (n, d) features; n >= 2."""
    if len(features) < 2:
        raise ValueError("the fast video needs at least two frames")
    total = 0.0
    for i in range(1, len(features)):
        current = features[i : i + 1]
        sim_pre = max(0.0, F.cosine_similarity(features[i - 1 : i], current).item())
        sim_fir = max(0.0, F.cosine_similarity(features[0:1], current).item())
        total += (sim_pre + sim_fir) / 2
    return total / (len(features) - 1)


class FastConsistency:
    """Loads the dimension's --dev_flag fast model once; `score(frames)` -> the clip2clip score."""

    model: Any  # our DINOv2 ViT, or dreamsim's ensemble (untyped)

    def __init__(self, dimension: str, context: ScorerContext) -> None:
        if dimension not in FAST_EXTRACTORS:
            raise ValueError(f"no VBench-Long fast model for {dimension!r}")
        self.dimension = dimension
        self.extractor = FAST_EXTRACTORS[dimension]
        self.device = context.device
        if dimension == "subject_consistency":
            from repvideo_eval.scoring.models.dinov2 import load_dinov2

            self.model, self.weights_id = load_dinov2(context)
            self.transform = dinov2_transform(224)
        else:
            from repvideo_eval.scoring.models.dreamsim_model import load_dreamsim

            self.model, self.weights_id = load_dreamsim(context)
            self.transform = dreamsim_transform(224)

    @torch.no_grad()
    def features(self, frames: np.ndarray) -> torch.Tensor:
        """L2-normalised features of (T, H, W, 3) uint8 frames, as vbench computes them."""
        # as vbench's load_video: torch.Tensor(uint8 frames) -> float32, (T, C, H, W)
        images = self.transform(
            torch.from_numpy(np.ascontiguousarray(frames)).float().permute(0, 3, 1, 2)
        )
        images = images.to(self.device)
        if self.dimension == "subject_consistency":  # vbench: one frame at a time
            feats = torch.cat([self.model(images[i : i + 1]) for i in range(len(images))])
        else:  # vbench: the whole video in one embed() call
            feats = self.model.embed(images)
        return F.normalize(feats.float(), dim=-1, p=2).cpu()

    def score(self, frames: np.ndarray) -> float:
        return consistency_rule(self.features(frames))
