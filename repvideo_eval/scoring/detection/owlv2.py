"""OWLv2 open-vocabulary detector (transformers), for machines without detectron2/GRiT.

Not VBench's detector: scores from this backend are a different measurement and are labelled
`owlv2` in every record. Choices (ours, documented in docs/semantic_dimensions.md):

* checkpoint `google/owlv2-base-patch16-ensemble` (the base OWLv2 release, 960x960 input);
* queries: the 80 COCO names plus the dimension's targets (`vocabulary.object_queries`),
  because GRiT's ObjectDet head answers with COCO names;
* a box is kept when its best query's sigmoid score >= 0.3; class-agnostic NMS at IoU 0.5 and at
  most 256 boxes (GRiT's own NMS and detection limits), sorted by score like detectron2's output;
* "DenseCap" (color): OWLv2 cannot caption, so each kept box gets the caption
  "<colour> <label>", colour = the best of 12 queries "<colour word> <target>" at that box.
  `object_labels` (GRiT's det_obj) are the kept labels in score order, so the color rule's
  "top box" is the highest-scoring box, as with GRiT.

Tiny mode builds a 2-layer random OWLv2 offline (no hub) with a CLIP-BPE tokenizer made from
the BPE file that ships in the openai-clip wheel.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from repvideo_eval.scoring.detection.base import Detector, Task
from repvideo_eval.scoring.detection.vocabulary import object_queries
from repvideo_eval.scoring.semantic_rules import COLOR_WORDS, FrameDetections, Region
from repvideo_eval.vocabulary import OWLV2, tiny_random_weights_id

OFFICIAL_CHECKPOINT = "google/owlv2-base-patch16-ensemble"
SCORE_THRESHOLD = 0.3
NMS_IOU = 0.5
MAX_DETECTIONS = 256
TEXT_LENGTH = 16  # OWL's text context (the processor pads/truncates to 16 tokens)
TINY_IMAGE_SIZE = 64


def tiny_owlv2_config():
    """A 2-layer OWLv2 that runs in milliseconds on CPU (CLIP vocabulary, 64 px input)."""
    from transformers import Owlv2Config

    return Owlv2Config(
        text_config=dict(
            vocab_size=49408,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            max_position_embeddings=TEXT_LENGTH,
        ),
        vision_config=dict(
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=TINY_IMAGE_SIZE,
            patch_size=16,
        ),
        projection_dim=32,
    )


class ClipBpeTokenizer:
    """OWL's text tokenisation (CLIP BPE, <sot> text <eot>, pad with id 0 to 16) from openai-clip's BPE file."""

    def __init__(self) -> None:
        from clip.simple_tokenizer import SimpleTokenizer

        self._bpe = SimpleTokenizer()
        self.sot = self._bpe.encoder["<|startoftext|>"]
        self.eot = self._bpe.encoder["<|endoftext|>"]

    def __call__(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        ids = torch.zeros(len(texts), TEXT_LENGTH, dtype=torch.long)
        mask = torch.zeros(len(texts), TEXT_LENGTH, dtype=torch.long)
        for row, text in enumerate(texts):
            tokens = [self.sot] + self._bpe.encode(text)[: TEXT_LENGTH - 2] + [self.eot]
            ids[row, : len(tokens)] = torch.tensor(tokens)
            mask[row, : len(tokens)] = 1
        return ids, mask


class HubTokenizer:
    """The checkpoint's own processor tokenizer (official mode)."""

    def __init__(self, checkpoint: str) -> None:
        from transformers import AutoTokenizer

        self._tokenizer = AutoTokenizer.from_pretrained(checkpoint)

    def __call__(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        encoded = self._tokenizer(
            list(texts),
            padding="max_length",
            max_length=TEXT_LENGTH,
            truncation=True,
            return_tensors="pt",
        )
        return encoded["input_ids"], encoded["attention_mask"]


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def hub_weights_file(checkpoint: str, download) -> Path:
    """The weights file `from_pretrained` read (already in the HF cache): safetensors, else the .bin."""
    last_error: Exception | None = None
    for name in ("model.safetensors", "pytorch_model.bin"):
        try:
            return Path(download(checkpoint, name))
        except (
            Exception
        ) as exc:  # EntryNotFoundError and friends differ across huggingface_hub versions
            last_error = exc
    raise RuntimeError(f"no weights file found for {checkpoint}: {last_error}")


class Owlv2Detector(Detector):
    """OWLv2 behind the GRiT-shaped `Detector` interface."""

    name = OWLV2

    def __init__(
        self,
        task: Task,
        *,
        device: str = "cpu",
        tiny_seed: int | None = None,
        checkpoint: str = OFFICIAL_CHECKPOINT,
    ) -> None:
        super().__init__(task)
        from transformers import Owlv2ForObjectDetection, Owlv2ImageProcessor

        self.device = device
        if tiny_seed is not None:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(tiny_seed)
                self.model = Owlv2ForObjectDetection(tiny_owlv2_config())
            self.image_processor = Owlv2ImageProcessor(
                size={"height": TINY_IMAGE_SIZE, "width": TINY_IMAGE_SIZE}
            )
            self.tokenizer: ClipBpeTokenizer | HubTokenizer = ClipBpeTokenizer()
            self.weights_id = tiny_random_weights_id(tiny_seed, OWLV2)
        else:
            # Hub download: huggingface_hub verifies LFS files against their sha256 etag; we
            # record the sha256 of the weights file actually loaded.
            from huggingface_hub import hf_hub_download

            self.model = Owlv2ForObjectDetection.from_pretrained(checkpoint)
            self.image_processor = Owlv2ImageProcessor.from_pretrained(checkpoint)
            self.tokenizer = HubTokenizer(checkpoint)
            self.weights_id = f"owlv2:{checkpoint}:sha256={_file_sha256(hub_weights_file(checkpoint, hf_hub_download))[:12]}"
        self.model = self.model.to(device).eval()
        self._query_cache: dict[tuple[str, ...], torch.Tensor] = {}

    def _queries(self, targets: Sequence[str]) -> tuple[list[str], list[str]]:
        labels = object_queries(targets)
        colours = (
            [f"{word} {targets[0]}" for word in COLOR_WORDS]
            if self.task == "DenseCap" and targets
            else []
        )
        return labels, colours

    @torch.inference_mode()
    def query_embeddings(self, queries: Sequence[str]) -> torch.Tensor:
        """Projected text embeddings of the queries, computed once per query list (the text
        tower dominated the per-frame cost). `Owlv2ForObjectDetection.forward` computes the same
        tensor (text_embeds); `test_detection_backends` checks the split path against it."""
        key = tuple(queries)
        if key not in self._query_cache:
            ids, mask = self.tokenizer(list(queries))
            out = self.model.owlv2.get_text_features(
                input_ids=ids.to(self.device), attention_mask=mask.to(self.device)
            )
            self._query_cache[key] = out if isinstance(out, torch.Tensor) else out.pooler_output
        return self._query_cache[key]

    @torch.inference_mode()
    def predict(
        self, frames: Sequence[np.ndarray], queries: Sequence[str]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits (B, patches, queries), center boxes (B, patches, 4)) for a batch of frames."""
        images = [
            np.clip(np.asarray(f, dtype=np.float32), 0, 255).round().astype(np.uint8)
            for f in frames
        ]
        pixels = self.image_processor(images=images, return_tensors="pt")["pixel_values"].to(
            self.device
        )
        feature_map, _ = self.model.image_embedder(pixel_values=pixels)
        batch, height, width, dim = feature_map.shape
        image_feats = feature_map.reshape(batch, height * width, dim)
        query_embeds = self.query_embeddings(queries).unsqueeze(0).expand(batch, -1, -1)
        query_mask = torch.ones(batch, len(queries), dtype=torch.bool, device=feature_map.device)
        logits, _ = self.model.class_predictor(image_feats, query_embeds, query_mask)
        boxes = self.model.box_predictor(image_feats, feature_map)
        return logits.float().cpu(), boxes.float().cpu()

    def detect(self, frame: np.ndarray, vocabulary: Sequence[str]) -> FrameDetections:
        return self.detect_frames([frame], vocabulary)[0]

    def detect_frames(
        self, frames: Sequence[np.ndarray], vocabulary: Sequence[str]
    ) -> list[FrameDetections]:
        labels, colour_queries = self._queries(vocabulary)
        logits, center_boxes = self.predict(frames, labels + colour_queries)
        return [
            self._frame_detections(
                torch.sigmoid(frame_logits),
                frame_boxes,
                frame.shape[0],
                frame.shape[1],
                labels,
                colour_queries,
            )
            for frame, frame_logits, frame_boxes in zip(frames, logits, center_boxes)
        ]

    def _frame_detections(
        self,
        probs: torch.Tensor,
        center_boxes: torch.Tensor,
        height: int,
        width: int,
        labels: list[str],
        colour_queries: list[str],
    ) -> FrameDetections:
        import torchvision

        scores, label_index = probs[:, : len(labels)].max(dim=1)
        keep = torch.nonzero(scores >= SCORE_THRESHOLD).flatten()
        if keep.numel() == 0:
            return FrameDetections()
        boxes = self._pixel_boxes(center_boxes, height, width)
        kept = keep[torchvision.ops.nms(boxes[keep], scores[keep], NMS_IOU)][:MAX_DETECTIONS]
        regions, object_labels = [], []
        for index in kept.tolist():
            label = labels[int(label_index[index])]
            text = label
            if colour_queries:
                colour = COLOR_WORDS[int(probs[index, len(labels) :].argmax())]
                text = f"{colour} {label}"
            box = tuple(int(v) for v in boxes[index].tolist())
            if box[2] <= box[0] or box[3] <= box[1]:
                continue  # empty after clipping/truncation: no detection (vbench's IoU would divide by 0)
            regions.append(Region(text, box))  # type: ignore[arg-type]
            object_labels.append(label)
        return FrameDetections(tuple(regions), tuple(object_labels))

    @staticmethod
    def _pixel_boxes(center_boxes: torch.Tensor, height: int, width: int) -> torch.Tensor:
        """OWLv2 (cx, cy, w, h) relative to the padded square -> [x0, y0, x1, y1] frame pixels.

        The processor pads the image at the bottom/right to a square before resizing, so both
        axes scale by max(H, W); boxes are clipped to the frame and truncated to ints like GRiT's.
        """
        side = float(max(height, width))
        cx, cy, w, h = center_boxes.unbind(-1)
        boxes = torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dim=-1) * side
        boxes[:, 0::2] = boxes[:, 0::2].clamp(0, width)
        boxes[:, 1::2] = boxes[:, 1::2].clamp(0, height)
        return boxes
