"""golden_grit_b.json (scripts/grit_golden.py) and the frames `make test` checks against it."""

from __future__ import annotations

import json
from pathlib import Path

import torch

GOLDEN_FILE = Path(__file__).with_name("golden_grit_b.json")
GOLDEN: dict = json.loads(GOLDEN_FILE.read_text())
TASKS = ("DenseCap", "ObjectDet")
#: Float boxes and scores of the port against vbench's (texts, integer boxes, tokens: exact).
TOLERANCE = 1e-5
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


def until_end(ids: list[int], end: int) -> list[int]:
    """Token ids up to and including the first end token (vbench pads finished rows with it)."""
    return ids[: ids.index(end, 1) + 1] if end in ids[1:] else ids


def assert_port_answers(got, want: dict, end: int, where: str) -> None:
    """The port's GritOutput `got` is vbench's answer `want` (a golden-file entry's layout):
    texts, ObjectDet texts, integer boxes and token ids equal, float boxes and scores within
    TOLERANCE."""
    assert list(got.texts) == want["texts"], where
    assert list(got.object_texts) == want["object_texts"], where
    assert [[int(v) for v in box] for box in got.boxes.tolist()] == want["int_boxes"], where
    ids = [until_end(list(t), end) for t in got.token_ids]
    assert ids == [until_end(t, end) for t in want["token_ids"]], where
    torch.testing.assert_close(
        got.boxes.double(),
        torch.tensor(want["boxes"], dtype=torch.float64).reshape(-1, 4),
        rtol=TOLERANCE,
        atol=TOLERANCE,
    )
    torch.testing.assert_close(
        got.scores.double().reshape(-1),
        torch.tensor(want["scores"], dtype=torch.float64).reshape(-1),
        rtol=TOLERANCE,
        atol=TOLERANCE,
    )
