"""appearance_style: CLIP ViT-B/32 similarity of every frame with the style phrase.

vbench (`appearance_style.py`): all frames (decord), each through the **PIL** path
`clip_transform_Image(224)` (PIL bicubic resize of the short side, which antialiases, center crop,
ToTensor, CLIP normalisation), then `clip_model(image, clip.tokenize([style]))` and frame score =
`logits_per_text / 100`. logits_per_text = exp(logit_scale) * cosine, with `logit_scale` **from the
checkpoint** (trained OpenAI CLIP sits at the clamp, exp = 100; a file storing ln(100) in fp16 gives
100.03), so we use the model's own value, never a constant 100. Video score = mean over frames;
dimension = mean over **all frames** of all videos, so the aggregation weight is the frame count.
(vbench's multi-GPU path averages each video's *last* frame score instead, a bug we do not
reproduce.) Frames are encoded in batches; vbench runs one at a time.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torchvision import transforms
from torchvision.transforms import InterpolationMode

from repvideo_eval.scoring.decode import DecodedVideo
from repvideo_eval.scoring.detection.dimension_base import auxiliary
from repvideo_eval.scoring.models.clip_models import load_clip
from repvideo_eval.scoring.preprocess import CLIP_MEAN, CLIP_STD, batches
from repvideo_eval.scoring.records import VideoToScore
from repvideo_eval.scoring.scorer import DimensionScore, Scorer, ScorerContext

PIL_CLIP_TRANSFORM = transforms.Compose(
    [
        transforms.Resize(
            224, interpolation=InterpolationMode.BICUBIC, antialias=False
        ),  # PIL ignores antialias
        transforms.CenterCrop(224),
        transforms.ToTensor(),
        transforms.Normalize(CLIP_MEAN, CLIP_STD),
    ]
)


class AppearanceStyle(Scorer):
    dimension = "appearance_style"
    decoder = "decord"
    min_frames = 1
    batch_size = 32

    def __init__(self, context: ScorerContext) -> None:
        super().__init__(context)
        self.model, self.weights_id = load_clip(context, "clip_vit_b32", tiny_embed_dim=32)
        self._text_cache: dict[str, torch.Tensor] = {}

    def style_features(self, style: str) -> torch.Tensor:
        """Normalised text features of the style phrase (CLIP tokenizer, 77 tokens)."""
        if style not in self._text_cache:
            import clip

            tokens = clip.tokenize([style]).to(self.context.device)
            self._text_cache[style] = F.normalize(self.model.encode_text(tokens), dim=-1)
        return self._text_cache[style]

    @torch.inference_mode()
    def score(self, frames: np.ndarray, video: DecodedVideo, item: VideoToScore) -> DimensionScore:
        style = auxiliary(item, self.dimension, "appearance_style")
        text = self.style_features(style)
        images = torch.stack([PIL_CLIP_TRANSFORM(Image.fromarray(frame)) for frame in frames])
        scale = self.model.logit_scale.exp()
        per_frame = []
        for a, b in batches(len(images), self.batch_size):
            image_features = F.normalize(
                self.model.encode_image(images[a:b].to(self.context.device)), dim=-1
            )
            per_frame.append((scale * text @ image_features.t())[0].float().cpu() / 100)
        frame_scores = [float(v) for v in torch.cat(per_frame)]
        return DimensionScore(
            score=float(np.mean(frame_scores)),
            aggregation_weight=float(len(frame_scores)),
            details={"frame_results": frame_scores, "logit_scale_exp": float(scale)},
        )
