"""Published (reported) VBench rows: the RepVideo paper's Table I and the CogVideoX leaderboard rows.

They are data files in `results/reference/` (percent, as printed, each row with its source), and
`published_protocols.csv` says per row and protocol field what the source states (or `unknown`),
each value with its source. Reports show them beside measured rows, always marked as reported;
they never enter a statistic computed from measured records.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

from repvideo_eval.errors import UserError
from repvideo_eval.reporting.protocol import PROTOCOL_FIELDS, Protocol

#: results/reference/ of the source tree (the package is used from a checkout).
DEFAULT_REFERENCE_DIR = Path(__file__).resolve().parents[2] / "results" / "reference"
REFERENCE_FILES: tuple[str, ...] = ("repvideo_table1.csv", "vbench_published_cogvideox.csv")
PROTOCOLS_FILE = "published_protocols.csv"
#: Row id prefix of each reference table (row id = "<prefix>:<method>").
TABLE_IDS: dict[str, str] = {
    "repvideo_table1": "repvideo-table1",
    "vbench_published_cogvideox": "vbench-leaderboard",
}
TEXT_COLUMNS = ("method", "source")
RESTORE = "Restore results/reference/ from the repository."


@dataclass(frozen=True)
class ReferenceRow:
    """One published row: values in percent keyed by dimension or summary name."""

    method: str
    values: dict[str, float]
    source: str
    table: str
    protocol: Protocol = field(default_factory=Protocol)
    #: Per protocol field, the source of its value (what says it, or that the source is silent).
    protocol_sources: dict[str, str] = field(default_factory=dict)

    @property
    def row_id(self) -> str:
        """Stable id used by `report --compare-to`, e.g. vbench-leaderboard:CogVideoX-2B."""
        return f"{TABLE_IDS.get(self.table, self.table)}:{self.method}"

    @property
    def vbench_mode(self) -> str:
        return self.protocol.vbench_mode


def load_reference_table(path: Path) -> list[ReferenceRow]:
    """Read one reference CSV (columns: method, value columns..., source), values in percent."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
    except OSError as exc:
        raise UserError(
            f"cannot read reference table {path} ({exc})",
            RESTORE,
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
                    RESTORE,
                ) from None
            if not math.isfinite(value):
                raise UserError(
                    f"{path} line {line}: {column} is not finite",
                    RESTORE,
                )
            values[column] = value
        out.append(
            ReferenceRow(
                method=row["method"],
                values=values,
                source=row.get("source", ""),
                table=path.stem,
            )
        )
    check_percent(path, out)
    return out


def check_percent(path: Path, rows: list[ReferenceRow]) -> None:
    """Published VBench numbers are percentages (leaderboard cells are 100 x the raw score); a row
    whose every value is within [-1, 1] was written as fractions and would compare 100x off."""
    for row in rows:
        if row.values and all(abs(v) <= 1 for v in row.values.values()):
            raise UserError(
                f"{path}: row {row.method} holds fractions, not percentages",
                "Write published values in percent, as VBench prints them; " + RESTORE,
            )


def load_protocols(path: Path) -> dict[str, dict[str, tuple[str, str]]]:
    """row id -> field -> (value, source) from published_protocols.csv, every field present."""
    try:
        with Path(path).open(newline="", encoding="utf-8") as handle:
            lines = list(csv.DictReader(handle))
    except OSError as exc:
        raise UserError(f"cannot read {path} ({exc})", RESTORE) from None
    out: dict[str, dict[str, tuple[str, str]]] = {}
    for number, line in enumerate(lines, start=2):
        row_id, name = line.get("row_id") or "", line.get("field") or ""
        value, source = (line.get("value") or "").strip(), (line.get("source") or "").strip()
        if name not in PROTOCOL_FIELDS or not row_id or not value or not source:
            raise UserError(
                f"{path} line {number}: needs a row_id, a protocol field "
                f"({', '.join(PROTOCOL_FIELDS)}), a value (or unknown) and a source",
                RESTORE,
            )
        out.setdefault(row_id, {})[name] = (value, source)
    return out


def attach_protocols(rows: list[ReferenceRow], path: Path) -> list[ReferenceRow]:
    """Each row with its published protocol; a row missing from the file or lacking a field is an error."""
    protocols = load_protocols(path)
    out = []
    for row in rows:
        entry = protocols.get(row.row_id, {})
        missing = [name for name in PROTOCOL_FIELDS if name not in entry]
        if missing:
            raise UserError(
                f"{path} lacks {', '.join(missing)} for {row.row_id}",
                "Every published row states every protocol field (value or unknown) with a source; "
                + RESTORE,
            )
        protocol = Protocol(**{name: entry[name][0] for name in PROTOCOL_FIELDS})
        sources = {name: entry[name][1] for name in PROTOCOL_FIELDS}
        out.append(replace(row, protocol=protocol, protocol_sources=sources))
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
    if rows:
        rows = attach_protocols(rows, folder / PROTOCOLS_FILE)
    return rows


def find_reference_row(row_id: str, rows: list[ReferenceRow]) -> ReferenceRow:
    """The published row with this id (case-insensitive), or a one-line error listing the ids."""
    for row in rows:
        if row.row_id.lower() == row_id.strip().lower():
            return row
    raise UserError(
        f"no published row {row_id!r}",
        "Pass a run folder or one of: " + ", ".join(row.row_id for row in rows) + ".",
    )
