"""The study's win-ratio plot (PNG and SVG): bars with intervals beside the paper's Table II."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from repvideo_eval.reporting.plots import (
    RANDOM_TITLE,
    BarSeries,
    draw_grouped_bars,
    interval_errors,
    save_figure,
)
from repvideo_eval.study.summary import StudySummary, criterion_label
from repvideo_eval.study.tables import columns, reported_label


def plot_win_ratios(summary: StudySummary, stem: Path) -> list[Path]:
    """Grouped bars per column of Table II: each model's measured win ratio (95 % interval as
    error bars), then each reported row hatched; a dashed line marks 50 % (no preference)."""
    names = columns(summary)
    stats = summary.by_criterion()
    series: list[BarSeries] = []
    for model in summary.models:
        estimates = [stats[c].win_ratio[model] for c in names]
        values = np.array([100 * e.value for e in estimates])
        low = np.array([100 * e.low for e in estimates])
        high = np.array([100 * e.high for e in estimates])
        series.append(BarSeries(f"{model} (measured)", values, interval_errors(values, low, high)))
    for ref in summary.reported:
        printed = np.array([ref.values.get(c, np.nan) for c in names], dtype=float)
        series.append(BarSeries(reported_label(ref), printed, reported=True))
    figure = Figure(figsize=(max(6.0, 1.8 * len(names) + 2), 4.5), layout="constrained")
    axes = figure.add_subplot(1, 1, 1)
    x = draw_grouped_bars(axes, len(names), series)
    axes.axhline(50.0, linestyle="--", color="gray", linewidth=1)
    axes.set_xticks(x)
    axes.set_xticklabels([criterion_label(c).replace(" ", "\n", 1) for c in names])
    axes.set_ylim(0, 100)
    axes.set_ylabel("win ratio (%), ties excluded; 95% CI")
    axes.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2)
    title = (
        f"User study: {summary.models[0]} vs {summary.models[1]} "
        f"({summary.stats[-1].n_votes} votes, repeats excluded)"
    )
    if summary.random_weight_models:
        title += f"\n{RANDOM_TITLE}"
    axes.set_title(title)
    return save_figure(figure, stem)
