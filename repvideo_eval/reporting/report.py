"""write_reports: every leaderboard format, the plots and the gallery from existing run folders.

This is the entry point the run command calls after scoring, and what `report` calls to rebuild
reports later; it reads only per_video.csv and run.json (and links the videos).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from repvideo_eval.atomic import write_text_atomic
from repvideo_eval.errors import UserError
from repvideo_eval.reporting import formats
from repvideo_eval.reporting.leaderboard import (
    DEFAULT_CONFIDENCE,
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    build_leaderboard,
)
from repvideo_eval.reporting.records import load_records
from repvideo_eval.reporting.reference import load_reference_rows
from repvideo_eval.run_layout import RunLayout


@dataclass
class ReportPaths:
    """Files written by `write_reports`, and the Markdown text to print on the terminal."""

    out_dir: Path
    csv: Path
    markdown: Path
    json: Path
    markdown_text: str
    gallery: Path | None = None
    plots: list[Path] = field(default_factory=list)


def prepare_out_dir(out_dir: Path) -> Path:
    """Create the output folder or explain why it cannot be used."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"output path {out_dir} is a file", "Pass a folder to --output-dir.")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(
            f"cannot create output folder {out_dir} ({exc.strerror})",
            "Pass a writable folder to --output-dir.",
        ) from None
    return out_dir


def write_reports(
    run_dirs: Sequence[Path],
    out_dir: Path,
    *,
    gallery: bool = True,
    plots: bool = True,
    reference: bool = True,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    confidence: float = DEFAULT_CONFIDENCE,
    appendix: str = "",
) -> ReportPaths:
    """Write leaderboard.csv/.md/.json (+ dimension bars, radar chart, gallery.html) into `out_dir`.

    Runs of different models are merged. The same `seed` gives the same intervals and p-values.
    `appendix` is Markdown appended to leaderboard.md (a later stage's section, e.g. the user
    study's table, which this stage does not import).
    """
    records = load_records([Path(p) for p in run_dirs])
    out_dir = prepare_out_dir(out_dir)
    board = build_leaderboard(
        records,
        load_reference_rows() if reference else [],
        n_resamples=n_resamples,
        confidence=confidence,
        seed=seed,
    )
    markdown_text = formats.to_markdown(board)
    if appendix:
        markdown_text = markdown_text.rstrip("\n") + "\n\n" + appendix
    layout = RunLayout(out_dir)
    paths = ReportPaths(
        out_dir=out_dir,
        csv=write_text_atomic(layout.leaderboard("csv"), formats.to_csv(board)),
        markdown=write_text_atomic(layout.leaderboard("md"), markdown_text),
        json=write_text_atomic(layout.leaderboard("json"), formats.to_json(board)),
        markdown_text=markdown_text,
    )
    if plots:
        from repvideo_eval.reporting.plots import plot_dimension_bars, plot_radar

        paths.plots += plot_dimension_bars(board, out_dir / "dimensions")
        paths.plots += plot_radar(board, out_dir / "radar")
    if gallery:
        from repvideo_eval.reporting.gallery import render_gallery

        links = [paths.markdown, paths.csv, paths.json, *paths.plots]
        paths.gallery = write_text_atomic(
            out_dir / "gallery.html", render_gallery(board, records, out_dir, links)
        )
    return paths
