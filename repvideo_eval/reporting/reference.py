"""Published (reported) VBench rows: the RepVideo paper's Table I and the CogVideoX leaderboard rows.

They are data files in `results/reference/` (percent, as printed, each row with its source).
Reports show them beside measured rows, always marked as reported; they never enter a
statistic computed from measured records.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

from repvideo_eval.errors import UserError

#: results/reference/ of the source tree (the package is used from a checkout).
DEFAULT_REFERENCE_DIR = Path(__file__).resolve().parents[2] / "results" / "reference"
REFERENCE_FILES: tuple[str, ...] = ("repvideo_table1.csv", "vbench_published_cogvideox.csv")
TEXT_COLUMNS = ("method", "source", "vbench_mode")


@dataclass(frozen=True)
class ReferenceRow:
    """One published row: values in percent keyed by dimension or summary name."""

    method: str
    values: dict[str, float]
    source: str
    table: str
    vbench_mode: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def load_reference_table(path: Path) -> list[ReferenceRow]:
    """Read one reference CSV (columns: method, value columns..., source[, vbench_mode])."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
    except OSError as exc:
        raise UserError(
            f"cannot read reference table {path} ({exc})",
            "Restore results/reference/ from the repository.",
        ) from None
    out: list[ReferenceRow] = []
    for line, row in enumerate(rows, start=2):
        values: dict[str, float] = {}
        for column, text in row.items():
            if column in TEXT_COLUMNS or text in ("", None):
                continue
            try:
                value = float(text)
            except ValueError:
                raise UserError(
                    f"{path} line {line}: {column}={text!r} is not a number",
                    "Restore results/reference/ from the repository.",
                ) from None
            if not math.isfinite(value):
                raise UserError(
                    f"{path} line {line}: {column} is not finite",
                    "Restore results/reference/ from the repository.",
                )
            values[column] = value
        out.append(
            ReferenceRow(
                method=row["method"],
                values=values,
                source=row.get("source", ""),
                table=path.stem,
                vbench_mode=row.get("vbench_mode", "") or "",
            )
        )
    return out


def load_reference_rows(reference_dir: Path | None = None) -> list[ReferenceRow]:
    """All reference rows, Table I first; an empty list if the folder is absent (installed package)."""
    folder = Path(reference_dir) if reference_dir is not None else DEFAULT_REFERENCE_DIR
    if not folder.is_dir():
        return []
    rows: list[ReferenceRow] = []
    for name in REFERENCE_FILES:
        if (folder / name).is_file():
            rows.extend(load_reference_table(folder / name))
    return rows
