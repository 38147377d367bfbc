"""Statistics of a pairwise study: win ratios with crossed bootstrap intervals, ties, sign test,
inter-rater agreement and rater self-consistency.

Conventions (the paper does not state them; docs/study_statistics.md explains them):

- A model's *win ratio* is its wins over the decisive (non-tie) votes; ties are reported apart as
  the *tie rate*, ties over all votes. The two models' win ratios therefore sum to 100 %.
- Side bias: the same sign test on left vs right choices; with sides balanced per rater, a
  small p says raters favour a screen side, not a model.
- Repeated pairs (tasks with `repeat_of`) measure self-consistency only; they never count twice
  in a win ratio, a test or the agreement.
- Votes are clustered by prompt (one prompt's videos share content) and by rater (one rater's
  taste), so the interval resamples prompts and raters independently (a two-way, crossed
  bootstrap): a vote of prompt p and rater r gets weight c_p * c_r in a replicate, where c_p and
  c_r count how often p and r were drawn.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from repvideo_eval.reporting.bootstrap import (
    make_rng,
    percentile_interval,
    ratio,
    stratified_counts,
)
from repvideo_eval.study.results import TIE


@dataclass(frozen=True)
class Estimate:
    """A proportion (0..1) with its percentile interval; NaN where undefined."""

    value: float
    low: float
    high: float

    def complement(self) -> Estimate:
        """1 - p with the interval mirrored (the other model's win ratio)."""
        return Estimate(1.0 - self.value, 1.0 - self.high, 1.0 - self.low)


@dataclass(frozen=True)
class Agreement:
    """Inter-rater agreement over units (pair, criterion) judged by two or more raters."""

    krippendorff_alpha: float
    fleiss_kappa: float
    n_units: int
    n_ratings: int


@dataclass(frozen=True)
class Consistency:
    """Rater self-consistency: repeated tasks whose winner equals the original task's winner."""

    n_repeats: int
    n_same: int
    per_rater: dict[int, tuple[int, int]]

    @property
    def rate(self) -> float:
        return self.n_same / self.n_repeats if self.n_repeats else math.nan


@dataclass(frozen=True)
class CriterionStats:
    """Everything the report shows for one criterion (or 'overall', all criteria pooled)."""

    criterion: str
    n_votes: int
    wins: dict[str, int]
    ties: int
    win_ratio: dict[str, Estimate]
    tie_rate: Estimate
    sign_test_p: float
    sides: dict[str, int]
    side_bias_p: float
    n_prompts: int
    n_raters: int
    agreement: Agreement
    consistency: Consistency


# --- tests on counts -------------------------------------------------------------------------


def sign_test(wins_a: int, wins_b: int) -> float:
    """Two-sided exact sign test of 'each model wins half the decisive votes' (ties left out)."""
    decisive = wins_a + wins_b
    if decisive == 0:
        return math.nan
    return float(binomtest(wins_a, decisive, 0.5, alternative="two-sided").pvalue)


def fleiss_kappa(table: np.ndarray) -> float:
    """Fleiss' kappa of an (items, categories) count table with the same raters per item."""
    table = np.asarray(table, dtype=float)
    per_item = table.sum(axis=1)
    if table.shape[0] == 0 or not np.all(per_item == per_item[0]) or per_item[0] < 2:
        return math.nan
    n = per_item[0]
    shares = table.sum(axis=0) / table.sum()
    observed = float(np.mean((np.sum(table * table, axis=1) - n) / (n * (n - 1))))
    expected = float(np.sum(shares * shares))
    if expected >= 1.0:
        return math.nan
    return (observed - expected) / (1.0 - expected)


def krippendorff_alpha_nominal(units: Sequence[Sequence[Hashable]]) -> float:
    """Krippendorff's alpha for nominal values; each unit lists the values it received.

    Units with fewer than two values are not pairable and are left out. Undefined (NaN) when no
    unit is pairable or every pairable value is the same (no expected disagreement).
    """
    coincidence: defaultdict[tuple[Hashable, Hashable], float] = defaultdict(float)
    for values in units:
        m = len(values)
        if m < 2:
            continue
        counts = Counter(values)
        for c, n_c in counts.items():
            for k, n_k in counts.items():
                pairs = n_c * (n_k - 1) if c == k else n_c * n_k
                coincidence[(c, k)] += pairs / (m - 1)
    totals: defaultdict[Hashable, float] = defaultdict(float)
    for (c, _k), value in coincidence.items():
        totals[c] += value
    n = sum(totals.values())
    if n <= 1:
        return math.nan
    observed = sum(v for (c, k), v in coincidence.items() if c != k)
    expected = sum(totals[c] * totals[k] for c in totals for k in totals if c != k)
    if expected == 0:
        return math.nan
    return 1.0 - (n - 1) * observed / expected


# --- crossed bootstrap -----------------------------------------------------------------------


def crossed_counts(
    n_prompts: int, n_raters: int, n_resamples: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(B, P) prompt and (B, R) rater draw counts, each a plain bootstrap (with replacement)."""
    prompts = stratified_counts(np.ones((n_prompts, 1), dtype=bool), n_resamples, rng)
    raters = stratified_counts(np.ones((n_raters, 1), dtype=bool), n_resamples, rng)
    return prompts, raters


def crossed_replicates(
    numerator: np.ndarray, denominator: np.ndarray, prompts: np.ndarray, raters: np.ndarray
) -> np.ndarray:
    """(B,) replicates of sum(w * numerator) / sum(w * denominator), w[p, r] = c_p * c_r.

    `numerator` and `denominator` are (P, R) per-cell vote counts.
    """
    top = np.sum((prompts @ numerator) * raters, axis=1)
    bottom = np.sum((prompts @ denominator) * raters, axis=1)
    return ratio(top, bottom)


def crossed_estimate(
    numerator: np.ndarray,
    denominator: np.ndarray,
    prompts: np.ndarray,
    raters: np.ndarray,
    confidence: float,
) -> Estimate:
    """Point estimate and crossed-bootstrap percentile interval of sum(numerator)/sum(denominator)."""
    value = float(ratio(np.asarray(numerator.sum()), np.asarray(denominator.sum())))
    replicates = crossed_replicates(numerator, denominator, prompts, raters)
    low, high = percentile_interval(replicates[:, None], confidence)
    return Estimate(value, float(low[0]), float(high[0]))


# --- one criterion ---------------------------------------------------------------------------


def _cells(
    votes: pd.DataFrame, prompt_index: dict[str, int], rater_index: dict[int, int], mask: pd.Series
) -> np.ndarray:
    """(P, R) count of the votes selected by `mask`."""
    cells = np.zeros((len(prompt_index), len(rater_index)))
    chosen = votes[mask]
    np.add.at(
        cells,
        (
            chosen["prompt"].map(prompt_index).to_numpy(int),
            chosen["rater"].map(rater_index).to_numpy(int),
        ),
        1.0,
    )
    return cells


def agreement(votes: pd.DataFrame) -> Agreement:
    """Alpha (always) and Fleiss' kappa (when every shared unit has the same number of raters)."""
    units = [
        list(group["winner"]) for _, group in votes.groupby(["pair", "criterion"]) if len(group) > 1
    ]
    categories = sorted({v for unit in units for v in unit})
    table = np.array([[unit.count(c) for c in categories] for unit in units], dtype=float)
    return Agreement(
        krippendorff_alpha=krippendorff_alpha_nominal(units),
        fleiss_kappa=fleiss_kappa(table) if units else math.nan,
        n_units=len(units),
        n_ratings=int(sum(len(u) for u in units)),
    )


def self_consistency(judgements: pd.DataFrame) -> Consistency:
    """Repeated tasks vs their originals (both voted), compared by winning model, not side."""
    repeats = judgements[judgements["repeat_of"] != ""]
    originals = judgements.set_index("task_id")["winner"]
    per_rater: dict[int, tuple[int, int]] = {}
    for row in repeats.itertuples(index=False):
        if row.repeat_of not in originals.index:
            continue  # the original is not voted yet
        same, total = per_rater.get(int(row.rater), (0, 0))
        per_rater[int(row.rater)] = (same + int(originals[row.repeat_of] == row.winner), total + 1)
    return Consistency(
        n_repeats=sum(t for _, t in per_rater.values()),
        n_same=sum(s for s, _ in per_rater.values()),
        per_rater=dict(sorted(per_rater.items())),
    )


def criterion_stats(
    name: str,
    judgements: pd.DataFrame,
    models: tuple[str, str],
    prompts: np.ndarray,
    raters: np.ndarray,
    prompt_index: dict[str, int],
    rater_index: dict[int, int],
    confidence: float,
) -> CriterionStats:
    """Statistics of the given judgements (one criterion's, or all pooled), with shared draws."""
    primary = judgements[judgements["repeat_of"] == ""]
    model_a, model_b = models
    wins_a = _cells(primary, prompt_index, rater_index, primary["winner"] == model_a)
    wins_b = _cells(primary, prompt_index, rater_index, primary["winner"] == model_b)
    ties = _cells(primary, prompt_index, rater_index, primary["winner"] == TIE)
    decisive = wins_a + wins_b
    ratio_a = crossed_estimate(wins_a, decisive, prompts, raters, confidence)
    sides = {side: int((primary["choice"] == side).sum()) for side in ("left", "right")}
    return CriterionStats(
        criterion=name,
        n_votes=len(primary),
        wins={model_a: int(wins_a.sum()), model_b: int(wins_b.sum())},
        ties=int(ties.sum()),
        win_ratio={model_a: ratio_a, model_b: ratio_a.complement()},
        tie_rate=crossed_estimate(ties, decisive + ties, prompts, raters, confidence),
        sign_test_p=sign_test(int(wins_a.sum()), int(wins_b.sum())),
        sides=sides,
        side_bias_p=sign_test(sides["left"], sides["right"]),
        n_prompts=int(primary["prompt"].nunique()),
        n_raters=int(primary["rater"].nunique()),
        agreement=agreement(primary),
        consistency=self_consistency(judgements),
    )


def study_stats(
    judgements: pd.DataFrame,
    models: tuple[str, str],
    criteria: Sequence[str],
    *,
    n_resamples: int,
    confidence: float,
    seed: int,
) -> list[CriterionStats]:
    """One entry per criterion (in the given order), then 'overall' (all criteria pooled).

    Every criterion and the pooled row use the same prompt and rater draws, so their intervals
    come from the same replicates; the draws depend only on `seed` and the model names.
    """
    prompt_index = {p: i for i, p in enumerate(sorted(set(judgements["prompt"])))}
    rater_index = {r: i for i, r in enumerate(sorted(set(judgements["rater"])))}
    prompts, raters = crossed_counts(
        len(prompt_index), len(rater_index), n_resamples, make_rng(seed, "study", *models)
    )
    groups = [(c, judgements[judgements["criterion"] == c]) for c in criteria]
    groups.append(("overall", judgements[judgements["criterion"].isin(list(criteria))]))
    return [
        criterion_stats(name, rows, models, prompts, raters, prompt_index, rater_index, confidence)
        for name, rows in groups
    ]
