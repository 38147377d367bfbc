"""Detector backends: OWLv2 (tiny random, offline) and the backend choice rules."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from repvideo_eval.errors import UserError
from repvideo_eval.scoring.detection import select
from repvideo_eval.scoring.detection.owlv2 import SCORE_THRESHOLD, ClipBpeTokenizer, Owlv2Detector
from repvideo_eval.scoring.detection.vocabulary import COCO_CLASSES, object_queries
from repvideo_eval.scoring.semantic_rules import COLOR_WORDS


@pytest.fixture(scope="module")
def tiny_owlv2():
    return Owlv2Detector("ObjectDet", tiny_seed=0)


def _frame(seed=0, height=48, width=80):
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def test_clip_bpe_tokenizer_matches_openai_clip():
    import clip

    ids, mask = ClipBpeTokenizer()(["a red car", "traffic light"])
    reference = clip.tokenize(["a red car", "traffic light"], context_length=77)[:, :16]
    assert torch.equal(ids, reference.long())
    assert mask.sum(dim=1).tolist() == [5, 4]


def test_owlv2_detections_follow_transformers_postprocessing(tiny_owlv2):
    """Our kept boxes are the processor's own thresholded boxes, after NMS, in score order."""
    frame = _frame()
    detections = tiny_owlv2.detect(frame, ["car"])
    labels = object_queries(["car"])
    ids, mask = tiny_owlv2.tokenizer(labels)
    pixels = tiny_owlv2.image_processor(images=frame, return_tensors="pt")["pixel_values"]
    with torch.no_grad():
        out = tiny_owlv2.model(input_ids=ids, attention_mask=mask, pixel_values=pixels)
    side = max(frame.shape[:2])
    (reference,) = tiny_owlv2.image_processor.post_process_object_detection(
        out, threshold=SCORE_THRESHOLD, target_sizes=torch.tensor([[side, side]])
    )
    assert 1 <= len(detections.regions) <= len(reference["boxes"])
    ref_boxes = reference["boxes"].clone()
    ref_boxes[:, 0::2] = ref_boxes[:, 0::2].clamp(0, frame.shape[1])
    ref_boxes[:, 1::2] = ref_boxes[:, 1::2].clamp(0, frame.shape[0])
    ref_int = {tuple(int(v) for v in box.tolist()) for box in ref_boxes}
    ref_labels = [labels[int(i)] for i in reference["labels"]]
    non_empty = [
        (float(score), tuple(int(v) for v in box.tolist()))
        for score, box in zip(reference["scores"], ref_boxes)
    ]
    non_empty = [(score, box) for score, box in non_empty if box[2] > box[0] and box[3] > box[1]]
    assert detections.regions[0].box == max(non_empty)[1]  # the best non-empty box comes first
    for region, label in zip(detections.regions, detections.object_labels):
        assert region.box in ref_int
        assert region.text == label and label in ref_labels
        x0, y0, x1, y1 = region.box
        assert 0 <= x0 < x1 <= frame.shape[1] and 0 <= y0 < y1 <= frame.shape[0]


def test_owlv2_densecap_captions_carry_a_colour_word():
    detector = Owlv2Detector("DenseCap", tiny_seed=0)
    detections = detector.detect(_frame(1), ["car"])
    assert detections.regions
    for region, label in zip(detections.regions, detections.object_labels):
        colour, _, rest = region.text.partition(" ")
        assert colour in COLOR_WORDS and rest == label


def test_vocabulary_has_coco_and_targets_first():
    queries = object_queries(["teddy bear", "spaceship"])
    assert queries[:2] == ["teddy bear", "spaceship"] and len(queries) == len(COCO_CLASSES) + 1


def test_backend_choice(monkeypatch):
    import repvideo_eval.scoring.detection.grit as grit

    monkeypatch.delenv(select.DETECTOR_ENV, raising=False)
    monkeypatch.setattr(grit, "grit_available", lambda: True)
    # grit-torch is the default, with or without detectron2 and in tiny mode too
    assert select.resolve_detector() == "grit-torch"
    assert select.resolve_detector(scoring_weights="tiny-random") == "grit-torch"
    assert select.resolve_detector("grit") == "grit-detectron2"  # the old name
    monkeypatch.setenv(select.DETECTOR_ENV, "owlv2")
    assert select.resolve_detector() == "owlv2"
    assert select.resolve_detector("grit-torch") == "grit-torch"  # the flag beats the variable
    with pytest.raises(UserError, match="no tiny-random"):
        select.resolve_detector("grit-detectron2", scoring_weights="tiny-random")
    monkeypatch.setattr(grit, "grit_available", lambda: False)
    monkeypatch.setenv(select.DETECTOR_ENV, "grit")
    with pytest.raises(UserError, match="detectron2"):
        select.resolve_detector()
    monkeypatch.setenv(select.DETECTOR_ENV, "yolo")
    with pytest.raises(UserError, match=select.DETECTOR_ENV):
        select.resolve_detector()


def test_split_forward_with_cached_queries_equals_the_model_forward(tiny_owlv2):
    frames = [_frame(3), _frame(4)]
    queries = object_queries(["car"])
    logits, boxes = tiny_owlv2.predict(frames, queries)
    ids, mask = tiny_owlv2.tokenizer(queries)
    pixels = tiny_owlv2.image_processor(images=frames, return_tensors="pt")["pixel_values"]
    with torch.no_grad():
        out = tiny_owlv2.model(
            input_ids=ids.repeat(2, 1), attention_mask=mask.repeat(2, 1), pixel_values=pixels
        )
    assert torch.allclose(logits, out.logits, atol=1e-5)
    assert torch.allclose(boxes, out.pred_boxes, atol=1e-6)


def test_hub_weights_file_falls_back_to_the_bin_file(tmp_path):
    from repvideo_eval.scoring.detection.owlv2 import hub_weights_file

    calls = []

    def download(repo, name):
        calls.append(name)
        if name == "model.safetensors":
            raise FileNotFoundError(name)
        return str(tmp_path / name)

    assert (
        hub_weights_file("google/owlv2-base-patch16-ensemble", download)
        == tmp_path / "pytorch_model.bin"
    )
    assert calls == ["model.safetensors", "pytorch_model.bin"]
    with pytest.raises(RuntimeError, match="no weights file"):
        hub_weights_file("x/y", lambda repo, name: (_ for _ in ()).throw(FileNotFoundError(name)))
