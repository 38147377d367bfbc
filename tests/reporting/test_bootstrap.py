"""The prompt bootstrap and the sign-flip test against closed-form answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from repvideo_eval.reporting import bootstrap


def records(rows: list[tuple[int, str, float, float]], dimension: str = "dim") -> pd.DataFrame:
    """(prompt_index, sample, score, weight) tuples -> a records frame with the loader's columns."""
    return pd.DataFrame(
        {
            "prompt_index": [r[0] for r in rows],
            "prompt": [f"p{r[0]}" for r in rows],
            "sample": [r[1] for r in rows],
            "seed": [r[1] for r in rows],
            "dimension": dimension,
            "score": [r[2] for r in rows],
            "aggregation_weight": [r[3] for r in rows],
            "error": "",
        }
    )


def test_estimate_is_vbench_weighted_mean_and_skips_errors() -> None:
    frame = records([(0, 0, 0.2, 3.0), (1, 0, 1.0, 1.0), (2, 0, 0.9, 5.0)])
    frame.loc[2, "error"] = "decode failed"
    sums = bootstrap.prompt_sums(frame, ["dim"])
    assert bootstrap.estimate(sums)[0] == pytest.approx((0.2 * 3 + 1.0 * 1) / 4)


def monte_carlo_rel_tolerance(resamples: int, z: float = 4.0) -> float:
    """How far a standard deviation estimated from `resamples` draws may stray, relative: its
    Monte Carlo standard error is sd / sqrt(2 (B - 1)) for a near-normal bootstrap distribution
    (a mean of many prompts), so z of those bound a correct implementation's miss."""
    return z / np.sqrt(2 * (resamples - 1))


def quantile_rel_tolerance(resamples: int, level: float = 0.95, z: float = 4.0) -> float:
    """The same for a percentile interval's width over the normal width 2 * q * se: each end's
    Monte Carlo standard error is sqrt(p (1 - p) / B) / pdf(q) in units of se (asymptotic order
    statistic), the two ends are nearly independent."""
    from scipy.stats import norm

    tail = (1 - level) / 2
    q = norm.ppf(1 - tail)
    end_se = np.sqrt(tail * (1 - tail) / resamples) / norm.pdf(q)
    return z * np.sqrt(2) * end_se / (2 * q)


def test_bootstrap_standard_error_matches_closed_form_for_a_mean() -> None:
    rng = np.random.default_rng(1)
    values = rng.uniform(0, 1, size=60)
    sums = bootstrap.prompt_sums(records([(i, 0, v, 1.0) for i, v in enumerate(values)]), ["dim"])
    resamples = 20000
    result = bootstrap.bootstrap(sums, resamples, 0.95, bootstrap.make_rng(0, "mean"))
    # Bootstrap variance of a mean of n iid draws from the empirical distribution: plug-in variance / n.
    expected_se = np.sqrt(np.var(values) / values.size)
    sd_tolerance = monte_carlo_rel_tolerance(resamples)
    assert sd_tolerance < 0.03  # enough resamples for the check to mean something
    assert result.replicates[:, 0].std() == pytest.approx(expected_se, rel=sd_tolerance)
    assert result.estimate[0] == pytest.approx(values.mean())
    assert result.low[0] < values.mean() < result.high[0]
    # The percentile interval of a mean of 60 uniforms is normal to well within this (skew ~0).
    width_tolerance = quantile_rel_tolerance(resamples) + sd_tolerance
    assert (result.high[0] - result.low[0]) == pytest.approx(
        2 * 1.96 * expected_se, rel=width_tolerance
    )


def test_bootstrap_of_weighted_ratio_matches_linearised_variance() -> None:
    rng = np.random.default_rng(2)
    n = 300
    scores = rng.uniform(0, 1, size=n)
    weights = rng.integers(1, 48, size=n).astype(float)  # e.g. frame pairs per video
    sums = bootstrap.prompt_sums(
        records([(i, 0, s, w) for i, (s, w) in enumerate(zip(scores, weights))]), ["dim"]
    )
    resamples = 20000
    result = bootstrap.bootstrap(sums, resamples, 0.95, bootstrap.make_rng(0, "ratio"))
    ratio = np.sum(scores * weights) / np.sum(weights)
    # Resampling n clusters: Var*(sum S - R sum W) = sum (S_p - R W_p)^2, divided by (sum W)^2.
    expected_se = np.sqrt(np.sum((scores * weights - ratio * weights) ** 2)) / np.sum(weights)
    assert result.estimate[0] == pytest.approx(ratio)
    # Linearising the ratio is exact up to O(1/n) relative terms (n = 300 clusters): add 1/n.
    tolerance = monte_carlo_rel_tolerance(resamples) + 1 / n
    assert result.replicates[:, 0].std() == pytest.approx(expected_se, rel=tolerance)


def test_two_prompt_bootstrap_distribution_is_binomial() -> None:
    sums = bootstrap.prompt_sums(records([(0, 0, 0.0, 1.0), (1, 0, 1.0, 1.0)]), ["dim"])
    result = bootstrap.bootstrap(sums, 40000, 0.95, bootstrap.make_rng(3))
    values, counts = np.unique(result.replicates[:, 0], return_counts=True)
    assert values.tolist() == [0.0, 0.5, 1.0]
    np.testing.assert_allclose(counts / counts.sum(), [0.25, 0.5, 0.25], atol=0.01)
    assert (result.low[0], result.high[0]) == (0.0, 1.0)


def test_samples_of_a_prompt_are_resampled_together() -> None:
    # Each prompt averages 0.5 over its two samples; resampling prompts (not videos) never moves it.
    frame = records([(0, 0, 0.0, 1.0), (0, 1, 1.0, 1.0), (1, 0, 0.2, 1.0), (1, 1, 0.8, 1.0)])
    result = bootstrap.bootstrap(
        bootstrap.prompt_sums(frame, ["dim"]), 500, 0.95, bootstrap.make_rng(0)
    )
    np.testing.assert_allclose(result.replicates[:, 0], 0.5)


def test_strata_keep_each_dimension_prompt_count() -> None:
    presence = np.array([[1, 0], [1, 0], [1, 0], [0, 1], [0, 1], [1, 1]], dtype=bool)
    counts = bootstrap.stratified_counts(presence, 300, np.random.default_rng(0))
    assert np.all(counts[:, :3].sum(axis=1) == 3)
    assert np.all(counts[:, 3:5].sum(axis=1) == 2)
    assert np.all(counts[:, 5] == 1)
    assert counts[:, :3].std(axis=0).min() > 0  # it does resample


def test_same_seed_same_interval_other_seed_differs() -> None:
    values = np.linspace(0, 1, 25)
    sums = bootstrap.prompt_sums(records([(i, 0, v, 1.0) for i, v in enumerate(values)]), ["dim"])
    first = bootstrap.bootstrap(sums, 500, 0.95, bootstrap.make_rng(7, "row"))
    again = bootstrap.bootstrap(sums, 500, 0.95, bootstrap.make_rng(7, "row"))
    other = bootstrap.bootstrap(sums, 500, 0.95, bootstrap.make_rng(8, "row"))
    np.testing.assert_array_equal(first.replicates, again.replicates)
    assert not np.array_equal(first.replicates, other.replicates)


def aligned(
    a_values: list[float], b_values: list[float]
) -> tuple[bootstrap.PromptSums, bootstrap.PromptSums]:
    prompts = [(i, f"p{i}") for i in range(len(a_values))]
    a = bootstrap.prompt_sums(
        records([(i, 0, v, 1.0) for i, v in enumerate(a_values)]), ["dim"], prompts
    )
    b = bootstrap.prompt_sums(
        records([(i, 0, v, 1.0) for i, v in enumerate(b_values)]), ["dim"], prompts
    )
    return a, b


def test_sign_flip_p_value_is_exact_for_few_prompts() -> None:
    # Five prompts, A better by the same amount on each: only the two all-same flips are as extreme.
    a, b = aligned([0.9, 0.8, 0.7, 0.6, 0.5], [0.8, 0.7, 0.6, 0.5, 0.4])
    test = bootstrap.paired_test(a, b, 2000, 0.95, bootstrap.make_rng(0))
    assert test.exact and test.n_prompts.tolist() == [5]
    assert test.difference[0] == pytest.approx(0.1)
    assert test.p_value[0] == pytest.approx(2 / 32)
    # Every prompt difference is 0.1, so every paired bootstrap replicate is 0.1 too.
    assert test.low[0] == pytest.approx(0.1) and test.high[0] == pytest.approx(0.1)


def test_identical_rows_have_p_one() -> None:
    a, b = aligned([0.3, 0.9, 0.5, 0.1], [0.3, 0.9, 0.5, 0.1])
    test = bootstrap.paired_test(a, b, 1000, 0.95, bootstrap.make_rng(0))
    assert test.difference[0] == 0.0
    assert test.p_value[0] == 1.0


def test_paired_interval_matches_closed_form_and_monte_carlo_p_is_small() -> None:
    rng = np.random.default_rng(4)
    base = rng.uniform(0.2, 0.8, size=80)
    shift = 0.05 + rng.normal(0, 0.05, size=80)
    a, b = aligned(list(base + shift), list(base))
    test = bootstrap.paired_test(a, b, 20000, 0.95, bootstrap.make_rng(0))
    assert not test.exact
    expected_se = np.sqrt(np.var(shift) / shift.size)
    assert test.replicates[:, 0].std() == pytest.approx(expected_se, rel=0.05)
    # The shift is ~7 standard errors: essentially no sign flip reaches it.
    assert test.p_value[0] == pytest.approx(1 / 20001, abs=2e-4)


def test_unaligned_sums_are_refused() -> None:
    a, _ = aligned([0.1, 0.2], [0.1, 0.2])
    c, _ = aligned([0.1, 0.2, 0.3], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError):
        bootstrap.paired_test(a, c, 100, 0.95, bootstrap.make_rng(0))
