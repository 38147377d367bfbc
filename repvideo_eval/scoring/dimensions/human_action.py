"""human_action: is the prompt's Kinetics-400 action among UMT's confident top-5 classes?

vbench (`human_action.py`): 16-mid frames (decord); per frame cv2 bilinear resize of the short side
to 256 (`int(256 * long / short)`, skipped when the short side is already 256), center crop 224 at
`round((W - 224) / 2)` (Python's round), /255, ImageNet normalisation; UMT ViT-L/16 (16 frames,
tubelet 1) -> sigmoid -> top-5; the video is correct when the label is among the top-5 classes whose
probability, **rounded to 4 decimals**, is >= 0.85. Score 1.0/0.0, aggregation weight 1.

The label: vbench reads it from the file name `{prompt}-{i}.mp4`:
`lower().split('-')[0].split('person is ')[-1].split('_')[0]`. Our files are content-addressed,
so the same rule runs on the prompt (identical result: the `-{i}` suffix is cut either way).
"""

from __future__ import annotations

import numpy as np
import torch

from repvideo_eval.scoring.decode import DecodedVideo
from repvideo_eval.scoring.preprocess import IMAGENET_MEAN, IMAGENET_STD
from repvideo_eval.scoring.records import VideoToScore
from repvideo_eval.scoring.scorer import DimensionScore, Scorer, ScorerContext, VideoRejected
from repvideo_eval.scoring.semantic_models.umt import kinetics_categories, load_umt
from repvideo_eval.scoring.semantic_sampling import SEMANTIC_NUM_FRAMES, sample_middle

CONFIDENCE = 0.85
TOP_K = 5


def action_label(prompt_or_filename: str) -> str:
    """vbench's label rule (see module docstring)."""
    return prompt_or_filename.lower().split("-")[0].split("person is ")[-1].split("_")[0]


def umt_input(frames: np.ndarray) -> torch.Tensor:
    """UMT's (1, 3, T, 224, 224) float32 input from uint8 RGB frames (vbench's video_transforms)."""
    import cv2

    height, width = frames.shape[1:3]
    if not ((width <= height and width == 256) or (height <= width and height == 256)):
        if width < height:
            new_w, new_h = 256, int(256 * height / width)
        else:
            new_w, new_h = int(256 * width / height), 256
        frames = np.stack(
            [cv2.resize(f, (new_w, new_h), interpolation=cv2.INTER_LINEAR) for f in frames]
        )
    height, width = frames.shape[1:3]
    top, left = int(round((height - 224) / 2.0)), int(round((width - 224) / 2.0))
    crop = frames[:, top : top + 224, left : left + 224, :]
    clip = torch.from_numpy(crop.astype(np.float64)).permute(3, 0, 1, 2).float() / 255
    mean = torch.tensor(IMAGENET_MEAN, dtype=torch.float32)[:, None, None, None]
    std = torch.tensor(IMAGENET_STD, dtype=torch.float32)[:, None, None, None]
    return ((clip - mean) / std).unsqueeze(0)


class HumanAction(Scorer):
    dimension = "human_action"
    decoder = "decord"
    min_frames = 1

    def __init__(self, context: ScorerContext) -> None:
        super().__init__(context)
        self.model, self.weights_id = load_umt(context)
        self.categories = kinetics_categories()

    @torch.inference_mode()
    def score(self, frames: np.ndarray, video: DecodedVideo, item: VideoToScore) -> DimensionScore:
        label = action_label(item.prompt or video.path.name)
        if not label:
            raise VideoRejected(
                "human_action needs the action in the prompt (e.g. 'A person is riding a bike')"
            )
        frames16 = sample_middle(frames, SEMANTIC_NUM_FRAMES)
        probs = torch.sigmoid(self.model(umt_input(frames16).to(self.context.device)).float())
        top_probs, top_index = torch.topk(probs, TOP_K, dim=1)
        top = [
            (self.categories[int(i)], round(float(p), 4))
            for p, i in zip(top_probs[0].cpu(), top_index[0].cpu())
        ]
        confident = [name for name, p in top if p >= CONFIDENCE]
        correct = label in confident
        return DimensionScore(
            score=1.0 if correct else 0.0,
            aggregation_weight=1.0,
            details={"label": label, "top5": [[n, p] for n, p in top]},
        )
