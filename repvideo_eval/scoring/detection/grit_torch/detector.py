"""The `grit-torch` detector backend: GritTorch behind the `Detector` interface.

One GritTorch serves both tasks (the task only picks the decoder's begin token), so the four
detection dimensions of a session share one model: `shared_model` keeps one per (weights,
device) for the life of the process (a Ray scoring worker loads GRiT once).
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from repvideo_eval.scoring.detection.base import Detector, Task
from repvideo_eval.scoring.detection.grit_torch.model import GritOutput, GritTorch
from repvideo_eval.scoring.semantic_rules import FrameDetections, Region
from repvideo_eval.vocabulary import GRIT_TORCH

NAME = GRIT_TORCH
_MODELS: dict[tuple, GritTorch] = {}
_LOCK = threading.Lock()


def shared_model(key: tuple, build: Callable[[], GritTorch]) -> GritTorch:
    """The process's GritTorch for `key`, built on first use."""
    with _LOCK:
        if key not in _MODELS:
            _MODELS[key] = build()
        return _MODELS[key]


def tiny_vocabulary() -> list[str]:
    """A few hundred wordpieces with BERT's special-token ids ([UNK] 100, [CLS] 101, [SEP] 102,
    [MASK] 103; 104 is DenseCap's begin token): COCO and colour words, and some `##` pieces."""
    from repvideo_eval.scoring.detection.vocabulary import COCO_CLASSES
    from repvideo_eval.scoring.semantic_rules import COLOR_WORDS

    special = ["[PAD]", *(f"[unused{i}]" for i in range(99)), "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    words = {w for name in (*COCO_CLASSES, *COLOR_WORDS) for w in name.split()}
    words |= {"a", "on", "the", "left", "right", "of", "and", ".", "##s", "##ed", "##ing"}
    return special + sorted(words)


def tiny_grit(seed: int, device: str) -> GritTorch:
    """A tiny random GRiT (grit_torch.config.tiny) speaking `tiny_vocabulary`."""
    from repvideo_eval.atomic import write_text_atomic
    from repvideo_eval.scoring.detection.grit_torch.config import tiny
    from repvideo_eval.scoring.detection.grit_torch.model import load_tokenizer

    with tempfile.TemporaryDirectory(prefix="grit-vocab-") as folder:
        vocab = Path(folder) / "vocab.txt"
        write_text_atomic(vocab, "\n".join(tiny_vocabulary()) + "\n")
        tokenizer = load_tokenizer(vocab)
    model = GritTorch.random(tokenizer, config=tiny(len(tokenizer)), seed=seed, device=device)
    # Random output rows would mostly say [unusedN]: keep captions to words and the end token.
    bias = model.network.roi_heads.text_decoder.textual.output.bias
    with torch.no_grad():
        silent = torch.ones_like(bias, dtype=torch.bool)
        silent[104:] = False
        silent[model.config.end_token] = False
        bias[silent] = -1e4
    return model


def detections_from_output(output: GritOutput) -> FrameDetections:
    """What vbench's dimension code reads: region texts, int boxes, the frame's ObjectDet texts."""
    if not output.texts:
        return FrameDetections()
    regions = tuple(Region(text, tuple(box)) for text, box in zip(output.texts, output.int_boxes))  # type: ignore[arg-type]
    return FrameDetections(regions, tuple(output.object_texts))


class GritTorchDetector(Detector):
    """GRiT in plain PyTorch, in the given task mode."""

    name = NAME

    def __init__(self, task: Task, model: GritTorch, weights_id: str) -> None:
        super().__init__(task)
        self.model = model
        self.weights_id = weights_id

    def detect(self, frame: np.ndarray, vocabulary: Sequence[str]) -> FrameDetections:
        return detections_from_output(self.model.detect(frame, self.task))

    def detect_frames(
        self, frames: Sequence[np.ndarray], vocabulary: Sequence[str]
    ) -> list[FrameDetections]:
        return [detections_from_output(o) for o in self.model.detect_batch(frames, self.task)]
