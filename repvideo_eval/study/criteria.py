"""The criteria raters judge, each with the question the rater page asks (paper Table II's three).

The paper's raters judged spatial appearance, temporal consistency and video-text alignment
separately, "derived from the dimension design in VBench"; the questions say what each one means.
"""

from __future__ import annotations

from repvideo_eval.errors import UserError

#: criterion name -> the question shown to raters.
CRITERIA: dict[str, str] = {
    "spatial_appearance": (
        "Which video looks better frame by frame (detail, sharpness, fewer artifacts)?"
    ),
    "temporal_consistency": (
        "Which video is more consistent over time (stable subjects, smooth motion, no flicker)?"
    ),
    "video_text_alignment": "Which video matches the prompt better?",
}
DEFAULT_CRITERIA: tuple[str, ...] = tuple(CRITERIA)


def parse_criteria(text: str) -> list[str]:
    """Comma-separated criterion names, checked against `CRITERIA`, in the given order."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise UserError("--criteria is empty", f"Name one or more of {', '.join(CRITERIA)}.")
    unknown = [name for name in names if name not in CRITERIA]
    if unknown:
        raise UserError(
            f"unknown criterion {', '.join(unknown)}", f"Use one or more of {', '.join(CRITERIA)}."
        )
    if len(set(names)) != len(names):
        raise UserError("--criteria names a criterion twice", "List each criterion once.")
    return names
