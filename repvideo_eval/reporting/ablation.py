"""The ablation report over RepVideo's two knobs: cache window (cache size) and gates.

`write_ablation_report` reads the runs of an `ablate` command (cards that differ only in their
`repvideo` settings) and writes a table with bootstrap intervals and paired differences from a
baseline, plus curves over cache size. The grid those runs came from is input, parsed by
`repvideo_eval.ablation_grid`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from repvideo_eval.atomic import write_text_atomic
from repvideo_eval.errors import UserError
from repvideo_eval.reporting import formats
from repvideo_eval.reporting.leaderboard import (
    DEFAULT_CONFIDENCE,
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    Cell,
    Comparison,
    Leaderboard,
    Row,
    build_leaderboard,
)
from repvideo_eval.reporting.records import RANDOM_WEIGHTS_NOTICE, RecordSet, load_records
from repvideo_eval.reporting.report import prepare_out_dir
from repvideo_eval.reporting.summary import SUMMARY_NAMES

#: Card fields allowed to differ between ablation variants.
VARIANT_FIELDS = ("name", "repvideo")


# ----------------------------------------------------------------------------- report


@dataclass
class AblationPaths:
    """Files written by `write_ablation_report`, and the Markdown text to print."""

    csv: Path
    markdown: Path
    json: Path
    markdown_text: str
    plots: list[Path] = field(default_factory=list)


@dataclass(frozen=True)
class Variant:
    """The RepVideo settings of one row (NaN window / None value where they do not apply)."""

    cache_window: float
    gates: str
    gate_value: float | None
    #: seeded gates: their seed (two seeds are two series, not one)
    gate_seed: int | None = None

    @property
    def gates_label(self) -> str:
        """The gates column of the tables: the mode, with the seed for seeded gates (the gate
        value has a column of its own)."""
        return self.series if self.gates == "seeded" else self.gates

    @property
    def series(self) -> str:
        if self.gates == "fixed":
            return f"fixed g={self.gate_value:g}"
        if self.gates == "seeded":
            return f"seeded (seed {self.gate_seed})"
        return self.gates


def variant_of(card: dict[str, Any]) -> Variant:
    """Read the repvideo block of a card; a card without one is the unmodified model."""
    repvideo = card.get("repvideo")
    if not repvideo:
        return Variant(math.nan, "none (no RepVideo)", None)
    gates = str(repvideo.get("gates", "learned"))
    window = repvideo.get("cache_window")
    value = repvideo.get("gate_value")
    seed = repvideo.get("gate_seed")
    return Variant(
        float(window) if window is not None and gates != "off" else math.nan,
        gates,
        float(value) if value is not None and gates == "fixed" else None,
        int(seed) if seed is not None and gates == "seeded" else None,
    )


def _baseline_row(records: RecordSet, baseline_model: str) -> str:
    labels = [label for label, (model, _h) in records.row_model.items() if model == baseline_model]
    if not labels:
        available = ", ".join(sorted({m for m, _h in records.row_model.values()}))
        raise UserError(
            f"baseline model {baseline_model!r} is not in the given runs",
            f"Pick one of: {available}.",
        )
    if len(labels) > 1:
        raise UserError(
            f"baseline model {baseline_model!r} appears with {len(labels)} different cards ({', '.join(labels)})",
            "Pass only the runs of one baseline card.",
        )
    return labels[0]


def check_only_repvideo_differs(records: RecordSet, baseline: str) -> None:
    """Raise UserError when a card differs from the baseline's in anything but name and repvideo."""
    reference = {k: v for k, v in records.cards[baseline].items() if k not in VARIANT_FIELDS}
    for label in records.rows:
        card = {k: v for k, v in records.cards[label].items() if k not in VARIANT_FIELDS}
        differing = sorted(k for k in set(card) | set(reference) if card.get(k) != reference.get(k))
        if differing:
            raise UserError(
                f"card {label!r} differs from the baseline {baseline!r} in {', '.join(differing)}, not only in repvideo settings",
                "An ablation compares cards that differ only in cache_window / gates / gate_value; report other runs with `report`.",
            )


def _order(row: Row) -> tuple:
    variant = variant_of(row.card)
    rank = {"none (no RepVideo)": 0, "learned": 1, "fixed": 2, "seeded": 3, "off": 4}
    return (
        rank.get(variant.gates, 5),
        variant.gate_value or 0.0,
        variant.gate_seed or 0,
        math.inf if math.isnan(variant.cache_window) else variant.cache_window,
    )


def _metrics(board: Leaderboard) -> list[str]:
    summaries = [
        s
        for s in ("total_score", "quality_score", "semantic_score")
        if all(s in r.summary for r in board.rows)
    ]
    return summaries + board.dimensions


def _cell(row: Row, metric: str) -> Cell | None:
    return row.summary.get(metric) if metric in SUMMARY_NAMES else row.cells.get(metric)


def _difference(
    comparisons: dict[tuple[str, str], Comparison], label: str, metric: str
) -> Comparison | None:
    return comparisons.get((label, metric))


def write_ablation_report(
    run_dirs: Sequence[Path],
    out_dir: Path,
    baseline_model: str,
    *,
    plots: bool = True,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    confidence: float = DEFAULT_CONFIDENCE,
) -> AblationPaths:
    """Write ablation.csv/.md/.json and ablation_curves.png/.svg into `out_dir`.

    Differences are variant minus baseline, paired when both were run on the same prompts and
    seeds (otherwise left empty, with a note).
    """
    records = load_records([Path(p) for p in run_dirs])
    baseline = _baseline_row(records, baseline_model)
    check_only_repvideo_differs(records, baseline)
    out_dir = prepare_out_dir(out_dir)
    pairs = [(label, baseline) for label in records.rows if label != baseline]
    board = build_leaderboard(
        records, [], n_resamples=n_resamples, confidence=confidence, seed=seed, pairs=pairs
    )
    rows = sorted(board.rows, key=_order)
    comparisons = {(c.a, c.metric): c for c in board.comparisons}
    unpaired = [label for label, _b in pairs if not any(c.a == label for c in board.comparisons)]
    notes = list(board.notes)
    if unpaired:
        notes.append(
            f"No paired difference for {', '.join(unpaired)}: not run on the same prompts and seeds as the baseline."
        )
    metrics = _metrics(board)
    table = _table(rows, baseline, metrics, comparisons)
    markdown_text = _markdown(board, rows, baseline, metrics, comparisons, notes)
    paths = AblationPaths(
        csv=write_text_atomic(out_dir / "ablation.csv", _csv(table)),
        markdown=write_text_atomic(out_dir / "ablation.md", markdown_text),
        json=write_text_atomic(out_dir / "ablation.json", _json(board, table, baseline, notes)),
        markdown_text=markdown_text,
    )
    if plots:
        from repvideo_eval.reporting.plots import plot_curves

        series: dict[str, dict[str, list[tuple[float, float, float, float]]]] = {}
        for metric in metrics:
            for row in rows:
                cell = _cell(row, metric)
                if cell is None:
                    continue
                variant = variant_of(row.card)
                point = (variant.cache_window, cell.value, cell.low, cell.high)
                series.setdefault(metric, {}).setdefault(variant.series, []).append(point)
                if row.label == baseline:
                    series[metric][f"{row.label} (baseline)"] = [point]
        paths.plots = plot_curves(
            series,
            out_dir / "ablation_curves",
            xlabel="cache window (layers per cache)",
            title=f"Ablation over cache size (baseline: {baseline})",
            random_weights=board.random_weights,
        )
    return paths


def _table(
    rows: Sequence[Row], baseline: str, metrics: Sequence[str], comparisons: dict
) -> list[dict[str, Any]]:
    """One dict per variant: settings, then per metric value/CI and difference from the baseline."""
    table = []
    for row in rows:
        variant = variant_of(row.card)
        record: dict[str, Any] = {
            "row": row.label,
            "baseline": row.label == baseline,
            "cache_window": "" if math.isnan(variant.cache_window) else int(variant.cache_window),
            "gates": variant.gates_label,
            "gate_value": "" if variant.gate_value is None else variant.gate_value,
            "n_videos": row.n_videos,
            "random_weights": row.random_weights,
        }
        for metric in metrics:
            cell = _cell(row, metric)
            diff = _difference(comparisons, row.label, metric)
            record[metric] = _num(cell.value if cell else None)
            record[f"{metric}_ci_low"] = _num(cell.low if cell else None)
            record[f"{metric}_ci_high"] = _num(cell.high if cell else None)
            record[f"{metric}_diff"] = _num(diff.difference if diff else None)
            record[f"{metric}_diff_ci_low"] = _num(diff.low if diff else None)
            record[f"{metric}_diff_ci_high"] = _num(diff.high if diff else None)
            record[f"{metric}_p_value"] = _num(diff.p_value if diff else None)
        table.append(record)
    return table


def _num(value: float | None) -> Any:
    return "" if value is None or not math.isfinite(value) else round(float(value), 6)


def _csv(table: list[dict[str, Any]]) -> str:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(table[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(table)
    return buffer.getvalue()


def _json(board: Leaderboard, table: list[dict[str, Any]], baseline: str, notes: list[str]) -> str:
    import json

    clean = [{k: (None if v == "" else v) for k, v in record.items()} for record in table]
    document = {
        "warnings": [RANDOM_WEIGHTS_NOTICE] if board.random_weights else [],
        "units": "percent",
        "baseline": baseline,
        "run_ids": board.run_ids,
        "variants": clean,
        "notes": notes,
        "method": board.method,
    }
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _markdown(
    board: Leaderboard,
    rows: Sequence[Row],
    baseline: str,
    metrics: Sequence[str],
    comparisons: dict,
    notes: list[str],
) -> str:
    lines = ["# RepVideo ablation", ""]
    if board.random_weights:
        lines += [f"> **{RANDOM_WEIGHTS_NOTICE}**", ""]
    lines += [
        f"Baseline: {baseline}. Scores in percent with {round(100 * board.method['confidence'])}% bootstrap intervals over prompts; "
        "Δ = variant − baseline in points, paired over the same prompts and seeds, with its interval and a sign-flip p-value "
        f"({board.method['n_resamples']} resamples, seed {board.method['seed']}).",
        "",
    ]
    header = ["Row", "Cache window", "Gates", "Gate value", "Videos"]
    for metric in metrics:
        header += [formats.label_of(metric), f"Δ {formats.label_of(metric)}", "p"]
    body = []
    for row in rows:
        variant = variant_of(row.card)
        line = [
            row.label + (" (baseline)" if row.label == baseline else ""),
            formats.MISSING if math.isnan(variant.cache_window) else str(int(variant.cache_window)),
            variant.gates_label,
            formats.MISSING if variant.gate_value is None else f"{variant.gate_value:g}",
            str(row.n_videos),
        ]
        for metric in metrics:
            diff = _difference(comparisons, row.label, metric)
            line.append(formats.cell_text(_cell(row, metric)))
            if diff is None:
                line += [formats.MISSING, formats.MISSING]
            else:
                line += [
                    f"{formats.number(diff.difference)} [{formats.number(diff.low)}, {formats.number(diff.high)}]",
                    formats.p_text(diff.p_value, diff.exact),
                ]
        body.append(line)
    lines += formats.md_table(header, body) + [""]
    if notes:
        lines += ["## Notes", ""] + [f"- {note}" for note in notes] + [""]
    return "\n".join(lines)
