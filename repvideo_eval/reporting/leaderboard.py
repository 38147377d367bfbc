"""Build the leaderboard (one row per model card, one cell per dimension, with CIs) from records.

Every number comes from the per-video records: dimension scores are VBench's weighted means,
intervals are the prompt bootstrap of `bootstrap.py`, and Quality / Semantic / Total appear only
for rows that measured all 16 dimensions. Pairs of rows generated from the same prompts and
seeds get paired differences. Reference (published) rows are attached separately.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from repvideo_eval.config import STANDARD_PROMPT_SET
from repvideo_eval.reporting import bootstrap
from repvideo_eval.reporting.protocol import Protocol, measured_protocol, protocol_match
from repvideo_eval.reporting.records import RANDOM_WEIGHTS_NOTICE, VIDEO_KEY, RecordSet
from repvideo_eval.reporting.reference import ReferenceRow
from repvideo_eval.reporting.summary import SUMMARY_NAMES, has_all_dimensions, summary_scores
from repvideo_eval.scoring.vbench_constants import ALL_DIMENSIONS

DEFAULT_RESAMPLES = 2000
DEFAULT_CONFIDENCE = 0.95
DEFAULT_SEED = 0
#: Settings that must agree for two rows' numbers to be comparable.
COMPARABILITY_KEYS = (
    "sampler",
    "frames",
    "resolution",
    "fps",
    "vbench_mode",
    "prompt_set",
    "weights_id",
    "backend",
    "versions",
)


@dataclass(frozen=True)
class Cell:
    """A score in percent with its interval and the counts behind it (NaN value: not measured)."""

    value: float
    low: float
    high: float
    n_videos: int = 0
    n_prompts: int = 0
    n_errors: int = 0


@dataclass
class Row:
    """One leaderboard row: a model card (name + hash) with its cells and settings."""

    label: str
    model: str
    card_hash: str
    cells: dict[str, Cell]
    summary: dict[str, Cell]
    n_videos: int
    n_prompts: int
    n_errors: int
    settings: dict[str, str]
    versions: dict[str, str]
    random_weights: bool
    run_ids: list[str]
    card: dict[str, Any]
    protocol: Protocol = field(default_factory=Protocol)
    #: The prompt set the row's videos were generated from (repvideo_eval.prompt_sets).
    prompt_set: str = STANDARD_PROMPT_SET


@dataclass(frozen=True)
class Comparison:
    """Paired difference a - b (percentage points) for one dimension or summary score."""

    a: str
    b: str
    metric: str
    difference: float
    low: float
    high: float
    p_value: float
    exact: bool
    n_prompts: int


@dataclass
class Leaderboard:
    """Everything a report format needs."""

    dimensions: list[str]
    rows: list[Row]
    comparisons: list[Comparison]
    reference: list[ReferenceRow]
    notes: list[str]
    method: dict[str, Any]
    random_weights: bool
    run_ids: list[str] = field(default_factory=list)


def ordered_dimensions(names: Sequence[str]) -> list[str]:
    """VBench's order for known dimensions, then unknown ones alphabetically."""
    known = [d for d in ALL_DIMENSIONS if d in names]
    return known + sorted(set(names) - set(known))


def card_settings(card: dict[str, Any], frame: pd.DataFrame) -> dict[str, str]:
    """The settings that make numbers comparable, as short display strings."""
    sampler = card.get("sampler") or {}
    repvideo = card.get("repvideo")
    sampler_text = ", ".join(
        f"{key}={sampler[key]}"
        for key in (
            "scheduler",
            "num_inference_steps",
            "guidance_scale",
            "use_dynamic_cfg",
            "dynamic_cfg_exp",
        )
        if key in sampler
    )
    if sampler.get("negative_prompt"):
        sampler_text += f", negative_prompt={sampler['negative_prompt']!r}"
    width, height = sampler.get("width"), sampler.get("height")
    if repvideo:
        parts = [f"cache_window={repvideo.get('cache_window')}", f"gates={repvideo.get('gates')}"]
        if repvideo.get("gate_value") is not None:
            parts.append(f"gate_value={repvideo.get('gate_value')}")
        if repvideo.get("gate_seed") is not None:
            parts.append(f"gate_seed={repvideo.get('gate_seed')}")
        repvideo_text = ", ".join(parts)
    else:
        repvideo_text = "none"
    return {
        "family": str(card.get("family", "")),
        "weights": str(card.get("weights", "")),
        "dtype": str(card.get("dtype", "")),
        "sampler": sampler_text,
        "frames": str(sampler.get("num_frames", "")),
        "resolution": f"{width}x{height}" if width is not None and height is not None else "",
        "fps": str(sampler.get("fps", "")),
        "repvideo": repvideo_text,
        "vbench_mode": " / ".join(sorted(set(frame["vbench_mode"].astype(str)))),
        "backend": " / ".join(sorted(set(frame["backend"].astype(str)))),
        "weights_id": " / ".join(sorted(set(frame["weights_id"].astype(str)))),
    }


def _count_cells(frame: pd.DataFrame, dimension: str) -> tuple[int, int, int]:
    """(videos scored, prompts scored, records with errors) of one dimension."""
    subset = frame[frame["dimension"] == dimension]
    ok = subset[(subset["error"] == "") & subset["score"].notna()]
    n_videos = len(ok.drop_duplicates(list(VIDEO_KEY)))
    n_prompts = len(ok.drop_duplicates(["prompt_index", "prompt"]))
    return n_videos, n_prompts, int(len(subset) - len(ok))


def _summary_replicates(replicates: np.ndarray, dimensions: Sequence[str]) -> np.ndarray:
    """(B, 3) Quality/Semantic/Total per bootstrap replicate (NaN where a replicate is undefined)."""
    out = np.full((replicates.shape[0], len(SUMMARY_NAMES)), np.nan)
    for b in range(replicates.shape[0]):
        values = summary_scores(dict(zip(dimensions, replicates[b])))
        if values is not None:
            out[b] = [values[name] for name in SUMMARY_NAMES]
    return out


def build_row(
    records: RecordSet,
    label: str,
    dimensions: Sequence[str],
    *,
    n_resamples: int,
    confidence: float,
    seed: int,
) -> tuple[Row, bootstrap.PromptSums]:
    """Cells, summary scores and settings of one row."""
    frame = records.rows_table(label)
    sums = bootstrap.prompt_sums(frame, dimensions)
    interval = bootstrap.bootstrap(
        sums, n_resamples, confidence, bootstrap.make_rng(seed, "row", label)
    )
    cells: dict[str, Cell] = {}
    for j, dimension in enumerate(dimensions):
        n_videos, n_prompts, n_errors = _count_cells(frame, dimension)
        if n_videos == 0 and n_errors == 0:
            continue
        cells[dimension] = Cell(
            100 * interval.estimate[j],
            100 * interval.low[j],
            100 * interval.high[j],
            n_videos,
            n_prompts,
            n_errors,
        )
    summary: dict[str, Cell] = {}
    raw = {d: interval.estimate[j] for j, d in enumerate(dimensions)}
    point = summary_scores(raw)
    if point is not None:
        low, high = bootstrap.percentile_interval(
            _summary_replicates(interval.replicates, dimensions), confidence
        )
        for k, name in enumerate(SUMMARY_NAMES):
            summary[name] = Cell(100 * point[name], 100 * low[k], 100 * high[k])
    ok = frame[(frame["error"] == "") & frame["score"].notna()]
    card = records.cards.get(label, {})
    settings = card_settings(card, frame)
    versions = records.versions.get(label, {})
    settings["versions"] = ", ".join(f"{k}={v}" for k, v in versions.items())
    settings["device"] = " / ".join(records.devices.get(label, []))
    prompt_set = records.prompt_sets.get(label, STANDARD_PROMPT_SET)
    settings["prompt_set"] = prompt_set
    model, card_hash = records.row_model[label]
    row = Row(
        label=label,
        model=model,
        card_hash=card_hash,
        cells=cells,
        summary=summary,
        n_videos=len(ok.drop_duplicates(list(VIDEO_KEY))),
        n_prompts=len(ok.drop_duplicates(["prompt_index", "prompt"])),
        n_errors=int(len(frame) - len(ok)),
        settings=settings,
        versions=versions,
        random_weights=records.random_weights(label),
        run_ids=records.run_ids.get(label, []),
        card=card,
        protocol=measured_protocol(card, frame, records.metas.get(label, [])),
        prompt_set=prompt_set,
    )
    return row, sums


def same_videos(frame_a: pd.DataFrame, frame_b: pd.DataFrame, dimensions: Sequence[str]) -> bool:
    """True when both rows hold the same (prompt, sample, seed) videos in each shared dimension."""
    for dimension in dimensions:
        keys_a = set(
            map(
                tuple,
                frame_a.loc[frame_a["dimension"] == dimension, list(VIDEO_KEY)].itertuples(
                    index=False
                ),
            )
        )
        keys_b = set(
            map(
                tuple,
                frame_b.loc[frame_b["dimension"] == dimension, list(VIDEO_KEY)].itertuples(
                    index=False
                ),
            )
        )
        if keys_a != keys_b:
            return False
    return True


def compare_rows(
    records: RecordSet,
    a: str,
    b: str,
    dimensions: Sequence[str],
    *,
    n_resamples: int,
    confidence: float,
    seed: int,
) -> list[Comparison]:
    """Paired comparisons of rows a and b, or [] when they were not run on the same prompts and seeds."""
    frame_a, frame_b = records.rows_table(a), records.rows_table(b)
    shared = [
        d
        for d in dimensions
        if (frame_a["dimension"] == d).any() and (frame_b["dimension"] == d).any()
    ]
    if not shared or not same_videos(frame_a, frame_b, shared):
        return []
    prompts = sorted(set(zip(frame_a["prompt_index"].astype(int), frame_a["prompt"].astype(str))))
    sums_a = bootstrap.prompt_sums(frame_a, shared, prompts)
    sums_b = bootstrap.prompt_sums(frame_b, shared, prompts)
    rng = bootstrap.make_rng(seed, "pair", a, b)
    test = bootstrap.paired_test(sums_a, sums_b, n_resamples, confidence, rng)
    out = [
        Comparison(
            a,
            b,
            d,
            100 * test.difference[j],
            100 * test.low[j],
            100 * test.high[j],
            float(test.p_value[j]),
            test.exact,
            int(test.n_prompts[j]),
        )
        for j, d in enumerate(shared)
    ]
    if has_all_dimensions(dict(zip(shared, bootstrap.estimate(sums_a)))) and has_all_dimensions(
        dict(zip(shared, bootstrap.estimate(sums_b)))
    ):
        out.extend(
            _summary_comparisons(a, b, shared, sums_a, sums_b, test, n_resamples, confidence, rng)
        )
    return out


def _summary_comparisons(
    a: str,
    b: str,
    dims: Sequence[str],
    sums_a: bootstrap.PromptSums,
    sums_b: bootstrap.PromptSums,
    test: bootstrap.PairedTest,
    n_resamples: int,
    confidence: float,
    rng: np.random.Generator,
) -> list[Comparison]:
    """Paired Quality/Semantic/Total differences from the same resamples and sign flips."""
    point_a = summary_scores(dict(zip(dims, bootstrap.estimate(sums_a))))
    point_b = summary_scores(dict(zip(dims, bootstrap.estimate(sums_b))))
    assert point_a is not None and point_b is not None
    counts = bootstrap.stratified_counts(sums_a.presence | sums_b.presence, n_resamples, rng)
    diff_reps = _summary_replicates(
        bootstrap.replicate_scores(counts, sums_a), dims
    ) - _summary_replicates(bootstrap.replicate_scores(counts, sums_b), dims)
    low, high = bootstrap.percentile_interval(diff_reps, confidence)
    active = (sums_a.presence | sums_b.presence).any(axis=1)
    null_a, null_b, exact = bootstrap.sign_flip_null(sums_a, sums_b, active, n_resamples, rng)
    null = _summary_replicates(null_a, dims) - _summary_replicates(null_b, dims)
    observed = np.array([point_a[n] - point_b[n] for n in SUMMARY_NAMES])
    p_values = bootstrap.flip_p_value(observed, null, exact)
    return [
        Comparison(
            a,
            b,
            name,
            100 * observed[k],
            100 * low[k],
            100 * high[k],
            float(p_values[k]),
            exact,
            int(active.sum()),
        )
        for k, name in enumerate(SUMMARY_NAMES)
    ]


def comparability_notes(rows: Sequence[Row]) -> list[str]:
    """One note per setting on which measured rows disagree."""
    notes = []
    for key in COMPARABILITY_KEYS:
        values = {row.label: row.settings.get(key, "") for row in rows}
        if len(set(values.values())) > 1:
            notes.append(
                f"Rows differ in {key}; their numbers are not directly comparable: "
                + "; ".join(f"{label}: {value or '(unset)'}" for label, value in values.items())
            )
    return notes


def build_leaderboard(
    records: RecordSet,
    reference: Sequence[ReferenceRow] = (),
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = DEFAULT_SEED,
    pairs: Sequence[tuple[str, str]] | None = None,
) -> Leaderboard:
    """Leaderboard of all rows in `records`; `pairs` limits the paired comparisons (default: all pairs)."""
    dimensions = ordered_dimensions(sorted(set(records.table["dimension"].astype(str))))
    rows = [
        build_row(
            records, label, dimensions, n_resamples=n_resamples, confidence=confidence, seed=seed
        )[0]
        for label in records.rows
    ]
    comparisons: list[Comparison] = []
    for a, b in pairs if pairs is not None else itertools.combinations(records.rows, 2):
        comparisons.extend(
            compare_rows(
                records, a, b, dimensions, n_resamples=n_resamples, confidence=confidence, seed=seed
            )
        )
    notes = list(records.notes)
    random_weights = records.random_weights()
    if random_weights:
        notes.insert(0, RANDOM_WEIGHTS_NOTICE)
    notes.extend(comparability_notes(rows))
    partial = [row.label for row in rows if not row.summary]
    if partial:
        notes.append(
            "Quality / Semantic / Total are shown only for rows that measured all 16 VBench dimensions "
            f"(partial: {', '.join(partial)})."
        )
    unshared = [
        ref.row_id
        for ref in reference
        if not any(protocol_match(row.protocol, ref.protocol) == "same" for row in rows)
    ]
    if unshared:
        notes.append(
            "Reported rows that share no measured row's protocol (see Protocols), so their numbers "
            f"are not strictly comparable with the measured ones: {', '.join(unshared)}."
        )
    method = {
        "aggregation": "VBench dimension score = "
        "sum(score*aggregation_weight)/sum(aggregation_weight) "
        "over a row's scored videos; records with errors are left out",
        "confidence": confidence,
        "interval": "percentile bootstrap over prompts (all samples of a prompt move together), stratified by the set of dimensions each prompt carries; all dimensions of a row share the same draws",
        "paired_difference": "same prompt draws for both rows; two-sided p-value from a prompt-level sign-flip (randomisation) test, exact when 2^prompts <= resamples, else Monte Carlo with (1+count)/(B+1)",
        "n_resamples": n_resamples,
        "seed": seed,
    }
    run_ids = [run.run_id for run in records.runs]
    return Leaderboard(
        dimensions, rows, comparisons, list(reference), notes, method, random_weights, run_ids
    )
