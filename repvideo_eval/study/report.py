"""write_study_report: study.csv, study.md, study.json and the win-ratio plot from a study folder.

`study report` calls it; `report RUN_DIR --study STUDY_DIR` calls it too, to place the study
beside the leaderboard. Every statistic is computed before the first file is written, so a bad
study folder leaves nothing behind.
"""

from __future__ import annotations

from pathlib import Path

from repvideo_eval.atomic import write_text_atomic
from repvideo_eval.errors import UserError
from repvideo_eval.study import tables
from repvideo_eval.study.summary import (
    DEFAULT_CONFIDENCE,
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    StudySummary,
    summarize_study,
)

PLOT_STEM = "study_win_ratios"


def write_summary(summary: StudySummary, out_dir: Path, *, plots: bool = True) -> list[Path]:
    """Write an already computed summary into `out_dir`; return the files written."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"output path {out_dir} is a file", "Pass a folder for the study report.")
    paths = [
        write_text_atomic(out_dir / "study.csv", tables.to_csv(summary)),
        write_text_atomic(out_dir / "study.md", tables.to_markdown(summary)),
        write_text_atomic(out_dir / "study.json", tables.to_json(summary)),
    ]
    if plots:
        from repvideo_eval.study.plot import plot_win_ratios

        paths += plot_win_ratios(summary, out_dir / PLOT_STEM)
    return paths


def write_study_report(
    study_dir: Path,
    *,
    out_dir: Path | None = None,
    plots: bool = True,
    reference: bool = True,
    n_resamples: int = DEFAULT_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = DEFAULT_SEED,
) -> list[Path]:
    """Compute the study's statistics and write them into `out_dir` (default: the study folder).

    The same `seed` gives the same intervals. Returns the paths written: study.csv, study.md,
    study.json, then the plot's PNG and SVG.
    """
    summary = summarize_study(
        study_dir,
        n_resamples=n_resamples,
        confidence=confidence,
        seed=seed,
        reference=reference,
    )
    target = Path(out_dir) if out_dir is not None else Path(study_dir)
    return write_summary(summary, target, plots=plots)
