"""Load the per-video records and run metadata of one or more run folders into one table.

The long-form `per_video.csv` of every run is the single source of every report: nothing here
touches a model or a video. Runs of different models (or of the same model on different
dimensions) are merged; a leaderboard row is one (model card name, card hash) pair.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from repvideo_eval.errors import UserError

RECORDS_FILE = "per_video.csv"
RUN_FILE = "run.json"
REQUIRED_COLUMNS: tuple[str, ...] = (
    "model", "card_hash", "prompt", "prompt_index", "sample", "seed", "video", "dimension",
    "score", "weight", "error", "backend", "weights_id", "vbench_mode",
)
INT_COLUMNS = ("prompt_index", "sample", "seed")
RANDOM_WEIGHTS_PREFIX = "tiny-random"
RANDOM_WEIGHTS_NOTICE = (
    "RANDOM WEIGHTS: some rows were scored with random (tiny-random) weights; "
    "their numbers test the code path, not the models."
)
#: Identity of one generated video inside a row: same prompt, sample index and seed.
VIDEO_KEY = ("prompt_index", "prompt", "sample", "seed")


@dataclass(frozen=True)
class RunInfo:
    """One run folder and its parsed run.json."""

    run_dir: Path
    meta: dict[str, Any]

    @property
    def run_id(self) -> str:
        return str(self.meta.get("run_id", self.run_dir.name))


@dataclass
class RecordSet:
    """All records of the given runs, plus each row's model card, versions and run ids.

    `table` holds the CSV columns (typed) plus `run_dir` (absolute path of the run folder) and
    `row` (the leaderboard row label). `rows` lists the row labels in first-seen order.
    """

    table: pd.DataFrame
    runs: list[RunInfo]
    rows: list[str]
    row_model: dict[str, tuple[str, str]]
    cards: dict[str, dict[str, Any]]
    versions: dict[str, dict[str, str]]
    devices: dict[str, list[str]]
    run_ids: dict[str, list[str]]
    notes: list[str] = field(default_factory=list)

    def rows_table(self, row: str) -> pd.DataFrame:
        """Records of one leaderboard row."""
        return self.table[self.table["row"] == row]

    def random_weights(self, row: str | None = None) -> bool:
        """True when any record (of `row`, or of all rows) used random tiny weights."""
        frame = self.table if row is None else self.rows_table(row)
        return bool(frame["weights_id"].astype(str).str.startswith(RANDOM_WEIGHTS_PREFIX).any())


def load_run_info(run_dir: Path) -> RunInfo:
    """Read and check `run_dir/run.json`."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise UserError(f"run folder {run_dir} does not exist", "Pass the folder a run command wrote (it holds per_video.csv and run.json).")
    path = run_dir / RUN_FILE
    if not path.is_file():
        raise UserError(f"{path} is missing", "Pass a complete run folder; rerun the run command if it was interrupted.")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path} is not valid JSON ({exc})", "Rerun the run command to rewrite it.") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("models"), dict):
        raise UserError(f"{path} has no 'models' mapping", "Rerun the run command to rewrite run.json.")
    return RunInfo(run_dir=run_dir.resolve(), meta=meta)


def read_records(run_dir: Path) -> pd.DataFrame:
    """Read `run_dir/per_video.csv` with typed columns; raise UserError on a malformed file."""
    path = Path(run_dir) / RECORDS_FILE
    if not path.is_file():
        raise UserError(f"{path} is missing", "Score the run first (the run command writes per_video.csv).")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise UserError(f"{path} cannot be parsed as CSV ({exc})", "Rerun scoring to rewrite it.") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in raw.columns]
    if missing:
        raise UserError(f"{path} lacks columns {', '.join(missing)}", "Rerun scoring with this version of repvideo-eval.")
    table = pd.DataFrame({c: raw[c].astype(str) for c in REQUIRED_COLUMNS})
    for column in INT_COLUMNS:
        values = pd.to_numeric(table[column], errors="coerce")
        if values.isna().any() or not np.all(np.mod(values, 1) == 0):
            bad = int(np.flatnonzero(values.isna() | (np.mod(values.fillna(0), 1) != 0))[0])
            raise UserError(f"{path} line {bad + 2}: {column} must be an integer, got {table[column].iloc[bad]!r}", "Fix or regenerate the file.")
        table[column] = values.astype(np.int64)
    score = pd.to_numeric(table["score"].replace("", np.nan), errors="coerce")
    unparsable = score.isna() & (table["score"] != "")
    if unparsable.any():
        bad = int(np.flatnonzero(unparsable)[0])
        raise UserError(f"{path} line {bad + 2}: score {table['score'].iloc[bad]!r} is not a number", "Fix or regenerate the file.")
    out_of_range = score.notna() & ((score < 0) | (score > 1))
    if out_of_range.any():
        bad = int(np.flatnonzero(out_of_range)[0])
        raise UserError(f"{path} line {bad + 2}: score {score.iloc[bad]} is outside 0..1", "Scores are fractions; fix or regenerate the file.")
    table["score"] = score.astype(float)
    weight = pd.to_numeric(table["weight"].replace("", np.nan), errors="coerce")
    bad_weight = weight.isna() | ~(weight > 0) | ~np.isfinite(weight.fillna(0))
    if bad_weight.any():
        bad = int(np.flatnonzero(bad_weight)[0])
        raise UserError(f"{path} line {bad + 2}: weight {table['weight'].iloc[bad]!r} must be a positive number", "Fix or regenerate the file.")
    table["weight"] = weight.astype(float)
    # A row without a score but without an error message is still an error for aggregation.
    no_score = table["score"].isna() & (table["error"] == "")
    table.loc[no_score, "error"] = "no score recorded"
    return table


def load_records(run_dirs: Sequence[Path]) -> RecordSet:
    """Load and merge the records of `run_dirs` (at least one)."""
    if not run_dirs:
        raise UserError("no run folder given", "Pass one or more run folders.")
    runs: list[RunInfo] = []
    frames: list[pd.DataFrame] = []
    seen: set[Path] = set()
    for run_dir in run_dirs:
        info = load_run_info(Path(run_dir))
        if info.run_dir in seen:
            continue
        seen.add(info.run_dir)
        frame = read_records(info.run_dir)
        unknown = sorted(set(frame["model"]) - set(info.meta["models"]))
        if unknown:
            raise UserError(f"{info.run_dir / RECORDS_FILE} has models {', '.join(unknown)} that run.json does not describe", "Rerun the run command to rewrite run.json.")
        frame["run_dir"] = str(info.run_dir)
        frame["run_created"] = str(info.meta.get("created", ""))
        runs.append(info)
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    notes: list[str] = []
    table = _drop_duplicates(table, notes)
    if table.empty:
        raise UserError("the given runs hold no per-video records", "Score the runs first.")
    pairs = list(dict.fromkeys(zip(table["model"], table["card_hash"])))
    models_with_many = {m for m, _ in pairs if sum(1 for n, _h in pairs if n == m) > 1}
    labels = {p: (f"{p[0]} [{p[1][:6]}]" if p[0] in models_with_many else p[0]) for p in pairs}
    table["row"] = [labels[p] for p in zip(table["model"], table["card_hash"])]
    record_set = RecordSet(table=table, runs=runs, rows=[labels[p] for p in pairs],
                           row_model={labels[p]: p for p in pairs}, cards={}, versions={},
                           devices={}, run_ids={}, notes=notes)
    _attach_run_metadata(record_set)
    return record_set


def _drop_duplicates(table: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """Keep one record per (model, card hash, video, dimension): the newest run's.

    The same video can be scored in two runs passed together (a rerun, an overlapping merge);
    counting it twice would shrink the confidence intervals for nothing.
    """
    key = ["model", "card_hash", *VIDEO_KEY, "dimension"]
    duplicated = table.duplicated(key, keep=False)
    if not duplicated.any():
        return table
    ordered = table.sort_values("run_created", kind="stable")
    kept = ordered.drop_duplicates(key, keep="last").sort_index()
    dropped = len(table) - len(kept)
    notes.append(f"{dropped} duplicate record(s) (same model, card, video and dimension in several runs) were dropped; the newest run's value was kept.")
    return kept.reset_index(drop=True)


def _attach_run_metadata(record_set: RecordSet) -> None:
    """Fill cards, versions, devices and run ids per row from the runs' run.json files."""
    by_dir = {str(r.run_dir): r for r in record_set.runs}
    for row in record_set.rows:
        model, card_hash = record_set.row_model[row]
        run_dirs = list(dict.fromkeys(record_set.rows_table(row)["run_dir"]))
        versions: dict[str, list[str]] = {}
        devices: list[str] = []
        for run_dir in run_dirs:
            meta = by_dir[run_dir].meta
            entry = meta["models"].get(model) or {}
            card = entry.get("card") if isinstance(entry, dict) else None
            if isinstance(card, dict) and row not in record_set.cards:
                record_set.cards[row] = card
            for package, version in (meta.get("versions") or {}).items():
                versions.setdefault(str(package), [])
                if str(version) not in versions[str(package)]:
                    versions[str(package)].append(str(version))
            device = str(meta.get("device", ""))
            if device and device not in devices:
                devices.append(device)
        record_set.cards.setdefault(row, {"name": model})
        record_set.versions[row] = {k: " / ".join(v) for k, v in sorted(versions.items())}
        record_set.devices[row] = devices
        record_set.run_ids[row] = [by_dir[d].run_id for d in run_dirs]


def finite(value: float | None) -> bool:
    """True for a real number (not None, not NaN or infinite)."""
    return value is not None and isinstance(value, (int, float)) and math.isfinite(value)
