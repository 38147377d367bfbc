"""temporal_style: ViCLIP cosine between the video (8 frames) and its full prompt.

vbench (`temporal_style.py`, identical to `overall_consistency.py` but for the prompt list):
8 frames with `read_frames_decord_by_fps(num_frames=8, sample="middle")` (uint8 tensor), then
`clip_transform(224)` on the **uint8** tensor (torchvision resizes uint8 and rounds back to
uint8, unlike the float path of the quality dimensions), ViCLIP video and text embeddings
(prompt tokenised to 32 CLIP-BPE tokens, truncated), both L2-normalised; score = their dot
product. Aggregation weight 1 (dimension = mean over videos).

vbench caches text features per prompt in a mutable default argument for the life of the
process (a second model in the same process reuses stale features); our cache belongs to the
scorer instance.
"""

from __future__ import annotations

import numpy as np
import torch

from repvideo_eval.scoring.decode import DecodedVideo
from repvideo_eval.scoring.preprocess import clip_transform
from repvideo_eval.scoring.records import VideoToScore
from repvideo_eval.scoring.scorer import DimensionScore, Scorer, ScorerContext, VideoRejected
from repvideo_eval.scoring.semantic_models.viclip import load_viclip
from repvideo_eval.scoring.semantic_sampling import VICLIP_NUM_FRAMES, sample_middle


class ViclipPromptSimilarity(Scorer):
    """The shared computation of temporal_style and overall_consistency."""

    decoder = "decord"
    min_frames = 1

    def __init__(self, context: ScorerContext) -> None:
        super().__init__(context)
        self.model, self.weights_id = load_viclip(context)
        self._text_cache: dict[str, torch.Tensor] = {}

    def prompt_features(self, prompt: str) -> torch.Tensor:
        if prompt not in self._text_cache:
            self._text_cache[prompt] = self.model.text_features(prompt)
        return self._text_cache[prompt]

    @torch.inference_mode()
    def score(self, frames: np.ndarray, video: DecodedVideo, item: VideoToScore) -> DimensionScore:
        if not item.prompt:
            raise VideoRejected(
                f"{self.dimension} compares the video with its prompt; the item has no prompt"
            )
        clip_frames = torch.from_numpy(
            np.ascontiguousarray(sample_middle(frames, VICLIP_NUM_FRAMES))
        ).permute(0, 3, 1, 2)
        images = clip_transform(clip_frames).to(self.context.device)
        similarity = self.model.video_features(images) @ self.prompt_features(item.prompt).t()
        return DimensionScore(score=float(similarity[0][0].cpu()), aggregation_weight=1.0)


class TemporalStyle(ViclipPromptSimilarity):
    dimension = "temporal_style"
