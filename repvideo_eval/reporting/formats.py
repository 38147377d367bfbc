"""Render a Leaderboard as CSV, Markdown (also printed to the terminal) and JSON text.

All three carry the same content: measured rows with intervals and counts, reported rows marked
as such, paired differences, comparability settings, and the random-weights warning when any
record was scored with tiny random weights.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable
from typing import Any

from repvideo_eval.reporting.leaderboard import Cell, Leaderboard, Row
from repvideo_eval.reporting.protocol import FIELD_LABELS, PROTOCOL_FIELDS, protocol_match
from repvideo_eval.reporting.records import RANDOM_WEIGHTS_NOTICE
from repvideo_eval.reporting.reference import ReferenceRow
from repvideo_eval.reporting.summary import SUMMARY_LABELS, SUMMARY_NAMES

SETTING_COLUMNS = (
    "family",
    "weights",
    "dtype",
    "sampler",
    "frames",
    "resolution",
    "fps",
    "repvideo",
    "vbench_mode",
    "prompt_set",
    "backend",
    "weights_id",
    "versions",
    "device",
)
RANDOM_ROW_WARNING = "random weights: tests the code path, not the model"
MISSING = "–"


def label_of(name: str) -> str:
    """Display name of a dimension or summary score."""
    return SUMMARY_LABELS.get(name) or name.replace("_", " ").title()


def number(value: float | None, digits: int = 2) -> str:
    """Fixed-point text, or the missing mark for None/NaN."""
    if value is None or not math.isfinite(value):
        return MISSING
    return f"{value:.{digits}f}"


def cell_text(cell: Cell | None) -> str:
    """'96.78 [96.10, 97.30]' (percent with its interval)."""
    if cell is None or not math.isfinite(cell.value):
        return MISSING
    if not (math.isfinite(cell.low) and math.isfinite(cell.high)):
        return number(cell.value)
    return f"{number(cell.value)} [{number(cell.low)}, {number(cell.high)}]"


def summary_columns(board: Leaderboard) -> list[str]:
    """Summary scores shown: those any measured or reported row has."""
    present = {name for row in board.rows for name in row.summary}
    present |= {name for ref in board.reference for name in ref.values if name in SUMMARY_NAMES}
    return [
        name for name in ("total_score", "quality_score", "semantic_score") if name in present
    ]  # VBench order


def reference_label(ref: ReferenceRow) -> str:
    """Row label that says plainly the numbers are reported, with the table they come from."""
    where = "RepVideo paper Table I" if ref.table == "repvideo_table1" else "published VBench"
    return f"{ref.method} (reported, {where})"


def shared_protocol_text(board: Leaderboard, ref: ReferenceRow) -> str:
    """Which measured rows a published row shares its protocol with, in words."""
    matches = {row.label: protocol_match(row.protocol, ref.protocol) for row in board.rows}
    same = [label for label, match in matches.items() if match == "same"]
    if same:
        return "same protocol as " + ", ".join(same)
    if any(match == "unverified" for match in matches.values()):
        return "protocol unverified (source silent)"
    return "other protocol"


def _md_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def md_table(header: list[str], body: Iterable[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(_md_escape(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_md_escape(c) for c in line) + " |" for line in body]
    return lines


def to_markdown(board: Leaderboard, title: str = "Leaderboard") -> str:
    """The whole report as Markdown; also what the CLI prints."""
    method = board.method
    lines = [f"# {title}", ""]
    if board.random_weights:
        lines += [f"> **{RANDOM_WEIGHTS_NOTICE}**", ""]
    lines += [
        f"Runs: {', '.join(board.run_ids)}. Scores in percent (VBench raw dimension scores). "
        f"Brackets: {round(100 * method['confidence'])}% bootstrap interval over prompts "
        f"({method['n_resamples']} resamples, seed {method['seed']}). "
        "Rows marked *reported* are published numbers, not measured here.",
        "",
    ]
    summaries = summary_columns(board)
    header = [
        "Row",
        "Kind",
        "Videos",
        *(label_of(s) for s in summaries),
        *(label_of(d) for d in board.dimensions),
    ]
    body = []
    for row in board.rows:
        kind = "measured (random weights)" if row.random_weights else "measured"
        body.append(
            [
                row.label,
                kind,
                str(row.n_videos),
                *(cell_text(row.summary.get(s)) for s in summaries),
                *(cell_text(row.cells.get(d)) for d in board.dimensions),
            ]
        )
    for ref in board.reference:
        body.append(
            [
                reference_label(ref),
                f"reported; {shared_protocol_text(board, ref)}",
                MISSING,
                *(number(ref.values.get(s)) for s in summaries),
                *(number(ref.values.get(d)) for d in board.dimensions),
            ]
        )
    lines += md_table(header, body) + [""]
    lines += ["## Video counts", ""]
    lines += md_table(
        ["Row", "Dimension", "Videos", "Prompts", "Errors"],
        (
            [row.label, label_of(d), str(c.n_videos), str(c.n_prompts), str(c.n_errors)]
            for row in board.rows
            for d, c in row.cells.items()
        ),
    ) + [""]
    if board.comparisons:
        lines += ["## Paired differences (same prompts and seeds)", ""]
        lines += md_table(
            ["A", "B", "Metric", "A − B (points)", "CI", "p", "Prompts"],
            (
                [
                    c.a,
                    c.b,
                    label_of(c.metric),
                    number(c.difference),
                    f"[{number(c.low)}, {number(c.high)}]",
                    p_text(c.p_value, c.exact),
                    str(c.n_prompts),
                ]
                for c in board.comparisons
            ),
        ) + [""]
    lines += ["## Settings", ""]
    lines += md_table(
        ["Row", "Card hash", *SETTING_COLUMNS, "Runs"],
        (
            [
                row.label,
                row.card_hash,
                *(row.settings.get(k, "") for k in SETTING_COLUMNS),
                ", ".join(row.run_ids),
            ]
            for row in board.rows
        ),
    ) + [""]
    lines += protocol_section(board)
    if board.reference:
        lines += ["## Sources of reported rows", ""]
        lines += [
            f"- {reference_label(ref)} (`{ref.row_id}`): {ref.source}" for ref in board.reference
        ]
        lines += [""]
    if board.notes:
        lines += ["## Notes", ""] + [f"- {note}" for note in board.notes] + [""]
    lines += ["## Method", ""] + [f"- {key}: {value}" for key, value in method.items()] + [""]
    return "\n".join(lines)


def protocol_section(board: Leaderboard) -> list[str]:
    """The protocol of every row, and which published rows share the measured rows' protocol."""
    lines = [
        "## Protocols",
        "",
        "What each row was generated and scored with. A reported row shares a measured row's "
        "protocol when no evaluation field (all but model weights, sampler and steps) differs and "
        "both state all of them except seed scheme and vbench version; `unknown`: the source is "
        "silent (sources: results/reference/published_protocols.csv).",
        "",
    ]
    body = [
        [row.label, "measured", *(row.protocol.as_dict()[f] for f in PROTOCOL_FIELDS)]
        for row in board.rows
    ]
    body += [
        [
            reference_label(ref),
            f"reported; {shared_protocol_text(board, ref)}",
            *(ref.protocol.as_dict()[f] for f in PROTOCOL_FIELDS),
        ]
        for ref in board.reference
    ]
    header = ["Row", "Kind", *(FIELD_LABELS[f] for f in PROTOCOL_FIELDS)]
    return lines + md_table(header, body) + [""]


def p_text(p_value: float, exact: bool) -> str:
    if not math.isfinite(p_value):
        return MISSING
    return f"{p_value:.3g}" + (" (exact)" if exact else "")


def _cell_columns(prefix: str, cell: Cell | None, counts: bool) -> dict[str, Any]:
    values: dict[str, Any] = {
        prefix: _num(cell.value if cell else None),
        f"{prefix}_ci_low": _num(cell.low if cell else None),
        f"{prefix}_ci_high": _num(cell.high if cell else None),
    }
    if counts:
        values[f"{prefix}_n_videos"] = cell.n_videos if cell else ""
        values[f"{prefix}_n_errors"] = cell.n_errors if cell else ""
    return values


def _num(value: float | None) -> Any:
    return "" if value is None or not math.isfinite(value) else round(value, 6)


def csv_rows(board: Leaderboard) -> tuple[list[str], list[dict[str, Any]]]:
    """Header and rows of leaderboard.csv: measured rows, then reported rows (kind column)."""
    summaries = summary_columns(board)
    out: list[dict[str, Any]] = []
    for row in board.rows:
        record: dict[str, Any] = {
            "kind": "measured",
            "row": row.label,
            "model": row.model,
            "card_hash": row.card_hash,
            "random_weights": row.random_weights,
            "warning": RANDOM_ROW_WARNING if row.random_weights else "",
            "n_videos": row.n_videos,
            "n_prompts": row.n_prompts,
            "n_errors": row.n_errors,
        }
        for name in summaries:
            record.update(_cell_columns(name, row.summary.get(name), counts=False))
        for dim in board.dimensions:
            record.update(_cell_columns(dim, row.cells.get(dim), counts=True))
        record.update({k: row.settings.get(k, "") for k in SETTING_COLUMNS})
        record.update({f"protocol_{k}": v for k, v in row.protocol.as_dict().items()})
        record["run_ids"] = " ".join(row.run_ids)
        out.append(record)
    for ref in board.reference:
        record = {
            "kind": "reported",
            "row": reference_label(ref),
            "model": ref.method,
            "source": ref.source,
            "vbench_mode": ref.vbench_mode,
            "random_weights": False,
            "row_id": ref.row_id,
            "shares_protocol": shared_protocol_text(board, ref),
        }
        for name in [*summaries, *board.dimensions]:
            record[name] = _num(ref.values.get(name))
        record.update({f"protocol_{k}": v for k, v in ref.protocol.as_dict().items()})
        out.append(record)
    header: list[str] = []
    for record in out:
        header += [k for k in record if k not in header]
    return header, out


def to_csv(board: Leaderboard) -> str:
    """leaderboard.csv text."""
    header, rows = csv_rows(board)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _cell_json(cell: Cell) -> dict[str, Any]:
    return {
        "value": _json_num(cell.value),
        "ci_low": _json_num(cell.low),
        "ci_high": _json_num(cell.high),
        "n_videos": cell.n_videos,
        "n_prompts": cell.n_prompts,
        "n_errors": cell.n_errors,
    }


def _json_num(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _row_json(row: Row) -> dict[str, Any]:
    return {
        "kind": "measured",
        "row": row.label,
        "model": row.model,
        "card_hash": row.card_hash,
        "random_weights": row.random_weights,
        "warning": RANDOM_ROW_WARNING if row.random_weights else None,
        "n_videos": row.n_videos,
        "n_prompts": row.n_prompts,
        "n_errors": row.n_errors,
        "scores": {d: _cell_json(c) for d, c in row.cells.items()},
        "summary": {s: _cell_json(c) for s, c in row.summary.items()},
        "settings": row.settings,
        "versions": row.versions,
        "run_ids": row.run_ids,
        "card": row.card,
        "protocol": row.protocol.as_dict(),
    }


def to_json(board: Leaderboard) -> str:
    """leaderboard.json text (values in percent, null where undefined)."""
    document = {
        "warnings": [RANDOM_WEIGHTS_NOTICE] if board.random_weights else [],
        "units": "percent",
        "run_ids": board.run_ids,
        "dimensions": board.dimensions,
        "rows": [_row_json(row) for row in board.rows],
        "reported": [
            {
                "kind": "reported",
                "row": reference_label(ref),
                "method": ref.method,
                "table": ref.table,
                "row_id": ref.row_id,
                "source": ref.source,
                "vbench_mode": ref.vbench_mode,
                "values": ref.values,
                "protocol": ref.protocol.as_dict(),
                "protocol_sources": ref.protocol_sources,
                "shares_protocol": shared_protocol_text(board, ref),
            }
            for ref in board.reference
        ],
        "comparisons": [
            {
                "a": c.a,
                "b": c.b,
                "metric": c.metric,
                "difference": _json_num(c.difference),
                "ci_low": _json_num(c.low),
                "ci_high": _json_num(c.high),
                "p_value": _json_num(c.p_value),
                "exact": c.exact,
                "n_prompts": c.n_prompts,
            }
            for c in board.comparisons
        ],
        "notes": board.notes,
        "method": board.method,
    }
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
