"""color: among frames where the object is seen with some colour, the fraction with the right colour.

vbench (`color.py`): 16-mid frames, the size rule applied with `cv2.resize(INTER_LINEAR)` on
uint8 frames (unlike the other three detection dimensions), GRiT in **DenseCap** mode. Object
name = prompt with "a "/"an " and the colour removed (`semantic_rules.color_object_name`); each
region's caption is compared against the **top** box's ObjectDet label (quirk, see
`semantic_rules.color_frame_pairs`). Video score = colour frames / object frames.

Videos with no object frame are dropped from VBench's mean. Here such a video gets an error-free
"not counted" outcome expressed as `VideoRejected` (an error record with aggregation weight 0,
excluded from `aggregate`), whose message says it is VBench's rule, not a failure. (An error-free
record with weight 0 is not an option: the records loader in reporting rejects error-free
aggregation weights <= 0.) Counted videos have aggregation weight 1 (dimension score = mean over
counted videos).
"""

from __future__ import annotations

import numpy as np

from repvideo_eval.scoring.decode import DecodedVideo
from repvideo_eval.scoring.detection.dimension_base import DetectionScorer, auxiliary
from repvideo_eval.scoring.records import VideoToScore
from repvideo_eval.scoring.scorer import DimensionScore, VideoRejected
from repvideo_eval.scoring.semantic_rules import color_counts, color_object_name
from repvideo_eval.scoring.semantic_sampling import (
    SEMANTIC_NUM_FRAMES,
    resize_like_cv2,
    sample_middle,
)

NOT_COUNTED = "not counted (VBench drops videos without an object frame)"


class Color(DetectionScorer):
    dimension = "color"
    task = "DenseCap"

    def score(self, frames: np.ndarray, video: DecodedVideo, item: VideoToScore) -> DimensionScore:
        colour = auxiliary(item, self.dimension, "color")
        object_name = color_object_name(item.prompt, colour)
        detections = self.detect_all(
            resize_like_cv2(sample_middle(frames, SEMANTIC_NUM_FRAMES)), [object_name]
        )
        object_frames, colour_frames = color_counts(colour, object_name, detections)
        if object_frames == 0:
            raise VideoRejected(
                f"{NOT_COUNTED}: no frame whose top detection is {object_name!r} with a colour in a caption"
            )
        return DimensionScore(
            score=colour_frames / object_frames,
            aggregation_weight=1.0,
            details={
                **self.base_details(),
                "object_frames": object_frames,
                "color_frames": colour_frames,
            },
        )
