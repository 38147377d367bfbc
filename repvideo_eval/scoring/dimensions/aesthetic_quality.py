"""aesthetic_quality: LAION aesthetic predictor (linear head on CLIP ViT-L/14 features).

vbench (`aesthetic_quality.laion_aesthetic`): all frames via decord, `clip_transform(224)`,
batches of 32, `encode_image` (fp16 on CUDA) -> float32 -> L2-normalise -> Linear(768, 1);
frame score = output / 10; video score = float32 mean over frames. Aggregation weight 1 (dimension
score = mean over videos). Head file: `aesthetic_model/emb_reader/sa_0_4_vit_l_14_linear.pth`.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from repvideo_eval.scoring.checkpoints import load_state_file
from repvideo_eval.scoring.decode import DecodedVideo
from repvideo_eval.scoring.models.clip_models import load_clip
from repvideo_eval.scoring.models.loading import resolve_for, seeded
from repvideo_eval.scoring.preprocess import batches, clip_transform, frames_as_float
from repvideo_eval.scoring.records import VideoToScore
from repvideo_eval.scoring.scorer import DimensionScore, Scorer, ScorerContext


class AestheticQuality(Scorer):
    dimension = "aesthetic_quality"
    decoder = "decord"
    min_frames = 1
    batch_size = 32

    def __init__(self, context: ScorerContext) -> None:
        super().__init__(context)
        self.clip, clip_id = load_clip(context, "clip_vit_l14", tiny_embed_dim=768)
        self.head = torch.nn.Linear(768, 1)
        if context.tiny_random:
            with seeded(context.seed + 1):
                self.head.reset_parameters()
            self.weights_id = clip_id
        else:
            resolved = resolve_for(context, "laion_aesthetic_head")
            self.head.load_state_dict(load_state_file(resolved.path))
            self.weights_id = f"{clip_id}+{resolved.weights_id}"
        self.head = self.head.to(context.device).eval()

    @torch.inference_mode()
    def score(self, frames: np.ndarray, video: DecodedVideo, item: VideoToScore) -> DimensionScore:
        images = frames_as_float(frames)
        scores = []
        for a, b in batches(len(images), self.batch_size):
            batch = clip_transform(images[a:b]).to(self.context.device)
            feats = F.normalize(self.clip.encode_image(batch).to(torch.float32), dim=-1, p=2)
            scores.append(self.head(feats).squeeze(dim=-1))
        per_frame = torch.cat(scores) / 10
        return DimensionScore(
            score=torch.mean(per_frame, dim=0, keepdim=True).item(),
            aggregation_weight=1.0,
            details={"frames": int(len(frames))},
        )
