"""Bootstrap confidence intervals and paired tests for VBench's weighted dimension scores.

A dimension score is a ratio, sum(score * w) / sum(w) over a row's videos, w the records'
aggregation weights. Videos of the same prompt are correlated (same text, often same seed scheme),
so the resampling unit is the prompt: each prompt contributes its sums S_p = sum(score * w) and
W_p = sum(w), and a bootstrap replicate is sum_p c_p S_p / sum_p c_p W_p, where c_p counts how often
prompt p was drawn. This keeps VBench's weighting (frame pairs for the consistency dimensions).

Prompts are drawn *stratified* by the set of dimensions they carry (VBench gives each dimension
its own prompt list), so every replicate has as many prompts per dimension as the data, and all
dimensions of a row are resampled with the same draws; derived scores (Quality, Semantic, Total)
therefore get intervals from the same replicates.

Paired comparisons (two rows run on the same prompts and seeds) resample the same prompts for
both rows; the p-value comes from a sign-flip (randomisation) test that swaps the two rows'
prompt sums, prompt by prompt, which is exact (all 2^P swaps enumerated) when P is small.
Every generator is seeded from a report seed and the row names, so reports are reproducible.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

PromptKey = tuple[int, str]


@dataclass(frozen=True)
class PromptSums:
    """Per-prompt sums of one row: score_sums[p, d] = sum(score * w), weight_sums[p, d] = sum(w),
    w the aggregation weight."""

    prompts: tuple[PromptKey, ...]
    dimensions: tuple[str, ...]
    score_sums: np.ndarray
    weight_sums: np.ndarray

    @property
    def presence(self) -> np.ndarray:
        """(P, D) bool: the prompt has at least one scored video in the dimension."""
        return self.weight_sums > 0


@dataclass(frozen=True)
class Interval:
    """Point estimates and percentile intervals, one entry per dimension (NaN when undefined)."""

    estimate: np.ndarray
    low: np.ndarray
    high: np.ndarray
    replicates: np.ndarray


@dataclass(frozen=True)
class PairedTest:
    """Difference a - b per dimension with its paired-bootstrap interval and sign-flip p-value.

    `n_prompts[d]` counts the prompts behind dimension d; `exact` says whether the p-values
    enumerated every swap pattern.
    """

    difference: np.ndarray
    low: np.ndarray
    high: np.ndarray
    p_value: np.ndarray
    exact: bool
    n_prompts: np.ndarray
    replicates: np.ndarray


def make_rng(seed: int, *labels: Hashable) -> np.random.Generator:
    """A generator that depends only on the report seed and the labels (row names, dimension)."""
    words = [int(seed) & 0xFFFFFFFF] + [zlib.crc32(repr(label).encode("utf-8")) for label in labels]
    return np.random.default_rng(words)


def prompt_sums(
    frame: pd.DataFrame, dimensions: Sequence[str], prompts: Sequence[PromptKey] | None = None
) -> PromptSums:
    """Sum the scored records of `frame` per prompt and dimension (records with errors left out).

    `prompts` fixes the prompt order (to align two rows for a paired test); by default the
    prompts of `frame`, sorted by prompt index.
    """
    ok = frame[(frame["error"] == "") & frame["score"].notna()]
    if prompts is None:
        prompts = sorted(set(zip(frame["prompt_index"].astype(int), frame["prompt"].astype(str))))
    index = {key: i for i, key in enumerate(prompts)}
    dim_index = {d: j for j, d in enumerate(dimensions)}
    score_sums = np.zeros((len(prompts), len(dimensions)))
    weight_sums = np.zeros((len(prompts), len(dimensions)))
    for (p_index, prompt, dimension), group in ok.groupby(
        ["prompt_index", "prompt", "dimension"], sort=False
    ):
        i = index.get((int(p_index), str(prompt)))
        j = dim_index.get(str(dimension))
        if i is None or j is None:
            continue
        aggregation_weights = group["aggregation_weight"].to_numpy(float)
        score_sums[i, j] = float(np.sum(group["score"].to_numpy(float) * aggregation_weights))
        weight_sums[i, j] = float(np.sum(aggregation_weights))
    return PromptSums(tuple(prompts), tuple(dimensions), score_sums, weight_sums)


def ratio(score_sums: np.ndarray, weight_sums: np.ndarray) -> np.ndarray:
    """sum(S) / sum(W) along the last-but-one axis, NaN where no weight."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(
            weight_sums > 0, score_sums / np.where(weight_sums > 0, weight_sums, 1.0), np.nan
        )


def estimate(sums: PromptSums) -> np.ndarray:
    """The VBench dimension scores (0..1) of the row, NaN for a dimension with no scored video."""
    return ratio(sums.score_sums.sum(axis=0), sums.weight_sums.sum(axis=0))


def stratified_counts(
    presence: np.ndarray, n_resamples: int, rng: np.random.Generator
) -> np.ndarray:
    """(B, P) draw counts: prompts resampled with replacement within strata of equal presence.

    A stratum is the set of prompts that carry exactly the same dimensions; drawing n_s prompts
    from a stratum of n_s keeps every dimension's prompt count fixed across replicates.
    """
    n_prompts = presence.shape[0]
    counts = np.zeros((n_resamples, n_prompts), dtype=np.int64)
    signatures: dict[bytes, list[int]] = {}
    for p in range(n_prompts):
        if presence[p].any():
            signatures.setdefault(presence[p].tobytes(), []).append(p)
    for members in signatures.values():
        size = len(members)
        counts[:, members] = rng.multinomial(size, np.full(size, 1.0 / size), size=n_resamples)
    return counts


def replicate_scores(counts: np.ndarray, sums: PromptSums) -> np.ndarray:
    """(B, D) bootstrap replicates of the dimension scores for the given draw counts."""
    return ratio(counts @ sums.score_sums, counts @ sums.weight_sums)


def percentile_interval(replicates: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval per column, ignoring undefined (NaN) replicates; NaN if none is defined."""
    tail = (1.0 - confidence) / 2.0 * 100.0
    replicates = np.atleast_2d(replicates)
    low = np.full(replicates.shape[1], np.nan)
    high = np.full(replicates.shape[1], np.nan)
    for j in range(replicates.shape[1]):
        column = replicates[:, j]
        column = column[np.isfinite(column)]
        if column.size:
            low[j], high[j] = np.percentile(column, [tail, 100.0 - tail])
    return low, high


def bootstrap(
    sums: PromptSums, n_resamples: int, confidence: float, rng: np.random.Generator
) -> Interval:
    """Stratified prompt bootstrap of every dimension score of one row."""
    counts = stratified_counts(sums.presence, n_resamples, rng)
    replicates = replicate_scores(counts, sums)
    low, high = percentile_interval(replicates, confidence)
    return Interval(estimate(sums), low, high, replicates)


def paired_test(
    a: PromptSums, b: PromptSums, n_resamples: int, confidence: float, rng: np.random.Generator
) -> PairedTest:
    """Paired bootstrap interval and sign-flip p-value for estimate(a) - estimate(b).

    `a` and `b` must be aligned: same prompts in the same order, same dimensions.
    """
    if a.prompts != b.prompts or a.dimensions != b.dimensions:
        raise ValueError("paired_test needs PromptSums aligned on the same prompts and dimensions")
    presence = a.presence | b.presence
    counts = stratified_counts(presence, n_resamples, rng)
    replicates = replicate_scores(counts, a) - replicate_scores(counts, b)
    low, high = percentile_interval(replicates, confidence)
    observed = estimate(a) - estimate(b)
    null_a, null_b, exact = sign_flip_null(a, b, presence.any(axis=1), n_resamples, rng)
    p_value = flip_p_value(observed, null_a - null_b, exact)
    return PairedTest(observed, low, high, p_value, exact, presence.sum(axis=0), replicates)


def sign_flip_null(
    a: PromptSums, b: PromptSums, active: np.ndarray, n_resamples: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Scores of both rows after swapping their sums on a random subset of prompts, (B, D) each.

    Under the null hypothesis (the two rows' videos of a prompt are exchangeable), every swap
    pattern is equally likely. All 2^P patterns are enumerated when 2^P <= n_resamples.
    """
    columns = np.flatnonzero(active)
    n_active = columns.size
    if n_active == 0:
        nan = np.full((1, len(a.dimensions)), np.nan)
        return nan, nan, True
    exact = n_active < 63 and 2**n_active <= n_resamples
    if exact:
        flips_active = np.array(list(itertools.product((0, 1), repeat=n_active)), dtype=float)
    else:
        flips_active = rng.integers(0, 2, size=(n_resamples, n_active)).astype(float)
    flips = np.zeros((flips_active.shape[0], len(a.prompts)))
    flips[:, columns] = flips_active
    delta_s = b.score_sums - a.score_sums
    delta_w = b.weight_sums - a.weight_sums
    total_a_s, total_a_w = a.score_sums.sum(axis=0), a.weight_sums.sum(axis=0)
    total_b_s, total_b_w = b.score_sums.sum(axis=0), b.weight_sums.sum(axis=0)
    null_a = ratio(total_a_s + flips @ delta_s, total_a_w + flips @ delta_w)
    null_b = ratio(total_b_s - flips @ delta_s, total_b_w - flips @ delta_w)
    return null_a, null_b, exact


def flip_p_value(observed: np.ndarray, null: np.ndarray, exact: bool) -> np.ndarray:
    """Two-sided p-value: share of null differences at least as extreme as the observed one.

    Exact enumeration gives count / 2^P; Monte Carlo uses (1 + count) / (B + 1), which never
    reports p = 0 from a finite sample.
    """
    observed = np.atleast_1d(observed)
    null = np.atleast_2d(null)
    p_values = np.full(observed.shape, np.nan)
    for j in range(observed.size):
        column = null[:, j]
        column = column[np.isfinite(column)]
        if not np.isfinite(observed[j]) or column.size == 0:
            continue
        tolerance = 1e-12 * max(1.0, abs(observed[j]))
        extreme = int(np.sum(np.abs(column) >= abs(observed[j]) - tolerance))
        p_values[j] = extreme / column.size if exact else (1 + extreme) / (column.size + 1)
    return p_values
