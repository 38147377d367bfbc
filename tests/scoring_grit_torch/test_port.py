"""GritTorch end to end on a tiny random GRiT: what vbench's dimensions read, both tasks, the
rules of the last steps, no detectron2 anywhere, and the backend wiring."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from repvideo_eval.scoring.detection.grit_torch.detector import (
    GritTorchDetector,
    detections_from_output,
    tiny_grit,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def model():
    return tiny_grit(0, "cpu")


def frame(seed: int, height: int, width: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


@pytest.mark.parametrize("height, width", [(20, 24), (45, 70)])
def test_outputs_are_what_vbench_reads(model, height, width):
    image = frame(height, height, width)
    objects = model.detect(image, "ObjectDet")
    dense = model.detect(image, "DenseCap")
    for out in (objects, dense):
        n = len(out.texts)
        assert 0 < n <= model.config.max_detections
        assert out.boxes.shape == (n, 4) and out.scores.shape == (n,)
        assert out.boxes.dtype == torch.float32
        assert len(out.object_texts) == len(out.token_ids) == len(out.object_token_ids) == n
        boxes = out.boxes
        assert (boxes[:, 0::2] >= 0).all() and (boxes[:, 0::2] <= width).all()
        assert (boxes[:, 1::2] >= 0).all() and (boxes[:, 1::2] <= height).all()
        assert ((boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])).all()  # no empty box
        assert out.int_boxes == [[int(v) for v in row] for row in boxes.tolist()]
        assert out.caption_tuples()[0] == (out.texts[0], out.int_boxes[0], out.object_texts)
        for ids, text in zip(out.token_ids, out.texts):
            assert text == model.tokenizer.decode(
                ids[1:], skip_special_tokens=True, clean_up_tokenization_spaces=True
            )
    # the two tasks share the cascade: same boxes; ObjectDet texts are the det_obj of both
    assert torch.equal(objects.boxes, dense.boxes)
    assert objects.object_texts == objects.texts == dense.object_texts
    assert all(ids[0] == 101 for ids in objects.token_ids)
    assert all(ids[0] == 104 for ids in dense.token_ids)
    assert objects.token_ids == dense.object_token_ids
    detections = detections_from_output(dense)
    assert [r.text for r in detections.regions] == dense.texts
    assert list(detections.object_labels) == dense.object_texts


@pytest.mark.parametrize("shared_backbone_pass", [False, True], ids=["cpu-default", "as-on-cuda"])
def test_batched_frames_equal_single_frames(model, monkeypatch, shared_backbone_pass):
    """detect_batch gives each frame's own answer, also when same-size frames share one
    backbone pass (CUDA's default, forced here on the CPU)."""
    assert model.batch_backbone is False  # the CPU default
    frames = [frame(1, 40, 56), frame(2, 40, 56), frame(4, 40, 56)]
    singles = [model.detect(f, "DenseCap") for f in frames]
    assert all(single.texts for single in singles)  # something to compare on every frame
    monkeypatch.setattr(model, "batch_backbone", shared_backbone_pass)
    passes: list[int] = []  # the batch size of every backbone call
    hook = model.network.backbone.register_forward_pre_hook(
        lambda _, args: passes.append(len(args[0]))
    )
    try:
        outputs = model.detect_batch(frames, "DenseCap")
    finally:
        hook.remove()
    assert passes == ([3] if shared_backbone_pass else [1, 1, 1])
    for single, batched in zip(singles, outputs, strict=True):
        assert batched.texts == single.texts and batched.object_texts == single.object_texts
        assert batched.int_boxes == single.int_boxes
        torch.testing.assert_close(batched.boxes, single.boxes, rtol=1e-5, atol=1e-4)
        torch.testing.assert_close(batched.scores, single.scores, rtol=1e-5, atol=1e-5)
    detections = GritTorchDetector("DenseCap", model, "x").detect_frames(frames, [])
    for single, found in zip(singles, detections, strict=True):
        assert [r.text for r in found.regions] == single.texts
        assert [list(r.box) for r in found.regions] == single.int_boxes


def test_a_frame_without_detections_gives_empty_lists(model):
    image = frame(3, 40, 56)
    heads = model.network.roi_heads
    saved = [p.cls_score.bias.clone() for p in heads.box_predictor]
    try:
        with torch.no_grad():
            for predictor in heads.box_predictor:
                predictor.cls_score.bias.copy_(torch.tensor([-30.0, 30.0]))
        out = model.detect(image, "DenseCap")
    finally:
        with torch.no_grad():
            for predictor, bias in zip(heads.box_predictor, saved):
                predictor.cls_score.bias.copy_(bias)
    assert out.texts == out.object_texts == [] and out.boxes.shape == (0, 4)
    assert detections_from_output(out).regions == ()


def test_bad_task_and_frame_are_refused(model):
    with pytest.raises(ValueError, match="task"):
        model.detect(frame(4, 20, 20), "Caption")
    with pytest.raises(ValueError, match="RGB"):
        model.detect(np.zeros((20, 20), np.uint8))


def test_importing_and_running_the_port_never_imports_detectron2():
    script = textwrap.dedent(
        """
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "detectron2" or name.startswith("detectron2."):
                    raise ImportError("blocked: " + name)
        sys.meta_path.insert(0, Block())
        import numpy as np
        from repvideo_eval.scoring import ScoringSession, VideoToScore
        from repvideo_eval.scoring.detection.grit_torch import GritTorch
        from repvideo_eval.scoring.detection.grit_torch.detector import tiny_grit
        model = tiny_grit(0, "cpu")
        image = np.random.default_rng(0).integers(0, 256, (24, 32, 3), dtype=np.uint8)
        assert model.detect(image, "ObjectDet").texts and model.detect(image, "DenseCap").texts
        session = ScoringSession(["object_class", "color"], scoring_weights="tiny-random")
        assert all(s.detector.name == "grit-torch" for s in session.scorers.values())
        assert session.scorers["color"].detector.model is session.scorers["object_class"].detector.model
        assert not [m for m in sys.modules if m.split(".")[0] == "detectron2"]
        print("ok")
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**__import__("os").environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    assert proc.returncode == 0 and proc.stdout.strip().endswith("ok"), proc.stderr[-2000:]
