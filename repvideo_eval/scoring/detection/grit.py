"""GRiT, VBench's own detector, run through vbench's `DenseCaptioning` wrapper.

Needs detectron2, which is not on PyPI (see docs/semantic_dimensions.md for the install line).
The model is vbench's (`vbench.third_party.grit_model`); only the conversion of its output to
`FrameDetections` is ours. VBench's settings come with it: GRiT-B DenseCap+ObjectDet weights,
score threshold 0.5, NMS 0.5, beam 1, at most 256 detections, and the frame fed as RGB at native
size (vbench's `SingleDefaultPredictor` computes a resize but feeds `original_image`).

Checkpoint loading: vbench's `DefaultPredictor` reads `cfg.MODEL.WEIGHTS` through detectron2's
`DetectionCheckpointer`, whose `.pth` branch ends in fvcore's bare `torch.load(f, map_location=cpu)`
(weights_only only by torch's default, and an environment variable turns that off) and whose
`.pkl` branch is a plain `pickle.load`. While vbench builds the model, `_weights_only_loads`
replaces that file reader with `torch.load(..., weights_only=True)` (and refuses anything but a
`.pth`/`.pt` file); the state dict then goes through detectron2's own `_load_model`, exactly as
vbench loads it (fvcore's shape checks, `strict=False`).
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np

from repvideo_eval.scoring.detection.base import Detector, Task
from repvideo_eval.scoring.semantic_rules import FrameDetections, Region
from repvideo_eval.vocabulary import GRIT_DETECTRON2


def grit_available() -> bool:
    """True when detectron2 is installed, i.e. vbench's GRiT wrapper can be imported."""
    return importlib.util.find_spec("detectron2") is not None


def _box(box: Sequence[float]) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = (int(v) for v in box)
    return x0, y0, x1, y1


def detections_from_grit(output: Sequence[tuple]) -> FrameDetections:
    """`dense_pred_to_caption_tuple` output -> FrameDetections.

    Each tuple is (description, [x0, y0, x1, y1] ints, det_obj); det_obj is the same list of
    ObjectDet labels for every region of a frame, so it is read once (from the first region).
    """
    if not output:
        return FrameDetections()
    regions = tuple(Region(str(text), _box(box)) for text, box, _ in output)
    return FrameDetections(regions, tuple(str(label) for label in output[0][2]))


_PATCH_LOCK = threading.Lock()


@contextmanager
def _weights_only_loads() -> Iterator[list[str]]:
    """While active, detectron2 checkpoints are read with `torch.load(weights_only=True)` only.

    Yields the list of files read. Without detectron2 there is nothing to patch (vbench's
    wrapper cannot load a checkpoint then either).
    """
    loaded: list[str] = []
    try:
        from detectron2.checkpoint import DetectionCheckpointer
    except ImportError:
        yield loaded
        return
    import torch

    def load_file(self, filename: str) -> dict:
        if not str(filename).endswith((".pth", ".pt")):
            raise ValueError(
                f"GRiT checkpoint {filename} is not a .pth/.pt file; only torch.load(weights_only=True) files are read"
            )
        data = torch.load(filename, map_location="cpu", weights_only=True)
        loaded.append(str(filename))
        return data if "model" in data else {"model": data}

    with _PATCH_LOCK:
        original = DetectionCheckpointer._load_file
        DetectionCheckpointer._load_file = load_file
        try:
            yield loaded
        finally:
            DetectionCheckpointer._load_file = original


class GritDetector(Detector):
    """vbench's GRiT in the given task mode ("ObjectDet" or "DenseCap")."""

    name = GRIT_DETECTRON2

    def __init__(self, task: Task, *, device: str, weight_path: str, weights_id: str) -> None:
        super().__init__(task)
        import torch
        from vbench.third_party.grit_model import DenseCaptioning

        # vbench reads `device.type`, so it must be a torch.device, not a string.
        self.model = DenseCaptioning(torch.device(device))
        with _weights_only_loads() as loaded:
            if task == "ObjectDet":
                self.model.initialize_model_det(model_weight=weight_path)
            else:
                self.model.initialize_model(model_weight=weight_path)
        #: The checkpoint files read (weights_only=True) while vbench built the model.
        self.loaded_checkpoints = tuple(loaded)
        self.weights_id = f"grit-detectron2:{weights_id}"

    def detect(self, frame: np.ndarray, vocabulary: Sequence[str]) -> FrameDetections:
        import torch

        with torch.no_grad():
            output, _ = self.model.run_caption_tensor(frame)
        return detections_from_grit(output)
