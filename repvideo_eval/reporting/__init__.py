"""Reports from per-video records: leaderboards with bootstrap CIs, ablation tables, plots, gallery.

Public entry points: `write_reports` (leaderboard.csv/.md/.json, plots, gallery.html) and
`repvideo_eval.reporting.ablation.write_ablation_report` (grids are parsed by
`repvideo_eval.ablation_grid`).
"""

from __future__ import annotations

from repvideo_eval.reporting.report import ReportPaths, write_reports

__all__ = ["ReportPaths", "write_reports"]
