"""GRiT's real path: vbench's DenseCaptioning on detectron2, random weights in the official format.

Needs detectron2 (not on PyPI): `scripts/grit_check.sh DETECTRON2_SRC` builds a side venv with it
and runs this file (`-m grit`). Without detectron2 the module is skipped; the tests are also
marked `slow`, so `make test` (`-m "not slow"`) deselects them.

What runs (CPU, ~5 minutes on 2 cores): tests/scoring_grit/grit_checkpoint.py writes a random
GRiT-B DenseCap+ObjectDet checkpoint ({"model": state_dict, "iteration": 0}) as
`$VBENCH_CACHE_DIR/grit_model/grit_b_densecap_objectdet.pth` in a temp cache, rigged so boxes
pass on some frames and the text decoder says "car" (ObjectDet) / "red car" (DenseCap). Then
  * the project's GritDetector in both task modes: checkpoint read only by
    torch.load(weights_only=True), every tensor of the built model equal to the file's;
  * the four dimensions through ScoringSession(scoring_weights="local", REPVIDEO_EVAL_DETECTOR=grit-detectron2):
    records name detector grit; and vbench's own `object_class(model, video_dict, device)` etc.
    with vbench's own DenseCaptioning loaded from the same file: equal per-video scores and the
    same raw GRiT outputs on the same frames.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from scoring.synthetic_videos import render_frames, write_video

from repvideo_eval.scoring import ScoringSession
from repvideo_eval.scoring.records import VideoToScore

from .grit_checkpoint import (
    DENSECAP_WORDS,
    OBJECTDET_WORD,
    offline_bert_tokenizer,
    write_random_grit_checkpoint,
)

pytestmark = [pytest.mark.grit, pytest.mark.slow]


@pytest.fixture(autouse=True, scope="module")
def _needs_detectron2() -> None:
    """Skip (with the way to run them) where detectron2 is missing; `make test` deselects these anyway."""
    pytest.importorskip(
        "detectron2",
        reason="detectron2 is not installed (not on PyPI): run `make grit-check DETECTRON2_SRC=...` to build a venv with it",
    )


TOLERANCE = 1e-4
#: dimension -> (GRiT task, prompt, auxiliary_info entry). "car and car" / car-vs-car: the rigged
#: model only ever says "car", and these still exercise vbench's split/compare rules.
CASES = {
    "object_class": ("ObjectDet", "a car", {"object": "car"}),
    "multiple_objects": ("ObjectDet", "a car and a car", {"object": "car and car"}),
    "spatial_relationship": (
        "ObjectDet",
        "a car on the left of a car",
        {
            "spatial_relationship": {
                "object_a": "car",
                "object_b": "car",
                "relationship": "on the left of",
            }
        },
    ),
    "color": ("DenseCap", "a red car", {"color": "red"}),
}


@pytest.fixture(scope="module")
def grit_cache(tmp_path_factory):
    """(cache dir holding the random checkpoint, checkpoint path), with BERT's tokenizer offline."""
    folder = tmp_path_factory.mktemp("grit")
    with offline_bert_tokenizer(folder / "bert-base-uncased-standin"):
        path = write_random_grit_checkpoint(folder / "cache")
        yield folder / "cache", path


@pytest.fixture(scope="module")
def grit_videos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("grit-videos")
    return [
        write_video(folder / "square-0.mp4", render_frames("square", 21, 64, 96, seed=12)),
        write_video(folder / "pan-1.mp4", render_frames("pan", 9, 64, 96, seed=12)),
    ]


class _Recorder:
    """Wraps DenseCaptioning.run_caption_tensor to record (task, frame digest, shape, dtype, output)."""

    def __init__(self, monkeypatch):
        from vbench.third_party.grit_model import DenseCaptioning

        self.calls: list[tuple] = []
        original = DenseCaptioning.run_caption_tensor
        recorder = self

        def run_caption_tensor(model, img):
            output, vis = original(model, img)
            frame = np.ascontiguousarray(img)
            recorder.calls.append(
                (
                    model.demo.predictor.cfg.MODEL.TEST_TASK,
                    hashlib.sha256(frame.tobytes()).hexdigest()[:16],
                    frame.shape,
                    str(frame.dtype),
                    tuple((text, tuple(box), tuple(labels)) for text, box, labels in output),
                )
            )
            return output, vis

        monkeypatch.setattr(DenseCaptioning, "run_caption_tensor", run_caption_tensor)


def test_grit_detector_reads_the_checkpoint_weights_only_and_completely(grit_cache, monkeypatch):
    from repvideo_eval.scoring.detection.grit import GritDetector

    _, path = grit_cache
    expected = torch.load(path, map_location="cpu", weights_only=True)["model"]
    loads = []
    real_load = torch.load

    def recording_load(*args, **kwargs):
        loads.append(kwargs.get("weights_only"))
        return real_load(*args, **kwargs)

    frame = render_frames("square", 1, 64, 96, seed=12)[0].astype(np.float32)
    for task, words in (("ObjectDet", OBJECTDET_WORD), ("DenseCap", " ".join(DENSECAP_WORDS))):
        loads.clear()
        monkeypatch.setattr(torch, "load", recording_load)
        detector = GritDetector(task, device="cpu", weight_path=str(path), weights_id="local:test")
        monkeypatch.setattr(torch, "load", real_load)
        assert loads == [True], loads  # one read, weights_only=True
        assert detector.loaded_checkpoints == (str(path),)
        model = detector.model.demo.predictor.model
        assert model.roi_heads.test_task == task
        state = model.state_dict()
        assert set(state) == set(expected)
        mismatched = [name for name in expected if not torch.equal(state[name], expected[name])]
        assert not mismatched, mismatched[:5]
        assert detector.weights_id == "grit-detectron2:local:test"
        assert detector.name == "grit-detectron2"
        detections = detector.detect(frame, ["car"])
        assert all(region.text == words for region in detections.regions)
        assert set(detections.object_labels) <= {OBJECTDET_WORD}


def test_grit_refuses_a_pickle_checkpoint(grit_cache, tmp_path):
    from repvideo_eval.scoring.detection.grit import GritDetector

    pkl = tmp_path / "grit.pkl"
    pkl.write_bytes(b"not read")
    with pytest.raises(ValueError, match="weights_only"):
        GritDetector("ObjectDet", device="cpu", weight_path=str(pkl), weights_id="x")


def test_four_dimensions_through_the_session_match_vbench_on_the_same_grit(
    grit_cache, grit_videos, monkeypatch
):
    import vbench.color
    import vbench.multiple_objects
    import vbench.object_class
    import vbench.spatial_relationship
    from vbench.third_party.grit_model import DenseCaptioning

    cache, path = grit_cache
    monkeypatch.setenv("REPVIDEO_EVAL_DETECTOR", "grit-detectron2")
    monkeypatch.setenv("VBENCH_CACHE_DIR", str(cache))

    ours_recorder = _Recorder(monkeypatch)
    session = ScoringSession(list(CASES), scoring_weights="local", cache_dir=cache)
    ours: dict[tuple[str, str], object] = {}
    for video in grit_videos:
        for dimension, (_, prompt, entry) in CASES.items():
            (record,) = session.score(
                VideoToScore(video, prompt=prompt, auxiliary_info={dimension: entry}), [dimension]
            )
            ours[dimension, str(video)] = record
    ours_calls = list(ours_recorder.calls)

    vbench_recorder = _Recorder(monkeypatch)
    modules = {
        "object_class": vbench.object_class,
        "multiple_objects": vbench.multiple_objects,
        "spatial_relationship": vbench.spatial_relationship,
        "color": vbench.color,
    }
    models = {}
    for task in ("ObjectDet", "DenseCap"):
        models[task] = DenseCaptioning(torch.device("cpu"))
        (
            models[task].initialize_model_det
            if task == "ObjectDet"
            else models[task].initialize_model
        )(model_weight=str(path))
    reference: dict[tuple[str, str], float | None] = {}
    for dimension, (task, prompt, entry) in CASES.items():
        video_dict = [
            {"prompt": prompt, "video_list": [str(v) for v in grit_videos], "auxiliary_info": entry}
        ]
        _, rows = getattr(modules[dimension], dimension)(models[task], video_dict, "cpu")
        by_video = {row["video_path"]: float(row["video_results"]) for row in rows}
        for video in grit_videos:
            reference[dimension, str(video)] = by_video.get(
                str(video)
            )  # color drops videos it cannot score
    vbench_calls = list(vbench_recorder.calls)

    lines = []
    for key, record in sorted(ours.items()):
        lines.append(
            f"{key[0]:22s} {Path(key[1]).name:14s} ours={record.score!r:22} vbench={reference[key]!r:22} "
            f"weights_id={record.weights_id} detector={record.details.get('detector')} error={record.error}"
        )
    print("\n".join(lines))

    for key, record in ours.items():
        # "grit:" + the resolved file's id; scoring_weights="local" hashes the file it finds.
        assert (
            record.weights_id.startswith("grit-detectron2:") and "sha256=" in record.weights_id
        ), record.weights_id
        if reference[key] is None:
            assert record.score is None and record.error, (key, record)
            continue
        assert record.error is None, (key, record.error)
        assert record.details["detector"] == "grit-detectron2"
        assert record.score == pytest.approx(reference[key], abs=TOLERANCE), key
    # Same frames (pixels, shapes, dtypes) into GRiT and the same raw outputs, on both sides.
    assert Counter(ours_calls) == Counter(vbench_calls)
    outputs = [call[-1] for call in ours_calls]
    assert any(outputs), "the rigged model detected nothing on any frame"
    frames_with_boxes = sum(1 for out in outputs if out)
    print(f"GRiT calls per side: {len(ours_calls)}; frames with boxes: {frames_with_boxes}")
