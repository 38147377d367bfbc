"""The study's statistics against textbook values, exact hand computations and a simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import expit, logit

from repvideo_eval.study.stats import (
    crossed_counts,
    crossed_estimate,
    fleiss_kappa,
    krippendorff_alpha_nominal,
    sign_test,
)

# Fleiss (1971) as tabulated on Wikipedia's "Fleiss' kappa" page: 10 subjects, 14 raters each,
# 5 categories; P-bar = 0.378, P-bar_e = 0.213, kappa = 0.210.
FLEISS_TABLE = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]
# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", the 4 observers x 12 units
# example with missing values (None); its nominal alpha is 0.743.
KRIPPENDORFF_OBSERVERS = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def test_fleiss_kappa_on_the_textbook_table() -> None:
    assert fleiss_kappa(np.array(FLEISS_TABLE)) == pytest.approx(0.2099307, abs=1e-6)


def test_fleiss_kappa_extremes_and_undefined_cases() -> None:
    assert fleiss_kappa(np.array([[3, 0], [0, 3], [3, 0]])) == pytest.approx(1.0)
    # Every item split 1:1 although both categories are equally common: worse than chance.
    assert fleiss_kappa(np.array([[1, 1], [1, 1]])) == pytest.approx(-1.0)
    assert math.isnan(fleiss_kappa(np.array([[2, 1], [1, 1]])))  # unequal raters per item
    assert math.isnan(fleiss_kappa(np.array([[2, 0], [2, 0]])))  # one category only


def test_krippendorff_alpha_on_the_textbook_example() -> None:
    units = [[v for v in unit if v is not None] for unit in zip(*KRIPPENDORFF_OBSERVERS)]
    assert krippendorff_alpha_nominal(units) == pytest.approx(0.743, abs=5e-4)


def test_krippendorff_alpha_matches_fleiss_structure_and_edge_cases() -> None:
    assert krippendorff_alpha_nominal([["a", "a"], ["b", "b"], ["a", "a", "a"]]) == 1.0
    assert math.isnan(krippendorff_alpha_nominal([["a"], ["b"]]))  # nothing pairable
    assert math.isnan(krippendorff_alpha_nominal([["a", "a"], ["a", "a"]]))  # no variation
    # Complete data, many raters: alpha tends to Fleiss' kappa (they differ by O(1/n)).
    units = [["x"] * row[0] + ["y"] * row[1] for row in [[9, 1], [2, 8], [7, 3], [5, 5]] * 25]
    table = np.array([[u.count("x"), u.count("y")] for u in units])
    assert krippendorff_alpha_nominal(units) == pytest.approx(fleiss_kappa(table), abs=5e-3)


def test_sign_test_exact_values() -> None:
    # 9 wins of 10: P(X >= 9) = 11/1024, two-sided 22/1024.
    assert sign_test(9, 1) == pytest.approx(22 / 1024)
    assert sign_test(1, 9) == pytest.approx(22 / 1024)
    assert sign_test(5, 5) == pytest.approx(1.0)
    assert sign_test(75, 25) == pytest.approx(5.6351e-07, rel=1e-3)
    assert math.isnan(sign_test(0, 0))


def test_crossed_estimate_is_the_pooled_ratio_and_reproducible() -> None:
    wins = np.array([[3.0, 1.0], [0.0, 2.0]])
    decisive = np.array([[4.0, 2.0], [1.0, 2.0]])
    draws = crossed_counts(2, 2, 300, np.random.default_rng(7))
    first = crossed_estimate(wins, decisive, *draws, 0.95)
    again = crossed_estimate(
        wins, decisive, *crossed_counts(2, 2, 300, np.random.default_rng(7)), 0.95
    )
    assert first.value == pytest.approx(6 / 9)
    assert first == again
    assert 0.0 <= first.low <= first.value <= first.high <= 1.0
    mirrored = first.complement()
    assert (mirrored.value, mirrored.low, mirrored.high) == pytest.approx(
        (1 - first.value, 1 - first.high, 1 - first.low)
    )


def _simulated_coverage(sd: float, n_studies: int, seed: int) -> tuple[float, float, float]:
    """Coverage of the crossed interval and of a naive vote-level interval, and mean width.

    Each study: 12 prompts x 8 raters, one vote each; logit P(B wins) = logit(0.7) + a_p + b_r
    with prompt and rater effects N(0, sd^2). The truth is the population win ratio
    E[expit(logit(0.7) + a + b)], integrated by Monte Carlo.
    """
    rng = np.random.default_rng(seed)
    n_prompts, n_raters = 12, 8
    effects = rng.normal(0.0, sd, size=(2, 1_000_000))
    truth = float(expit(logit(0.7) + effects[0] + effects[1]).mean())
    covered = naive = 0
    widths = []
    for _ in range(n_studies):
        a = rng.normal(0.0, sd, n_prompts)
        b = rng.normal(0.0, sd, n_raters)
        wins = (rng.random((n_prompts, n_raters)) < expit(logit(0.7) + a[:, None] + b)).astype(
            float
        )
        estimate = crossed_estimate(
            wins, np.ones_like(wins), *crossed_counts(n_prompts, n_raters, 400, rng), 0.95
        )
        covered += estimate.low <= truth <= estimate.high
        widths.append(estimate.high - estimate.low)
        mean = wins.mean()
        half = 1.96 * math.sqrt(mean * (1 - mean) / wins.size)
        naive += mean - half <= truth <= mean + half
    return covered / n_studies, naive / n_studies, float(np.mean(widths))


def test_crossed_bootstrap_covers_the_truth_when_votes_cluster() -> None:
    """Strong prompt and rater effects: the vote-level interval under-covers, ours does not."""
    ours, naive, _ = _simulated_coverage(sd=0.8, n_studies=300, seed=20261201)
    assert ours >= 0.92
    assert naive <= 0.85


def test_crossed_bootstrap_is_conservative_but_bounded_for_independent_votes() -> None:
    """No clustering: coverage at least nominal, width at most sqrt(3) x the binomial width
    (the pigeonhole bootstrap counts the vote noise up to three times)."""
    ours, _, width = _simulated_coverage(sd=0.0, n_studies=200, seed=11)
    binomial_width = 2 * 1.96 * math.sqrt(0.7 * 0.3 / 96)
    assert ours >= 0.94
    assert width <= math.sqrt(3) * binomial_width
