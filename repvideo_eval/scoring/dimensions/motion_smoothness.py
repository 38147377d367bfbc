"""motion_smoothness: how well AMT-S predicts the dropped odd frames from the even ones.

vbench (`motion_smoothness.MotionSmoothness.motion_score`):
1. every frame from OpenCV, BGR->RGB, uint8, native size;
2. inputs = frames 0, 2, 4, ... as float /255 tensors, replicate-padded to a multiple of 16
   (AMT's InputPadder, split evenly: left = pad//2);
3. AMT-S on each consecutive input pair with embt = 0.5, scale_factor 1, eval=True, one
   iteration. (vbench's VRAM-based down-scaling never triggers: evaluate.py passes
   torch.device("cuda") and the code compares it with the string 'cuda', so the CPU branch with
   scale 1 is used on GPU as well; we use scale 1 everywhere);
4. predictions unpadded and converted with (x*255).clip(0,255).astype(uint8) (truncation);
5. error_k = mean(cv2.absdiff(frame[2k+1], pred_k)) on uint8; with an even frame count the last
   odd frame has no prediction and is ignored;
6. video score = (255 - mean_k error_k) / 255; aggregation weight 1.
Needs >= 3 frames (vbench asserts >1 even frame). We run the pairs in batches (embt expanded
to the batch), fp32 like vbench.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from repvideo_eval.scoring.decode import DecodedVideo, min_side_for_pyramid
from repvideo_eval.scoring.models.amt import load_amt
from repvideo_eval.scoring.models.loading import batch_size_for
from repvideo_eval.scoring.preprocess import batches, pad_amounts
from repvideo_eval.scoring.records import VideoToScore
from repvideo_eval.scoring.scorer import DimensionScore, Scorer, ScorerContext, VideoRejected


class MotionSmoothness(Scorer):
    dimension = "motion_smoothness"
    decoder = "cv2"
    min_frames = 3
    batch_size = 8

    def __init__(self, context: ScorerContext) -> None:
        super().__init__(context)
        self.model, self.weights_id = load_amt(context)
        self.batch_size = batch_size_for(context.device, type(self).batch_size)

    @torch.inference_mode()
    def interpolate(self, even_frames: np.ndarray) -> np.ndarray:
        """AMT middle frames between consecutive frames, as uint8 (N-1, H, W, 3)."""
        tensors = (
            torch.from_numpy(np.ascontiguousarray(even_frames)).permute(0, 3, 1, 2).float() / 255.0
        )
        height, width = tensors.shape[-2:]
        left, right, top, bottom = pad_amounts(height, width, 16)
        padded = F.pad(tensors, [left, right, top, bottom], mode="replicate")
        outputs = []
        for a, b in batches(len(padded) - 1, self.batch_size):
            first = padded[a:b].to(self.context.device)
            second = padded[a + 1 : b + 1].to(self.context.device)
            embt = torch.full((b - a, 1, 1, 1), 0.5, device=self.context.device)
            pred = self.model(first, second, embt, scale_factor=1.0, eval=True)["imgt_pred"]
            outputs.append(pred[..., top : top + height, left : left + width].cpu())
        predicted = torch.cat(outputs)
        return (predicted * 255.0).permute(0, 2, 3, 1).numpy().clip(0, 255).astype(np.uint8)

    def score(self, frames: np.ndarray, video: DecodedVideo, item: VideoToScore) -> DimensionScore:
        height, width = frames.shape[1:3]
        left, right, top, bottom = pad_amounts(height, width, 16)
        needed = min_side_for_pyramid(self.model.corr_levels)
        if min(height + top + bottom, width + left + right) < needed:
            raise VideoRejected(
                f"frames of {width}x{height} px are too small for AMT's {self.model.corr_levels}-level "
                f"correlation pyramid (each level needs 2 cells: >= {needed} px after padding to a multiple of 16)"
            )
        rgb = np.ascontiguousarray(frames[..., ::-1])  # OpenCV BGR -> RGB, as vbench converts
        predicted = self.interpolate(rgb[0::2])
        originals = rgb[1::2][: len(predicted)]
        errors = [
            np.mean(np.abs(o.astype(np.int16) - p.astype(np.int16)).astype(np.uint8))
            for o, p in zip(originals, predicted)
        ]
        mean_error = float(np.mean(np.array(errors)))
        return DimensionScore(
            score=(255.0 - mean_error) / 255.0,
            aggregation_weight=1.0,
            details={
                "frames": int(len(frames)),
                "interpolated": int(len(predicted)),
                "mean_abs_error": mean_error,
            },
        )
