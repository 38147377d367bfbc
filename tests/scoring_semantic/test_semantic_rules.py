"""The box/label rules against vbench 0.1.5's OWN rule functions, with fixed detections.

Two levels:
* rule functions alone (`get_position_score`, `check_generate`, `get_dect_from_grit`) on random
  boxes and detections;
* vbench's whole per-dimension loops (`object_class(model, video_dict, device)` etc., which read
  the video with vbench's decord path, sample 16 frames, apply the size rule) with GRiT replaced
  by a deterministic fake, against our scorers with the same fake behind our Detector interface.
  Equal numbers there mean equal frames, equal resizing and equal rules.
"""

from __future__ import annotations

import numpy as np
import pytest

from repvideo_eval.scoring.decode import DecodedVideo
from repvideo_eval.scoring.detection.grit import detections_from_grit
from repvideo_eval.scoring.dimensions.color import Color
from repvideo_eval.scoring.dimensions.multiple_objects import MultipleObjects
from repvideo_eval.scoring.dimensions.object_class import ObjectClass
from repvideo_eval.scoring.dimensions.spatial_relationship import SpatialRelationship
from repvideo_eval.scoring.records import VideoToScore
from repvideo_eval.scoring.scorer import ScorerContext, VideoRejected
from repvideo_eval.scoring.semantic_rules import (
    color_counts,
    color_object_name,
    frame_label_set,
    multiple_objects_hits,
    object_class_hits,
    position_score,
    spatial_frame_scores,
)

from .fake_grit import LABELS, FakeDenseCaptioning, FakeGritDetector, fake_grit_output

RELATIONS = (
    "on the left of",
    "on the right of",
    "on the top of",
    "on the bottom of",
    "left",
    "top of",
    "next to",
)


def _random_boxes(rng, count):
    boxes = []
    for _ in range(count):
        x0, y0 = rng.integers(0, 90, size=2)
        boxes.append(
            [int(x0), int(y0), int(x0 + rng.integers(1, 40)), int(y0 + rng.integers(1, 40))]
        )
    return boxes


def test_position_score_equals_vbench_on_random_boxes(vbench_rule_modules):
    reference = vbench_rule_modules.spatial_relationship.get_position_score
    rng = np.random.default_rng(0)
    nonzero = 0
    for _ in range(3000):
        box1, box2 = _random_boxes(rng, 2)
        relation = RELATIONS[int(rng.integers(len(RELATIONS)))]
        ours = position_score(relation, box1, box2)
        assert ours == reference(relation, box1, box2)
        nonzero += ours not in (0, 1)
    assert nonzero > 50  # the overlapping branch (0.1 / IoU) was exercised


def test_position_score_ignores_direction():
    left, right = [0, 0, 10, 10], [50, 0, 60, 10]
    assert (
        position_score("on the left of", left, right)
        == position_score("on the left of", right, left)
        == 1
    )
    assert position_score("on the right of", left, right) == 1  # VBench never checks the sign
    assert position_score("on the top of", left, right) == 0  # wrong axis


def _frames_from_fake(rng_seed, task, count=16):
    frames = [np.full((64, 96, 3), (rng_seed * 31 + i) % 256, np.uint8) for i in range(count)]
    return frames, [fake_grit_output(f, task) for f in frames]


@pytest.mark.parametrize("seed", range(8))
def test_frame_rules_equal_vbench_check_generate(vbench_rule_modules, seed):
    v = vbench_rule_modules
    frames, outputs = _frames_from_fake(seed, "ObjectDet")
    ours = [detections_from_grit(o) for o in outputs]
    fake = FakeDenseCaptioning("ObjectDet")

    labels_ref = v.object_class.get_dect_from_grit(fake, frames)
    assert [frame_label_set(d) for d in ours] == labels_ref
    for target in LABELS:
        assert object_class_hits(target, ours) == v.object_class.check_generate(target, labels_ref)
    pairs_ref = v.multiple_objects.get_dect_from_grit(fake, frames)
    for pair in ("car and dog", "cat and person", "bird and car"):
        assert multiple_objects_hits(pair, ours) == v.multiple_objects.check_generate(
            pair, pairs_ref
        )
    boxes_ref = v.spatial_relationship.get_dect_from_grit(fake, frames)
    for relation in RELATIONS[:4]:
        info = {"object_a": "car", "object_b": "dog", "relationship": relation}
        assert spatial_frame_scores(info, ours) == v.spatial_relationship.check_generate(
            info, boxes_ref
        )


@pytest.mark.parametrize("seed", range(8))
def test_color_rule_equals_vbench(vbench_rule_modules, seed):
    v = vbench_rule_modules
    frames, outputs = _frames_from_fake(seed, "DenseCap")
    ours = [detections_from_grit(o) for o in outputs]
    reference = v.color.get_dect_from_grit(FakeDenseCaptioning("DenseCap"), np.stack(frames))
    for colour, prompt in (
        ("red", "a red car"),
        ("blue", "a blue car"),
        ("green", "a green bird"),
        ("red", "a red dog"),
    ):
        name = color_object_name(prompt, colour)
        assert color_counts(colour, name, ours) == v.color.check_generate(colour, name, reference)


def test_color_compares_every_caption_with_the_top_box_label():
    from repvideo_eval.scoring.semantic_rules import FrameDetections, Region

    frame = FrameDetections(
        (Region("a blue sky", (0, 0, 5, 5)), Region("a red car", (5, 5, 9, 9))), ("car", "sky")
    )
    # The sky caption counts for "car" because the top ObjectDet label is "car" (vbench's det_obj[0]).
    assert color_counts("blue", "car", [frame]) == (1, 1)
    assert color_counts("red", "sky", [frame]) == (0, 0)


def _aux_item(path, dimension, prompt, entry):
    return VideoToScore(path, prompt=prompt, auxiliary_info={dimension: entry})


CASES = {
    "object_class": (ObjectClass, "ObjectDet", "a car", {"object": "car"}),
    "multiple_objects": (
        MultipleObjects,
        "ObjectDet",
        "a car and a dog",
        {"object": "car and dog"},
    ),
    "spatial_relationship": (
        SpatialRelationship,
        "ObjectDet",
        "a car on the left of a dog",
        {
            "spatial_relationship": {
                "object_a": "car",
                "object_b": "dog",
                "relationship": "on the left of",
            }
        },
    ),
    "color": (Color, "DenseCap", "a red car", {"color": "red"}),
}


def _vbench_video_results(v, dimension, task, video, prompt, entry):
    module = getattr(v, dimension)
    fake = FakeDenseCaptioning(task)
    video_dict = [{"prompt": prompt, "video_list": [str(video)], "auxiliary_info": entry}]
    _, results = getattr(module, dimension)(fake, video_dict, "cpu")
    return results, fake.frames_seen


@pytest.mark.parametrize("dimension", sorted(CASES))
@pytest.mark.parametrize("video_name", ["square", "short", "large"])
def test_whole_dimension_equals_vbench_with_fixed_detector(
    vbench_rule_modules, semantic_videos, dimension, video_name
):
    scorer_cls, task, prompt, entry = CASES[dimension]
    video = semantic_videos[video_name]
    reference, frames_vbench = _vbench_video_results(
        vbench_rule_modules, dimension, task, video, prompt, entry
    )

    detector = FakeGritDetector(task)
    scorer = scorer_cls(ScorerContext(scoring_weights="tiny-random"), detector=detector)
    decoded = DecodedVideo(video)
    item = _aux_item(video, dimension, prompt, entry)
    try:
        result = scorer.score(decoded.frames(scorer.decoder), decoded, item)
    except VideoRejected:
        assert dimension == "color" and reference == []  # vbench drops the video too
        return
    (row,) = reference
    assert frames_vbench == detector.frames_seen
    assert result.score == pytest.approx(float(row["video_results"]), abs=1e-12)
    if dimension != "color":
        assert result.aggregation_weight == 16.0
    else:
        assert result.aggregation_weight == 1.0


def test_fixed_detector_cases_are_not_degenerate(vbench_rule_modules, semantic_videos):
    """The fake must produce both hits and misses, or the equality test above proves little."""
    scores = []
    for video_name in ("square", "short", "large"):
        for dimension in ("object_class", "spatial_relationship"):
            _, task, prompt, entry = CASES[dimension]
            results, _ = _vbench_video_results(
                vbench_rule_modules, dimension, task, semantic_videos[video_name], prompt, entry
            )
            scores.append(float(results[0]["video_results"]))
    assert any(0 < s < 1 for s in scores)
