"""The GRiT port against the golden file that vbench's detectron2 GRiT wrote (no detectron2 here).

tests/scoring_grit/golden_grit_b.json holds, for a seeded checkpoint recipe, what vbench's own
GRiT returned on the golden frames in both task modes (scripts/grit_golden.py, side venv). This
test rebuilds the same weights in memory (grit_recipe.py: integers only, so bit-identical on
every machine; the digest proves it), runs the port on the same frames (pixel digests checked)
and asks for vbench's answer: texts, ObjectDet texts, integer boxes and token ids exactly, float
boxes and scores within 1e-5. Every decision in the golden run cleared its threshold by at
least the file's margin floor (1e-4), so rounding differences cannot legitimately flip one.

Each frame costs a GRiT-B forward plus a 196-token memory pass per box and text pass, so
`make test` runs a few frames that together cover every case the golden file covers (chosen from
its coverage table, fewest boxes first) and `make test-slow` the rest.
"""

from __future__ import annotations

import hashlib
import sys

import pytest

from .golden import CASES, FAST_FRAMES, GOLDEN, TASKS, assert_port_answers
from .grit_frames import golden_frames


def _params():
    for name in GOLDEN["frames"]:
        marks = [] if name in FAST_FRAMES else [pytest.mark.slow]
        yield pytest.param(name, marks=marks, id=name)


def test_golden_file_is_sound():
    """The golden file itself: every case the issue names has a frame, every frame has both
    task modes, and every margin clears the floor."""
    assert GOLDEN["uncovered"] == [], GOLDEN["uncovered"]
    assert all(GOLDEN["coverage"].values()), GOLDEN["coverage"]
    assert set(GOLDEN["coverage"]) == set(CASES), set(CASES) ^ set(GOLDEN["coverage"])
    assert all(set(TASKS) <= set(frame) for frame in GOLDEN["frames"].values())
    assert min(GOLDEN["smallest_margins"].values()) >= GOLDEN["margin_floor"] >= 1e-4
    assert len(GOLDEN["frames"]) >= 12


@pytest.mark.parametrize("name", list(_params()))
def test_port_equals_vbench_grit(golden_detect, golden_tokenizer, name):
    frame = golden_frames()[name]
    expected = GOLDEN["frames"][name]
    assert hashlib.sha256(frame.tobytes()).hexdigest() == expected["sha256"], "frame pixels changed"
    end = golden_tokenizer.sep_token_id
    for task in [task for task in TASKS if task in expected]:
        want = expected[task]
        got = golden_detect(frame, task)
        assert_port_answers(got, want, end, f"{name}/{task}")
    assert "detectron2" not in sys.modules
