"""Why do two rows differ: a measured row against a published row or another run's row.

Lists every protocol field that differs (or that the other side does not state) and, per
dimension, the difference with the measured row's bootstrap interval, marking the dimensions
whose other value lies inside it. Both sides are in percent: leaderboard cells are 100 x VBench's
raw dimension score and published VBench numbers are printed in percent (`reference.check_percent`
refuses a table written as fractions); Total / Quality / Semantic are VBench's normalised
weighted sums on both sides.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from repvideo_eval.atomic import write_text_atomic
from repvideo_eval.errors import UserError
from repvideo_eval.reporting.leaderboard import (
    DEFAULT_CONFIDENCE,
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    Leaderboard,
    Row,
    build_leaderboard,
)
from repvideo_eval.reporting.protocol import (
    FIELD_LABELS,
    FieldDifference,
    Protocol,
    differences,
    protocol_match,
)
from repvideo_eval.reporting.records import RANDOM_WEIGHTS_NOTICE, load_records
from repvideo_eval.reporting.reference import ReferenceRow, find_reference_row, load_reference_rows
from repvideo_eval.reporting.summary import SUMMARY_LABELS, SUMMARY_NAMES

#: `RUN_DIR::MODEL` picks one row of a run folder holding several models.
ROW_SEPARATOR = "::"


@dataclass(frozen=True)
class Target:
    """The row compared against: a published row or another run's measured row."""

    row_id: str
    kind: str  # "published" | "measured"
    protocol: Protocol
    values: dict[str, float]  # percent
    source: str


@dataclass(frozen=True)
class MetricDelta:
    """One dimension (or summary score): measured value and interval, the other value, the gap."""

    metric: str
    measured: float
    low: float
    high: float
    other: float | None

    @property
    def difference(self) -> float | None:
        return None if self.other is None else self.measured - self.other

    @property
    def inside(self) -> bool | None:
        """True when the other value lies inside the measured interval (None: nothing to compare)."""
        if self.other is None or not (math.isfinite(self.low) and math.isfinite(self.high)):
            return None
        return bool(self.low <= self.other <= self.high)


@dataclass
class RowComparison:
    """A measured row against a target."""

    measured: str
    run_ids: list[str]
    n_videos: int
    random_weights: bool
    target: Target
    protocol_differences: list[FieldDifference]
    match: str
    deltas: list[MetricDelta]
    confidence: float
    notes: list[str] = field(default_factory=list)


def target_from_reference(row: ReferenceRow) -> Target:
    return Target(row.row_id, "published", row.protocol, dict(row.values), row.source)


def target_from_row(row: Row, run_dir: Path) -> Target:
    values = {d: c.value for d, c in row.cells.items()}
    values.update({s: c.value for s, c in row.summary.items()})
    source = f"measured, run {', '.join(row.run_ids)} ({run_dir})"
    return Target(f"{run_dir}{ROW_SEPARATOR}{row.label}", "measured", row.protocol, values, source)


def resolve_target(
    spec: str,
    reference: Sequence[ReferenceRow],
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> Target:
    """A published row id, a run folder with one row, or RUN_DIR::MODEL; else a one-line error."""
    folder, _, model = spec.partition(ROW_SEPARATOR)
    if Path(folder).is_dir():
        board = build_leaderboard(load_records([Path(folder)]), n_resamples=n_resamples, seed=seed)
        labels = [row.label for row in board.rows]
        if model:
            rows = [row for row in board.rows if model in (row.label, row.model)]
        else:
            rows = board.rows if len(board.rows) == 1 else []
        if len(rows) != 1:
            raise UserError(
                f"--compare-to {spec}: "
                + (f"run has no row {model!r}" if model else "run folder holds several rows"),
                f"Pass {folder}{ROW_SEPARATOR}ROW with ROW one of: {', '.join(labels)}.",
            )
        return target_from_row(rows[0], Path(folder))
    return target_from_reference(find_reference_row(spec, list(reference)))


def compare_row(row: Row, target: Target, confidence: float) -> RowComparison:
    """Protocol differences and per-metric gaps of one measured row against the target."""
    deltas = [
        MetricDelta(name, cell.value, cell.low, cell.high, target.values.get(name))
        for name, cell in [
            *((s, row.summary[s]) for s in SUMMARY_NAMES if s in row.summary),
            *row.cells.items(),
        ]
    ]
    notes = []
    if row.random_weights:
        notes.append(RANDOM_WEIGHTS_NOTICE)
    if not any(d.other is not None for d in deltas):
        notes.append(f"{target.row_id} publishes none of the dimensions this row measured.")
    return RowComparison(
        measured=row.label,
        run_ids=row.run_ids,
        n_videos=row.n_videos,
        random_weights=row.random_weights,
        target=target,
        protocol_differences=differences(row.protocol, target.protocol),
        match=protocol_match(row.protocol, target.protocol),
        deltas=deltas,
        confidence=confidence,
        notes=notes,
    )


def compare_runs(
    run_dirs: Sequence[Path],
    target_spec: str,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = DEFAULT_SEED,
) -> list[RowComparison]:
    """Every measured row of `run_dirs` against the target (nothing is written)."""
    target = resolve_target(target_spec, load_reference_rows(), n_resamples=n_resamples, seed=seed)
    board: Leaderboard = build_leaderboard(
        load_records([Path(p) for p in run_dirs]),
        n_resamples=n_resamples,
        confidence=confidence,
        seed=seed,
    )
    return [compare_row(row, target, confidence) for row in board.rows]


def label_of(name: str) -> str:
    return SUMMARY_LABELS.get(name) or name.replace("_", " ").title()


def _num(value: float | None) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{value:.2f}"


def _signed(value: float | None) -> str:
    # round first, then add 0.0, so a gap of -0.001 prints +0.00 rather than -0.00
    return "–" if value is None or not math.isfinite(value) else f"{round(value, 2) + 0.0:+.2f}"


def _inside_text(inside: bool | None) -> str:
    return {True: "yes", False: "no", None: "–"}[inside]


def paragraph(c: RowComparison) -> str:
    """A few sentences a user can paste into an issue."""
    percent = round(100 * c.confidence)
    stated = [d for d in c.protocol_differences if d.stated and d.kind == "evaluation"]
    model = [d for d in c.protocol_differences if d.stated and d.kind == "model"]
    silent = [d for d in c.protocol_differences if not d.stated]
    text = (
        f"Comparing my row `{c.measured}` (run {', '.join(c.run_ids)}, {c.n_videos} videos"
        f"{', RANDOM weights' if c.random_weights else ''}) with `{c.target.row_id}` "
        f"({c.target.kind}; {c.target.source}). "
    )
    if stated:
        text += (
            "The evaluation protocols differ in "
            + "; ".join(f"{FIELD_LABELS[d.field]} ({d.a} vs {d.b})" for d in stated)
            + ". "
        )
    else:
        text += "No stated evaluation field differs. "
    if model:
        text += (
            "The models differ in "
            + "; ".join(f"{FIELD_LABELS[d.field]} ({d.a} vs {d.b})" for d in model)
            + ". "
        )
    if silent:
        text += "Not stated on one side: " + ", ".join(FIELD_LABELS[d.field] for d in silent) + ". "
    shared = [d for d in c.deltas if d.other is not None]
    inside = [d for d in shared if d.inside]
    if shared:
        text += (
            f"On the {len(shared)} metrics both rows report, {len(inside)} other value(s) lie inside "
            f"my {percent}% bootstrap interval over prompts"
            + (f" ({', '.join(label_of(d.metric) for d in inside)})" if inside else "")
            + "; "
        )
        widest = max(shared, key=lambda d: abs(d.difference or 0.0))
        text += (
            f"the largest gap is {label_of(widest.metric)}: {_num(widest.measured)} vs "
            f"{_num(widest.other)} ({_signed(widest.difference)} points). "
        )
    verdict = {
        "same": "Same evaluation protocol, so the gaps are the models'.",
        "differs": "The protocols differ, so part of each gap may come from the protocol, not the model.",
        "unverified": "The other source does not state its whole protocol, so comparability cannot be confirmed.",
    }[c.match]
    return text + verdict + " (Generated by repvideo-eval `report --compare-to`.)"


def to_markdown(comparisons: Sequence[RowComparison]) -> str:
    lines = ["# Comparison", ""]
    for c in comparisons:
        percent = round(100 * c.confidence)
        lines += [f"## {c.measured} vs {c.target.row_id}", ""]
        lines += [f"> **{note}**" for note in c.notes] + ([""] if c.notes else [])
        lines += [
            f"Protocol: **{c.match}** (evaluation fields; model weights, sampler and steps are "
            "the model under test). Values in percent.",
            "",
            "### Protocol differences",
            "",
        ]
        if c.protocol_differences:
            lines += [
                "| Field | Kind | This row | Other | Stated by both |",
                "|---|---|---|---|---|",
            ]
            lines += [
                f"| {FIELD_LABELS[d.field]} | {d.kind} | {_cell(d.a)} | {_cell(d.b)} | "
                f"{'yes' if d.stated else 'no'} |"
                for d in c.protocol_differences
            ]
        else:
            lines += ["None: every protocol field is stated and equal."]
        lines += ["", "### Per dimension", ""]
        lines += [
            f"| Metric | This row [{percent}% CI] | Other | This − other (points) | Other inside CI |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {label_of(d.metric)} | {_num(d.measured)} [{_num(d.low)}, {_num(d.high)}] | "
            f"{_num(d.other)} | {_signed(d.difference)} | {_inside_text(d.inside)} |"
            for d in c.deltas
        ]
        lines += ["", "### For an issue", "", paragraph(c), ""]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _float(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def to_json(comparisons: Sequence[RowComparison]) -> str:
    document: dict[str, Any] = {
        "units": "percent",
        "comparisons": [
            {
                "measured": c.measured,
                "run_ids": c.run_ids,
                "n_videos": c.n_videos,
                "random_weights": c.random_weights,
                "target": {
                    "row_id": c.target.row_id,
                    "kind": c.target.kind,
                    "source": c.target.source,
                    "protocol": c.target.protocol.as_dict(),
                },
                "protocol_match": c.match,
                "protocol_differences": [
                    {
                        "field": d.field,
                        "kind": d.kind,
                        "measured": d.a,
                        "other": d.b,
                        "stated": d.stated,
                    }
                    for d in c.protocol_differences
                ],
                "confidence": c.confidence,
                "metrics": [
                    {
                        "metric": d.metric,
                        "measured": _float(d.measured),
                        "ci_low": _float(d.low),
                        "ci_high": _float(d.high),
                        "other": _float(d.other),
                        "difference": _float(d.difference),
                        "other_inside_ci": d.inside,
                    }
                    for d in c.deltas
                ],
                "paragraph": paragraph(c),
                "notes": c.notes,
            }
            for c in comparisons
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def file_stem(target: Target) -> str:
    """compare_<target> with the target's id made safe for a file name."""
    name = target.row_id.split(ROW_SEPARATOR)[-1] if target.kind == "measured" else target.row_id
    return "compare_" + re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")


def write_comparison(comparisons: Sequence[RowComparison], out_dir: Path) -> tuple[Path, Path, str]:
    """compare_<target>.md and .json in `out_dir`; returns both paths and the Markdown."""
    stem = file_stem(comparisons[0].target)
    markdown = to_markdown(comparisons)
    md_path = write_text_atomic(Path(out_dir) / f"{stem}.md", markdown)
    json_path = write_text_atomic(Path(out_dir) / f"{stem}.json", to_json(comparisons))
    return md_path, json_path, markdown
