"""scene: does Tag2Text's caption of each frame name the prompt's scene?

vbench (`scene.py`): `load_video(path, num_frames=16, return_tensor=False, width=384,
height=384)`, i.e. decord's `VideoReader(path, width=384, height=384, num_threads=1)` (decord
scales while decoding, aspect ratio not kept) and the 16 "middle" indices
(`get_frame_indices(sample="middle")`, short videos repeat the last index); each frame through
`tag2text_transform(384)` (ToPILImage, Resize((384, 384)) - a no-op at 384, ToTensor, ImageNet
normalisation); all 16 frames go through `Tag2Text_Caption.generate` **as one batch** (which
matters: see `tag2text_compat` - under transformers 4.33 frame b is captioned from the tags of
frame b // 3); prompt "a picture of ", tag threshold 0.7, beam 3, 10..30 tokens.

A frame hits when **every** space-separated word of the scene label is a substring of its
caption (`check_generate`: "bar" matches "barn"). Video score = hits / frames; the dimension
score is total hits / total frames, so the aggregation weight is the frame count (16).

Because decord's scaled decode cannot be reproduced from full-size frames, the scorer reads the
file again with decord at 384x384 (the session's full-size decord frames are only used for the
frame-count check).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torchvision import transforms

from repvideo_eval.scoring.decode import DecodedVideo, VideoDecodeError
from repvideo_eval.scoring.detection.dimension_base import auxiliary
from repvideo_eval.scoring.preprocess import IMAGENET_MEAN, IMAGENET_STD
from repvideo_eval.scoring.records import VideoToScore
from repvideo_eval.scoring.scorer import DimensionScore, Scorer, ScorerContext, VideoRejected
from repvideo_eval.scoring.semantic_models.tag2text import IMAGE_SIZE, load_tag2text
from repvideo_eval.scoring.semantic_sampling import SEMANTIC_NUM_FRAMES, middle_frame_indices

TAG2TEXT_TRANSFORM = transforms.Compose(
    [
        transforms.ToPILImage(),
        transforms.Resize(
            (IMAGE_SIZE, IMAGE_SIZE), antialias=False
        ),  # PIL path: bilinear, antialias ignored
        transforms.ToTensor(),
        transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
    ]
)


def scene_label(entry) -> str:
    """The label from `auxiliary_info["scene"]["scene"]`, which VBench_full_info.json nests once more.

    The JSON has `{"scene": {"scene": {"scene": "alley"}}}`; vbench's `scene()` reads
    `info["auxiliary_info"]["scene"]` and `check_generate` then `["scene"]`.
    """
    if isinstance(entry, dict):
        entry = entry.get("scene")
    if not isinstance(entry, str) or not entry:
        raise VideoRejected(
            "scene needs auxiliary_info['scene']['scene']['scene'], a non-empty label"
        )
    return entry


def scene_hit(label: str, caption: str) -> bool:
    """vbench's `check_generate` for one caption: every `label.split(' ')` word is a substring."""
    return all(word in caption for word in label.split(" "))


def read_frames_384(path, num_frames: int = SEMANTIC_NUM_FRAMES) -> np.ndarray:
    """vbench's `load_video(path, num_frames=16, width=384, height=384)` for an mp4: (16, 384, 384, 3) uint8."""
    import decord

    try:
        decord.bridge.set_bridge("native")
        reader = decord.VideoReader(str(path), width=IMAGE_SIZE, height=IMAGE_SIZE, num_threads=1)
        count = len(reader)
        if count == 0:
            raise VideoDecodeError("the video has zero frames")
        frames = (
            reader.get_batch(middle_frame_indices(num_frames, count)).asnumpy().astype(np.uint8)
        )
        del reader
    except VideoDecodeError:
        raise
    except Exception as exc:  # decord's own error types
        raise VideoDecodeError(
            f"decord cannot read the file at 384x384: {str(exc).strip()[:200]}"
        ) from None
    return frames


class Scene(Scorer):
    dimension = "scene"
    decoder = "decord"
    min_frames = 1

    def __init__(
        self,
        context: ScorerContext,
        model: Any = None,
        weights_id: str | None = None,
    ) -> None:
        super().__init__(context)
        if model is None:
            self.model, self.weights_id = load_tag2text(context)
        else:  # a prepared captioner (tests)
            self.model, self.weights_id = model.to(context.device).eval(), weights_id or "injected"

    def captions(self, frames: np.ndarray) -> tuple[list[str], list[str]]:
        """(captions, tag strings) of uint8 RGB frames, all in one batch as vbench does."""
        batch = torch.stack([TAG2TEXT_TRANSFORM(frame) for frame in frames]).to(self.context.device)
        with torch.no_grad():
            captions, tags = self.model.generate(batch, tag_input=None, return_tag_predict=True)
        return list(captions), list(tags)

    def score(self, frames: np.ndarray, video: DecodedVideo, item: VideoToScore) -> DimensionScore:
        scene = scene_label(auxiliary(item, self.dimension, "scene"))
        frames384 = read_frames_384(video.path)
        captions, tags = self.captions(frames384)
        hits = [scene_hit(scene, caption) for caption in captions]
        return DimensionScore(
            score=sum(hits) / len(captions),
            aggregation_weight=float(len(captions)),
            details={
                "scene": scene,
                "success_frame_count": sum(hits),
                "frame_count": len(captions),
                "captions": captions,
                "tags": tags,
            },
        )
