"""VBench's box and label rules for the four detection dimensions, detector-independent.

A detector backend (GRiT or OWLv2, `repvideo_eval.scoring.detection`) turns a frame into a
`FrameDetections`; the functions here turn those into VBench's per-frame and per-video numbers.
They reproduce vbench 0.1.5's `check_generate` / `get_position_score` rules, quirks included, and
`tests/scoring_semantic/test_semantic_rules.py` checks them against vbench's own functions.

What GRiT hands vbench per frame (`dense_pred_to_caption_tuple`): a list of
`(description, [x0, y0, x1, y1] as ints, det_obj)` where `description` is the task's text (an
object label in "ObjectDet" mode, a dense caption in "DenseCap" mode) and `det_obj` is the label
list of a **separate** ObjectDet pass, identical for every region of the frame. `FrameDetections`
keeps exactly that: `regions` (description + box, detector order) and `object_labels` (det_obj).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

Box = tuple[int, int, int, int]

#: The colour words of vbench's color.py (an "object frame" needs one of them in a caption).
COLOR_WORDS: tuple[str, ...] = (
    "white",
    "red",
    "pink",
    "blue",
    "silver",
    "purple",
    "orange",
    "green",
    "gray",
    "yellow",
    "black",
    "grey",
)
#: get_position_score's IoU threshold.
IOU_THRESHOLD = 0.1


@dataclass(frozen=True)
class Region:
    """One detection: the task text (label or dense caption) and its box in frame pixels."""

    text: str
    box: Box


@dataclass(frozen=True)
class FrameDetections:
    """A frame's detections as vbench sees them (see module docstring)."""

    regions: tuple[Region, ...] = ()
    object_labels: tuple[str, ...] = ()


# --- object_class / multiple_objects -------------------------------------------------------------


def frame_label_set(frame: FrameDetections) -> set[str]:
    """The labels vbench tests a frame against: `set(ret[0][0][2])`, i.e. det_obj.

    Quirk kept: when the task pass found no region, vbench's `ret[0][0]` fails and the frame
    counts as having no label at all, even if the separate ObjectDet pass found objects.
    """
    return set(frame.object_labels) if frame.regions else set()


def object_class_hits(target: str, frames: Sequence[FrameDetections]) -> int:
    """Frames whose label set contains `target` exactly (vbench `object_class.check_generate`)."""
    return sum(1 for frame in frames if target in frame_label_set(frame))


def split_object_pair(object_info: str) -> tuple[str, str]:
    """'bird and cat' -> ('bird', 'cat') (`split(' and ')` then strip, as vbench)."""
    first, second = object_info.split(" and ")
    return first.strip(), second.strip()


def multiple_objects_hits(object_info: str, frames: Sequence[FrameDetections]) -> int:
    """Frames whose label set holds both objects (vbench `multiple_objects.check_generate`)."""
    first, second = split_object_pair(object_info)
    return sum(
        1
        for frame in frames
        if first in frame_label_set(frame) and second in frame_label_set(frame)
    )


# --- color ---------------------------------------------------------------------------------------


def color_object_name(prompt: str, color: str) -> str:
    """vbench's object name for a color prompt.

    `prompt.replace('a ', '').replace('an ', '').replace(color, '').strip()`: plain substring
    removals, kept as is, so a word ending in "a" before a space also loses that letter
    ("a sofa chair" would give "sofchair"). The name must equal the detector label exactly.
    """
    return prompt.replace("a ", "").replace("an ", "").replace(color, "").strip()


def color_frame_pairs(frame: FrameDetections) -> list[tuple[str, str]]:
    """(caption, compared label) per region, as vbench's color `get_dect_from_grit` builds them.

    Quirk kept: the compared label is `det_obj[0]`, the **top** ObjectDet label of the frame,
    for every region (not the region's own class). A frame without regions gives [('', '')].
    Deviation: vbench raises IndexError when regions exist but the ObjectDet pass found nothing;
    we compare against '' instead (no match), so one frame cannot abort a whole run.
    """
    if not frame.regions:
        return [("", "")]
    top_label = frame.object_labels[0] if frame.object_labels else ""
    return [(region.text, top_label) for region in frame.regions]


def color_counts(
    color: str, object_name: str, frames: Sequence[FrameDetections]
) -> tuple[int, int]:
    """(object frames, colour frames) of vbench `color.check_generate`.

    A frame is an object frame when some region compared equal to `object_name` has any of the
    12 colour words in its caption (substring test, so "red" also matches "bored"), and a
    colour frame when such a region's caption contains `color`.
    """
    object_frames = color_frames = 0
    for frame in frames:
        object_flag = color_flag = False
        for caption, label in color_frame_pairs(frame):
            if object_name == label:
                if any(word in caption for word in COLOR_WORDS):
                    object_flag = True
                if color in caption:
                    color_flag = True
        object_frames += int(object_flag)
        color_frames += int(color_flag)
    return object_frames, color_frames


# --- spatial_relationship ------------------------------------------------------------------------


def box_iou(box1: Sequence[float], box2: Sequence[float]) -> float:
    """Plain IoU of two [x0, y0, x1, y1] boxes (vbench's formula; zero-area unions divide by 0)."""
    x_overlap = max(0, min(box1[2], box2[2]) - max(box1[0], box2[0]))
    y_overlap = max(0, min(box1[3], box2[3]) - max(box1[1], box2[1]))
    intersection = x_overlap * y_overlap
    area1 = (box1[2] - box1[0]) * (box1[3] - box1[1])
    area2 = (box2[2] - box2[0]) * (box2[3] - box2[1])
    return intersection / (area1 + area2 - intersection)


def _is_horizontal(relationship: str) -> bool:
    # vbench tests `locality in 'on the right of' or locality in 'on the left of'`: a substring
    # test of the relation inside the phrase, kept as is (e.g. 'left' alone also counts).
    return relationship in "on the right of" or relationship in "on the left of"


def _is_vertical(relationship: str) -> bool:
    return relationship in "on the bottom of" or relationship in "on the top of"


def position_score(relationship: str, box1: Sequence[float], box2: Sequence[float]) -> float:
    """vbench `get_position_score`: 1 if the boxes are apart along the relation's axis, less if they overlap.

    Quirk kept: only the **axis** matters: "on the left of" and "on the right of" score the same
    (the sign of the centre offset is never checked), as do "on the top of"/"on the bottom of".
    Along the axis (|dx| > |dy| for left/right, |dy| > |dx| for top/bottom): 1 when IoU < 0.1,
    else 0.1 / IoU; 0 otherwise or for an unknown relation.
    """
    dx = (box2[0] + box2[2]) / 2 - (box1[0] + box1[2]) / 2
    dy = (box2[1] + box2[3]) / 2 - (box1[1] + box1[3]) / 2
    iou = box_iou(box1, box2)
    if _is_horizontal(relationship):
        along_axis = abs(dx) > abs(dy)
    elif _is_vertical(relationship):
        along_axis = abs(dy) > abs(dx)
    else:
        return 0
    if not along_axis:
        return 0
    return 1 if iou < IOU_THRESHOLD else IOU_THRESHOLD / iou


def spatial_frame_score(info: Mapping[str, str], frame: FrameDetections) -> float:
    """vbench `spatial_relationship.check_generate` for one frame.

    Boxes whose label equals object_a **or** object_b are kept; the score is the max of
    `position_score` over all unordered pairs of kept boxes (0 with fewer than two). Quirk kept:
    a pair of two object_a boxes counts as much as an (object_a, object_b) pair.
    """
    boxes = [
        region.box
        for region in frame.regions
        if region.text in (info["object_a"], info["object_b"])
    ]
    best: float = 0
    for i in range(len(boxes) - 1):
        for j in range(i + 1, len(boxes)):
            best = max(best, position_score(info["relationship"], boxes[i], boxes[j]))
    return best


def spatial_frame_scores(info: Mapping[str, str], frames: Iterable[FrameDetections]) -> list[float]:
    """One score per frame (the video score is their mean, the dimension score the mean over all frames)."""
    return [spatial_frame_score(info, frame) for frame in frames]
