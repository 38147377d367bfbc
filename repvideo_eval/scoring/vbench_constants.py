"""VBench's 16 dimensions with their normalisation constants: the project's single source.

Values are VBench's `scripts/constant.py` (Min, Max, DIM_WEIGHT) and its grouping into Quality (7)
and Semantic (9). Every other module (scoring, reporting, leaderboards) reads them from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Group = Literal["quality", "semantic"]


@dataclass(frozen=True)
class DimensionConstants:
    """Min/Max used to rescale a raw 0..1 score, its weight in the group mean (VBench's
    DIM_WEIGHT), and the group."""

    name: str
    minimum: float
    maximum: float
    dimension_weight: float
    group: Group


#: All 16 dimensions in VBench's order (quality first, then semantic), with `constant.py` values.
DIMENSION_TABLE: tuple[DimensionConstants, ...] = (
    DimensionConstants("subject_consistency", 0.1462, 1.0, 1.0, "quality"),
    DimensionConstants("background_consistency", 0.2615, 1.0, 1.0, "quality"),
    DimensionConstants("temporal_flickering", 0.6293, 1.0, 1.0, "quality"),
    DimensionConstants("motion_smoothness", 0.706, 0.9975, 1.0, "quality"),
    DimensionConstants("dynamic_degree", 0.0, 1.0, 0.5, "quality"),
    DimensionConstants("aesthetic_quality", 0.0, 1.0, 1.0, "quality"),
    DimensionConstants("imaging_quality", 0.0, 1.0, 1.0, "quality"),
    DimensionConstants("object_class", 0.0, 1.0, 1.0, "semantic"),
    DimensionConstants("multiple_objects", 0.0, 1.0, 1.0, "semantic"),
    DimensionConstants("human_action", 0.0, 1.0, 1.0, "semantic"),
    DimensionConstants("color", 0.0, 1.0, 1.0, "semantic"),
    DimensionConstants("spatial_relationship", 0.0, 1.0, 1.0, "semantic"),
    DimensionConstants("scene", 0.0, 0.8222, 1.0, "semantic"),
    DimensionConstants("appearance_style", 0.0009, 0.2855, 1.0, "semantic"),
    DimensionConstants("temporal_style", 0.0, 0.364, 1.0, "semantic"),
    DimensionConstants("overall_consistency", 0.0, 0.364, 1.0, "semantic"),
)

CONSTANTS: dict[str, DimensionConstants] = {d.name: d for d in DIMENSION_TABLE}

QUALITY_DIMENSIONS: tuple[str, ...] = tuple(d.name for d in DIMENSION_TABLE if d.group == "quality")
SEMANTIC_DIMENSIONS: tuple[str, ...] = tuple(
    d.name for d in DIMENSION_TABLE if d.group == "semantic"
)
ALL_DIMENSIONS: tuple[str, ...] = QUALITY_DIMENSIONS + SEMANTIC_DIMENSIONS

#: `cal_final_score.py`: Total = (QUALITY_WEIGHT * Quality + SEMANTIC_WEIGHT * Semantic) / sum.
QUALITY_WEIGHT = 4.0
SEMANTIC_WEIGHT = 1.0


#: The dimensions that read a prompt's auxiliary info (VBench_full_info.json's schema), with the
#: key each needs under `auxiliary_info[dimension]`. vbench refuses them for custom prompts; a
#: prompt that carries the info is scored on them like a VBench prompt.
AUXILIARY_KEYS: dict[str, str] = {
    "object_class": "object",
    "multiple_objects": "object",
    "color": "color",
    "spatial_relationship": "spatial_relationship",
    "scene": "scene",
    "appearance_style": "appearance_style",
}


def has_auxiliary_info(dimension: str, auxiliary_info: dict) -> bool:
    """False when `dimension` needs auxiliary info (AUXILIARY_KEYS) that the prompt lacks."""
    key = AUXILIARY_KEYS.get(dimension)
    if key is None:
        return True
    entry = auxiliary_info.get(dimension)
    return isinstance(entry, dict) and entry.get(key) not in (None, "", {})
