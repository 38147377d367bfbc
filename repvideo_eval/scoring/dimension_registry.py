"""Which module implements which dimension. Adding a dimension = one module + one line here.

Entries are import strings so that heavy dependencies (pyiqa, clip, RAFT, AMT) load only when a
dimension that needs them is requested.
"""

from __future__ import annotations

import importlib

from repvideo_eval.errors import UserError
from repvideo_eval.scoring.scorer import Scorer
from repvideo_eval.scoring.vbench_constants import ALL_DIMENSIONS

SCORER_CLASSES: dict[str, str] = {
    "subject_consistency": "repvideo_eval.scoring.dimensions.subject_consistency:SubjectConsistency",
    "background_consistency": "repvideo_eval.scoring.dimensions.background_consistency:BackgroundConsistency",
    "temporal_flickering": "repvideo_eval.scoring.dimensions.temporal_flickering:TemporalFlickering",
    "motion_smoothness": "repvideo_eval.scoring.dimensions.motion_smoothness:MotionSmoothness",
    "dynamic_degree": "repvideo_eval.scoring.dimensions.dynamic_degree:DynamicDegree",
    "aesthetic_quality": "repvideo_eval.scoring.dimensions.aesthetic_quality:AestheticQuality",
    "imaging_quality": "repvideo_eval.scoring.dimensions.imaging_quality:ImagingQuality",
    "object_class": "repvideo_eval.scoring.dimensions.object_class:ObjectClass",
    "multiple_objects": "repvideo_eval.scoring.dimensions.multiple_objects:MultipleObjects",
    "human_action": "repvideo_eval.scoring.dimensions.human_action:HumanAction",
    "color": "repvideo_eval.scoring.dimensions.color:Color",
    "spatial_relationship": "repvideo_eval.scoring.dimensions.spatial_relationship:SpatialRelationship",
    "appearance_style": "repvideo_eval.scoring.dimensions.appearance_style:AppearanceStyle",
    "temporal_style": "repvideo_eval.scoring.dimensions.temporal_style:TemporalStyle",
    "overall_consistency": "repvideo_eval.scoring.dimensions.overall_consistency:OverallConsistency",
    "scene": "repvideo_eval.scoring.dimensions.scene:Scene",
}


def implemented_dimensions() -> tuple[str, ...]:
    """The dimensions with a scorer (all of VBench's 16), in VBench order."""
    return tuple(d for d in ALL_DIMENSIONS if d in SCORER_CLASSES)


def validate_dimensions(dimensions: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Check names, drop duplicates (keeping order); UserError lists the valid names otherwise."""
    if isinstance(dimensions, str):
        dimensions = [d for d in dimensions.split(",") if d.strip()]
    names = tuple(dict.fromkeys(d.strip() for d in dimensions))
    if not names:
        raise UserError(
            "No dimension requested.", f"Choose from: {', '.join(implemented_dimensions())}."
        )
    unknown = [d for d in names if d not in ALL_DIMENSIONS]
    if unknown:
        raise UserError(
            f"Unknown dimension(s): {', '.join(unknown)}.",
            f"Valid dimensions: {', '.join(implemented_dimensions())}.",
        )
    return names


def scorer_class(dimension: str) -> type[Scorer]:
    """Import and return the scorer class of a (validated) dimension."""
    module_name, class_name = SCORER_CLASSES[dimension].split(":")
    return getattr(importlib.import_module(module_name), class_name)


def parse_dimensions(text: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    """`--dimensions`: comma-separated names, 'all', or empty for `default`; unknown or
    not-yet-implemented names are user errors."""
    if not text:
        requested: tuple[str, ...] = default
    elif text.strip() == "all":
        requested = tuple(ALL_DIMENSIONS)
    else:
        requested = tuple(part.strip() for part in text.split(",") if part.strip())
    return validate_dimensions(requested)
