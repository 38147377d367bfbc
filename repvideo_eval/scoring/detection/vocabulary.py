"""Text queries for open-vocabulary detection.

GRiT's ObjectDet head was trained on COCO and emits COCO class names, which is what VBench's
object names are (object_class has 79 prompts over COCO classes). An open-vocabulary detector
is therefore queried with the 80 COCO names plus the dimension's own target words, so that a
target competes with the same alternatives GRiT would consider instead of being the only query.
"""

from __future__ import annotations

from collections.abc import Iterable

COCO_CLASSES: tuple[str, ...] = (
    "person",
    "bicycle",
    "car",
    "motorcycle",
    "airplane",
    "bus",
    "train",
    "truck",
    "boat",
    "traffic light",
    "fire hydrant",
    "stop sign",
    "parking meter",
    "bench",
    "bird",
    "cat",
    "dog",
    "horse",
    "sheep",
    "cow",
    "elephant",
    "bear",
    "zebra",
    "giraffe",
    "backpack",
    "umbrella",
    "handbag",
    "tie",
    "suitcase",
    "frisbee",
    "skis",
    "snowboard",
    "sports ball",
    "kite",
    "baseball bat",
    "baseball glove",
    "skateboard",
    "surfboard",
    "tennis racket",
    "bottle",
    "wine glass",
    "cup",
    "fork",
    "knife",
    "spoon",
    "bowl",
    "banana",
    "apple",
    "sandwich",
    "orange",
    "broccoli",
    "carrot",
    "hot dog",
    "pizza",
    "donut",
    "cake",
    "chair",
    "couch",
    "potted plant",
    "bed",
    "dining table",
    "toilet",
    "tv",
    "laptop",
    "mouse",
    "remote",
    "keyboard",
    "cell phone",
    "microwave",
    "oven",
    "toaster",
    "sink",
    "refrigerator",
    "book",
    "clock",
    "vase",
    "scissors",
    "teddy bear",
    "hair drier",
    "toothbrush",
)


def object_queries(targets: Iterable[str]) -> list[str]:
    """COCO names plus the targets, without duplicates, targets first (stable query order)."""
    return list(dict.fromkeys([t for t in targets if t] + list(COCO_CLASSES)))
