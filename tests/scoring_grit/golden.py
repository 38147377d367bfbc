"""golden_grit_b.json (scripts/grit_golden.py) and the frames `make test` checks against it."""

from __future__ import annotations

import json
from pathlib import Path

GOLDEN_FILE = Path(__file__).with_name("golden_grit_b.json")
GOLDEN: dict = json.loads(GOLDEN_FILE.read_text())
TASKS = ("DenseCap", "ObjectDet")
#: The cases issue #13 asks the golden frames to cover (scripts/grit_golden.py decides which
#: frame covers which).
CASES = (
    "smaller_than_a_window",
    "not_a_multiple_of_32",
    "side_over_1024",
    "no_detection",
    "final_nms_suppresses",
    "box_crosses_border",
    "end_token_first",
    "caption_reaches_40_tokens",
    "wordpiece_caption",
    "several_boxes",
)


def _fast_frames() -> frozenset[str]:
    """A few frames that together cover every case the golden file covers, cheapest first
    (fewest boxes: decoding dominates); the other frames run under `make test-slow`."""
    frames = GOLDEN["frames"]

    def cost(name: str) -> int:
        return sum(len(frames[name][task]["texts"]) for task in TASKS if task in frames[name])

    chosen: set[str] = set()
    for places in GOLDEN["coverage"].values():
        names = {place.split("/")[0] for place in places}
        if names and not names & chosen:
            chosen.add(min(sorted(names), key=cost))
    return frozenset(chosen)


FAST_FRAMES = _fast_frames()
