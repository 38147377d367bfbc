"""The plan's rules: full, even coverage; balanced sides; repeats swapped and later; seeded."""

from __future__ import annotations

from collections import Counter

import pytest

from repvideo_eval.errors import UserError
from repvideo_eval.study.plan import plan_tasks

CRITERIA = ("spatial_appearance", "temporal_consistency", "video_text_alignment")


def by_rater(plan):
    out: dict[int, list] = {}
    for task in plan:
        out.setdefault(task.rater, []).append(task)
    return out


@pytest.mark.parametrize(
    ("pairs", "raters", "per_rater", "repeats"),
    [(8, 3, 24, 0), (8, 5, 10, 2), (7, 4, 21, 3), (5, 9, 7, 3), (1, 2, 3, 1)],
)
def test_every_unit_judged_evenly_and_sides_balanced(pairs, raters, per_rater, repeats):
    plan = plan_tasks(
        pairs, CRITERIA, raters=raters, tasks_per_rater=per_rater, repeats=repeats, seed=3
    )
    originals = [t for t in plan if t.repeat_of is None]
    counts = Counter((t.pair, t.criterion) for t in originals)
    assert set(counts) == {(p, c) for p in range(pairs) for c in CRITERIA}
    assert max(counts.values()) - min(counts.values()) <= 1
    for rater, tasks in by_rater(plan).items():
        assert [t.position for t in tasks] == list(range(per_rater + repeats))
        own = [t for t in tasks if t.repeat_of is None]
        assert len(own) == per_rater
        assert len({(t.pair, t.criterion) for t in own}) == per_rater, "no unit twice"
        a_left = sum(t.a_left for t in own)
        assert a_left in (per_rater // 2, (per_rater + 1) // 2)
        assert abs(2 * sum(t.a_left for t in tasks) - len(tasks)) <= 1 + repeats % 2
        for repeat in (t for t in tasks if t.repeat_of is not None):
            original = tasks[repeat.repeat_of]
            assert original.repeat_of is None
            assert (original.pair, original.criterion) == (repeat.pair, repeat.criterion)
            assert original.a_left != repeat.a_left, "a repeat shows the sides swapped"
            assert original.position < repeat.position
        assert sum(t.repeat_of is not None for t in tasks) == repeats


def test_same_seed_same_plan_other_seed_other_plan():
    kwargs = dict(raters=4, tasks_per_rater=12, repeats=2)
    first = plan_tasks(8, CRITERIA, seed=7, **kwargs)
    assert first == plan_tasks(8, CRITERIA, seed=7, **kwargs)
    assert first != plan_tasks(8, CRITERIA, seed=8, **kwargs)


def test_left_side_is_random_not_fixed_per_position():
    plan = plan_tasks(40, CRITERIA, raters=6, tasks_per_rater=40, repeats=0, seed=0)
    first_positions = [t.a_left for t in plan if t.position == 0]
    assert 0 < sum(first_positions) < len(first_positions)


@pytest.mark.parametrize(
    ("raters", "per_rater", "repeats", "message"),
    [
        (0, 3, 0, "--raters 0"),
        (2, 25, 0, "--tasks-per-rater 25"),
        (2, 0, 0, "--tasks-per-rater 0"),
        (2, 5, 0, "cannot cover all 24"),
        (4, 6, 4, "--repeats 4"),
    ],
)
def test_impossible_sizes_are_user_errors(raters, per_rater, repeats, message):
    with pytest.raises(UserError, match=message):
        plan_tasks(8, CRITERIA, raters=raters, tasks_per_rater=per_rater, repeats=repeats, seed=0)
