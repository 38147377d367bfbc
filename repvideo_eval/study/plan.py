"""The study plan: which rater judges which pair on which criterion, in which order and layout.

Pure and seeded: the same inputs and seed give the same plan (ids and tokens are drawn later, at
random, by `create`). Rules:
- each (pair, criterion) is a unit; units are dealt so that every unit is judged and the number of
  judgements per unit differs by at most one (the least-judged units go to the next rater);
- a rater never gets the same unit twice, except as a deliberate repeat;
- left/right is balanced per rater (model A on the left for half the tasks, +-1), in random order;
- repeats copy some of the rater's own units (half shown with A on the left, half with B; from the
  first half of the sequence where possible) with the sides swapped, and come later in the
  sequence (rater self-consistency).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace

from repvideo_eval.errors import UserError


@dataclass(frozen=True)
class PlannedTask:
    """One judgement a rater is asked for; `repeat_of` is the position of the task it repeats."""

    rater: int
    position: int
    pair: int
    criterion: str
    a_left: bool
    repeat_of: int | None = None


def choose_pairs(available: int, wanted: int | None, seed: int) -> list[int]:
    """Indices of `wanted` pairs drawn at random (seeded) from `available`, in order; all if None."""
    if wanted is None:
        return list(range(available))
    if not 1 <= wanted <= available:
        raise UserError(
            f"--pairs {wanted} must be between 1 and the {available} pairs the runs share",
            f"Use --pairs {available} or fewer, or leave it out to use every pair.",
        )
    return sorted(random.Random(f"pairs-{seed}").sample(range(available), wanted))


def check_sizes(n_units: int, raters: int, tasks_per_rater: int, repeats: int) -> None:
    """Raise a UserError for a plan that cannot be built or cannot cover every unit."""
    if raters < 1:
        raise UserError(f"--raters {raters} must be at least 1", "Use --raters 1 or more.")
    if not 1 <= tasks_per_rater <= n_units:
        raise UserError(
            f"--tasks-per-rater {tasks_per_rater} must be between 1 and {n_units} "
            "(pairs x criteria, so no rater judges the same thing twice)",
            f"Use --tasks-per-rater {n_units} or fewer.",
        )
    if raters * tasks_per_rater < n_units:
        raise UserError(
            f"{raters} rater(s) x {tasks_per_rater} task(s) cannot cover all {n_units} "
            "pair-criterion judgements",
            "Add --raters, raise --tasks-per-rater, or study fewer --pairs or --criteria.",
        )
    if not 0 <= repeats <= tasks_per_rater // 2:
        raise UserError(
            f"--repeats {repeats} must be between 0 and half of --tasks-per-rater",
            f"Use --repeats {tasks_per_rater // 2} or fewer.",
        )


def plan_tasks(
    n_pairs: int,
    criteria: Sequence[str],
    *,
    raters: int,
    tasks_per_rater: int,
    repeats: int,
    seed: int,
) -> list[PlannedTask]:
    """Every rater's tasks in order (positions 0 .. tasks_per_rater + repeats - 1)."""
    units = [(pair, criterion) for pair in range(n_pairs) for criterion in criteria]
    check_sizes(len(units), raters, tasks_per_rater, repeats)
    rng = random.Random(seed)
    counts = [0] * len(units)
    plan: list[PlannedTask] = []
    for rater in range(raters):
        tie_break = [rng.random() for _ in units]
        chosen = sorted(range(len(units)), key=lambda u: (counts[u], tie_break[u]))
        chosen = chosen[:tasks_per_rater]
        for unit in chosen:
            counts[unit] += 1
        rng.shuffle(chosen)
        sides = [True] * (tasks_per_rater // 2) + [False] * (tasks_per_rater - tasks_per_rater // 2)
        if tasks_per_rater % 2 and rng.random() < 0.5:
            sides = [not side for side in sides]
        rng.shuffle(sides)
        plan.extend(_with_repeats(rater, [units[u] for u in chosen], sides, repeats, rng))
    return plan


def _with_repeats(
    rater: int,
    units: list[tuple[int, str]],
    sides: list[bool],
    repeats: int,
    rng: random.Random,
) -> list[PlannedTask]:
    """The rater's sequence with `repeats` swapped-side copies inserted after their originals."""
    sequence: list[tuple[int, int | None]] = [(index, None) for index in range(len(units))]
    half = (len(units) + 1) // 2
    by_side: dict[bool, list[int]] = {}
    for side in (True, False):
        early = [i for i in range(half) if sides[i] == side]
        late = [i for i in range(half, len(units)) if sides[i] == side]
        rng.shuffle(early)
        rng.shuffle(late)
        by_side[side] = early + late  # prefer originals early in the sequence
    from_a = repeats // 2 + (repeats % 2 if rng.random() < 0.5 else 0)
    from_a = min(from_a, len(by_side[True]), repeats)
    from_a = max(from_a, repeats - len(by_side[False]))
    originals = by_side[True][:from_a] + by_side[False][: repeats - from_a]
    for original in sorted(originals):
        at = next(i for i, (index, rep) in enumerate(sequence) if index == original and rep is None)
        sequence.insert(rng.randint(at + 1, len(sequence)), (original, original))
    tasks = []
    for position, (index, repeat) in enumerate(sequence):
        pair, criterion = units[index]
        swapped = repeat is not None
        tasks.append(PlannedTask(rater, position, pair, criterion, sides[index] != swapped, None))
    # repeat_of holds the position of the original, known only once the sequence is final
    originals_at = {index: pos for pos, (index, rep) in enumerate(sequence) if rep is None}
    return [
        task if rep is None else replace(task, repeat_of=originals_at[rep])
        for task, (_index, rep) in zip(tasks, sequence)
    ]
