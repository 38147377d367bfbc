"""Leaderboard and ablation plots (PNG and SVG), drawn with matplotlib's Agg canvas.

Figures are built with `matplotlib.figure.Figure` (no pyplot global state, no display needed)
and saved atomically. Plots of random-weight rows say so in their title.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from repvideo_eval.atomic import write_with_atomic
from repvideo_eval.reporting.leaderboard import Leaderboard

FORMATS = ("png", "svg")
RANDOM_TITLE = "RANDOM WEIGHTS: tests the code path, not the models"


def _label(name: str) -> str:
    return name.replace("_", " ").title()


def save_figure(figure: Figure, stem: Path) -> list[Path]:
    """Write `stem.png` and `stem.svg`; return their paths."""
    paths = []
    for fmt in FORMATS:
        target = stem.with_suffix(f".{fmt}")
        # SVG keeps text as text (searchable, smaller) instead of glyph outlines.
        with matplotlib.rc_context({"svg.fonttype": "none"}):
            write_with_atomic(
                target, partial(figure.savefig, format=fmt, dpi=120, bbox_inches="tight")
            )
        paths.append(target)
    return paths


class BarSeries(NamedTuple):
    """One bar per group: heights, optional error bars (2, groups) below/above, and whether the
    numbers are published ones (drawn hatched and lighter) rather than measured here."""

    label: str
    heights: np.ndarray
    errors: np.ndarray | None = None
    reported: bool = False


def interval_errors(values: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """matplotlib's (2, n) error bars for intervals [low, high] around `values` (NaN -> none)."""
    return np.vstack([np.nan_to_num(values - low), np.nan_to_num(high - values)])


def draw_grouped_bars(axes: Any, groups: int, series: Sequence[BarSeries]) -> np.ndarray:
    """`groups` groups of side-by-side bars, one bar per series; returns the groups' x positions."""
    width = 0.8 / max(1, len(series))
    x = np.arange(groups)
    for k, bars in enumerate(series):
        style: dict[str, Any] = {"hatch": "//", "alpha": 0.55} if bars.reported else {}
        axes.bar(
            x - 0.4 + width * (k + 0.5),
            np.nan_to_num(bars.heights),
            width,
            yerr=bars.errors,
            capsize=3,
            label=bars.label,
            **style,
        )
    return x


def _title(text: str, random_weights: bool) -> str:
    return f"{text}\n{RANDOM_TITLE}" if random_weights else text


def plot_dimension_bars(board: Leaderboard, stem: Path) -> list[Path]:
    """Grouped bars per dimension (one bar per measured row) with 95% interval error bars."""
    dims = board.dimensions
    rows = board.rows
    figure = Figure(
        figsize=(min(16.0, max(6.0, 0.6 * len(dims) * max(1, len(rows)) ** 0.5 + 2)), 5.0),
        layout="constrained",
    )
    axes = figure.add_subplot(1, 1, 1)
    series = []
    for row in rows:
        values = np.array([row.cells[d].value if d in row.cells else np.nan for d in dims])
        low = np.array([row.cells[d].low if d in row.cells else np.nan for d in dims])
        high = np.array([row.cells[d].high if d in row.cells else np.nan for d in dims])
        series.append(BarSeries(row.label, values, interval_errors(values, low, high)))
    x = draw_grouped_bars(axes, len(dims), series)
    axes.set_xticks(x)
    axes.set_xticklabels([_label(d) for d in dims], rotation=30, ha="right")
    axes.set_ylabel("score (%), 95% bootstrap CI")
    axes.set_ylim(0, 100)
    axes.legend(fontsize="small")
    axes.set_title(_title("VBench dimensions", board.random_weights))
    return save_figure(figure, stem)


def plot_radar(board: Leaderboard, stem: Path) -> list[Path]:
    """Radar chart over the measured dimensions, as on the VBench leaderboard.

    Each axis is scaled to the range of the shown rows (padded), because raw VBench scores of
    different dimensions sit on very different ranges; with one row every axis runs 0-100.
    """
    dims = board.dimensions
    figure = Figure(figsize=(6.5, 6.5), layout="constrained")
    axes = figure.add_subplot(1, 1, 1, projection="polar")
    angles = np.linspace(0, 2 * math.pi, num=max(len(dims), 1), endpoint=False)
    matrix = np.array(
        [[row.cells[d].value if d in row.cells else np.nan for d in dims] for row in board.rows]
    )
    if len(board.rows) > 1:
        lo, hi = np.nanmin(matrix, axis=0), np.nanmax(matrix, axis=0)
        pad = np.maximum((hi - lo) * 0.25, 5.0)  # at least 5 points, so noise is not blown up
        lo, hi = np.maximum(lo - pad, 0.0), np.minimum(hi + pad, 100.0)
        scaled = (matrix - lo) / np.where(hi > lo, hi - lo, 1.0)
        note = "each axis scaled to the shown rows' range"
    else:
        scaled = matrix / 100.0
        note = "axes 0-100%"
    closed = np.append(angles, angles[:1])
    for row, values in zip(board.rows, scaled):
        values = np.nan_to_num(values)
        axes.plot(closed, np.append(values, values[:1]), label=row.label)
        axes.fill(closed, np.append(values, values[:1]), alpha=0.15)
    axes.set_xticks(angles)
    axes.set_xticklabels([_label(d) for d in dims], fontsize="small")
    axes.set_yticklabels([])
    axes.set_ylim(0, 1)
    axes.legend(loc="upper right", bbox_to_anchor=(1.3, 1.1), fontsize="small")
    axes.set_title(_title(f"VBench radar ({note})", board.random_weights), pad=24)
    return save_figure(figure, stem)


def plot_curves(
    series: Mapping[str, Mapping[str, Sequence[tuple[float, float, float, float]]]],
    stem: Path,
    *,
    xlabel: str,
    title: str,
    random_weights: bool,
) -> list[Path]:
    """One panel per metric; per panel one line per series of (x, value, low, high) points.

    A series named "... (baseline)" is drawn as a star marker on top of the others. A series with
    a single point and x = NaN (e.g. gates off, where cache size does not apply)
    is drawn as a horizontal dashed line across the panel.
    """
    metrics = list(series)
    columns = min(3, max(1, len(metrics)))
    rows = math.ceil(len(metrics) / columns) if metrics else 1
    figure = Figure(figsize=(4.5 * columns, 3.5 * rows + 0.8), layout="constrained")
    for index, metric in enumerate(metrics):
        axes = figure.add_subplot(rows, columns, index + 1)
        for name, points in series[metric].items():
            points = sorted(points, key=lambda p: (math.isnan(p[0]), p[0]))
            xs = np.array([p[0] for p in points], dtype=float)
            ys = np.array([p[1] for p in points], dtype=float)
            lows = np.array([p[2] for p in points], dtype=float)
            highs = np.array([p[3] for p in points], dtype=float)
            if np.all(np.isnan(xs)):
                line = axes.axhline(ys[0], linestyle="--", color="gray", label=name)
                if np.isfinite(lows[0]) and np.isfinite(highs[0]):
                    axes.axhspan(lows[0], highs[0], alpha=0.1, color=line.get_color())
                continue
            errors = np.vstack([np.nan_to_num(ys - lows), np.nan_to_num(highs - ys)])
            if name.endswith("(baseline)"):
                axes.plot(
                    xs,
                    ys,
                    linestyle="none",
                    marker="*",
                    markersize=14,
                    color="black",
                    label=name,
                    zorder=5,
                )
            else:
                axes.errorbar(xs, ys, yerr=errors, marker="o", capsize=3, label=name)
        axes.set_title(_label(metric), fontsize="medium")
        axes.set_xlabel(xlabel)
        axes.set_ylabel("score (%)")
        axes.legend(fontsize="x-small")
    figure.suptitle(_title(title, random_weights))
    return save_figure(figure, stem)
