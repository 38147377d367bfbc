"""The GRiT backend's glue, with vbench's DenseCaptioning replaced by a stub (no detectron2 here)."""

from __future__ import annotations

import sys
import types

import numpy as np
import torch

from repvideo_eval.scoring.detection.grit import GritDetector, detections_from_grit


class _StubDenseCaptioning:
    instances: list = []

    def __init__(self, device):
        self.device, self.calls = device, []
        _StubDenseCaptioning.instances.append(self)

    def initialize_model(self, model_weight):
        self.calls.append(("DenseCap", model_weight))

    def initialize_model_det(self, model_weight):
        self.calls.append(("ObjectDet", model_weight))

    def run_caption_tensor(self, img):
        return [
            ("a red car", [1, 2, 30, 40], ["car", "road"]),
            ("road", [0, 20, 64, 48], ["car", "road"]),
        ], None


def test_grit_detector_uses_vbench_wrapper_in_the_right_mode(monkeypatch):
    stub = types.ModuleType("vbench.third_party.grit_model")
    stub.DenseCaptioning = _StubDenseCaptioning
    monkeypatch.setitem(sys.modules, "vbench.third_party.grit_model", stub)
    for task in ("ObjectDet", "DenseCap"):
        detector = GritDetector(
            task, device="cpu", weight_path="/w/grit.pth", weights_id="vbench:grit:sha256=abc"
        )
        model = _StubDenseCaptioning.instances[-1]
        assert model.calls == [(task, "/w/grit.pth")]
        assert isinstance(model.device, torch.device)  # vbench reads device.type
        assert detector.weights_id == "grit-detectron2:vbench:grit:sha256=abc"
        assert detector.name == "grit-detectron2"
        detections = detector.detect(np.zeros((48, 64, 3), np.float32), ["car"])
        assert [r.text for r in detections.regions] == ["a red car", "road"]
        assert detections.regions[0].box == (1, 2, 30, 40) and detections.object_labels == (
            "car",
            "road",
        )


def test_grit_output_conversion_of_an_empty_frame():
    empty = detections_from_grit([])
    assert empty.regions == () and empty.object_labels == ()
