"""Every semantic scorer in tiny-random mode, offline: records, weights, backend naming, rules glue."""

from __future__ import annotations

import numpy as np
import pytest

from repvideo_eval.scoring import ScoringSession, VideoToScore, aggregate
from repvideo_eval.scoring.dimensions.human_action import action_label, umt_input
from repvideo_eval.scoring.semantic_sampling import middle_frame_indices

DIMENSIONS = (
    "object_class",
    "multiple_objects",
    "human_action",
    "color",
    "spatial_relationship",
    "appearance_style",
    "temporal_style",
    "overall_consistency",
)
AUX = {
    "object_class": {"object": "car"},
    "multiple_objects": {"object": "car and dog"},
    "color": {"color": "red"},
    "spatial_relationship": {
        "spatial_relationship": {
            "object_a": "car",
            "object_b": "dog",
            "relationship": "on the left of",
        }
    },
    "appearance_style": {"appearance_style": "Van Gogh style"},
}


@pytest.fixture(scope="module")
def tiny_session():
    return ScoringSession(DIMENSIONS, scoring_weights="tiny-random")


@pytest.fixture(scope="module")
def tiny_records(tiny_session, semantic_videos):
    records = []
    for name in ("square", "short"):
        item = VideoToScore(
            semantic_videos[name], prompt="a red car", auxiliary_info=AUX, key={"video": name}
        )
        records.extend(tiny_session.score(item))
    return records


def test_every_dimension_scores_with_the_expected_weight(tiny_records):
    by_dim = {}
    for record in tiny_records:
        by_dim.setdefault(record.dimension, []).append(record)
    assert set(by_dim) == set(DIMENSIONS)
    for dimension, records in by_dim.items():
        for record in records:
            if dimension == "color" and record.error:
                assert record.error.startswith("not counted") and record.aggregation_weight == 0.0
                continue
            assert record.ok, (dimension, record.error)
            assert record.weights_id.startswith("tiny-random:seed=0")
            if dimension in ("object_class", "multiple_objects", "spatial_relationship"):
                assert record.aggregation_weight == 16.0 and 0.0 <= record.score <= 1.0
                # the default detector, also in tiny mode: a tiny random GRiT in plain PyTorch
                assert record.details["detector"] == "grit-torch" and record.weights_id.endswith(
                    "detector=grit-torch"
                )
            elif dimension == "appearance_style":
                frames = 21 if record.key["video"] == "square" else 9
                assert (
                    record.aggregation_weight == frames
                    and len(record.details["frame_results"]) == frames
                )
                assert record.score == pytest.approx(np.mean(record.details["frame_results"]))
            else:
                assert record.aggregation_weight == 1.0
            if dimension in ("temporal_style", "overall_consistency"):
                assert -1.0 <= record.score <= 1.0


def test_aggregate_weights_give_vbench_frame_means(tiny_records):
    object_records = [r for r in tiny_records if r.dimension == "object_class"]
    total_hits = sum(r.details["success_frame_count"] for r in object_records)
    total_frames = sum(r.details["frame_count"] for r in object_records)
    assert aggregate(tiny_records)["object_class"] == pytest.approx(total_hits / total_frames)
    spatial = [
        s
        for r in tiny_records
        if r.dimension == "spatial_relationship"
        for s in r.details["frame_results"]
    ]
    assert aggregate(tiny_records)["spatial_relationship"] == pytest.approx(np.mean(spatial))


def test_missing_auxiliary_info_is_a_clear_per_video_error(tiny_session, semantic_videos):
    records = tiny_session.score(VideoToScore(semantic_videos["short"], prompt="a red car"))
    errors = {r.dimension: r.error for r in records}
    for dimension in (
        "object_class",
        "multiple_objects",
        "color",
        "spatial_relationship",
        "appearance_style",
    ):
        assert "auxiliary_info" in errors[dimension]
    assert errors["temporal_style"] is None and errors["human_action"] is None


@pytest.mark.parametrize("num_frames", [8, 16])
def test_middle_indices_equal_vbench(num_frames):
    from vbench.utils import get_frame_indices

    for length in range(1, 80):
        assert middle_frame_indices(num_frames, length) == list(
            get_frame_indices(num_frames, length, sample="middle")
        )
    assert middle_frame_indices(16, 49)[:3] == [1, 4, 7]


def test_human_action_label_rule():
    assert action_label("A person is riding a bike") == "riding a bike"
    assert action_label("A person is playing_guitar-3.mp4") == "playing"
    assert action_label("a person is bowling-0.mp4") == action_label("a person is bowling")


def test_umt_input_shape_and_crop():
    frames = np.random.default_rng(0).integers(0, 256, (16, 120, 200, 3), dtype=np.uint8)
    tensor = umt_input(frames)
    assert tensor.shape == (1, 3, 16, 224, 224)
    already = np.random.default_rng(1).integers(0, 256, (16, 256, 300, 3), dtype=np.uint8)
    expected = (already[0, 16:240, 38:262, 0] / 255.0 - 0.485) / 0.229  # no resize, centre crop
    assert np.allclose(umt_input(already)[0, 0, 0].numpy(), expected, atol=1e-6)
