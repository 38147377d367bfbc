"""Figures in the style of the paper's analysis figures, from the tidy statistics tables.

- ``similarity_by_layer``: Figs. 5 and 12: mean adjacent-frame cosine similarity against layer,
  one panel per sampler step, one line per model (baseline and RepVideo on the same axes);
- ``frame_attention_heatmaps``: Fig. 3: per block, the frames x (text + frames) attention mass;
- ``attention_maps``: Fig. 4: the chosen query frame's attention over every key frame's token
  grid, one row per block;
- ``gate_values``: RepVideo's gate per block, inactive blocks hatched.

Every figure is written as PNG and SVG (temp name, then rename). Values are averaged over the
prompts (and over adjacent pairs for similarities). Layers are numbered from 1, as in the paper
(layer = block index + 1).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from repvideo_eval.analysis.layout import TokenLayout  # noqa: E402
from repvideo_eval.atomic import write_with_atomic  # noqa: E402

FORMATS = ("png", "svg")
MAX_HEATMAP_BLOCKS = 6


def save_figure(figure: Any, stem: Path) -> list[Path]:
    """Save ``figure`` as ``stem.png`` and ``stem.svg`` atomically and close it."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    written = []
    try:
        for fmt in FORMATS:  # SVG text stays text (editable, searchable), not glyph paths
            final = stem.with_name(f"{stem.name}.{fmt}")

            def save(temp: Path, fmt: str = fmt) -> None:
                with matplotlib.rc_context({"svg.fonttype": "none"}):
                    figure.savefig(temp, format=fmt, dpi=120, bbox_inches="tight")

            written.append(write_with_atomic(final, save))
    finally:
        plt.close(figure)
    return written


def pick_blocks(blocks: list[int], limit: int = MAX_HEATMAP_BLOCKS) -> list[int]:
    """Up to ``limit`` blocks spread evenly over ``blocks`` (first and last included)."""
    blocks = sorted(set(blocks))
    if len(blocks) <= limit:
        return blocks
    picks = np.linspace(0, len(blocks) - 1, limit).round().astype(int)
    return [blocks[i] for i in sorted(set(picks.tolist()))]


def layer_similarity_table(stats: Any, statistic: str, tensor: str) -> Any:
    """What ``similarity_by_layer`` draws: columns model, step, layer (block + 1), value.

    ``value`` is the mean over adjacent frame pairs and prompts (every pair weighs the same).
    """
    data = stats[(stats["statistic"] == statistic) & (stats["tensor"] == tensor)]
    means = data.groupby(["model", "step", "block"], sort=False)["value"].mean().reset_index()
    means["layer"] = means["block"].astype(int) + 1
    return (
        means[["model", "step", "layer", "value"]]
        .sort_values(["step", "layer"], kind="stable")
        .reset_index(drop=True)
    )


def similarity_by_layer(
    stats: Any, statistic: str, tensors: tuple[str, ...], stem: Path, title: str
) -> list[Path]:
    """One panel per step (columns) and tensor (rows); x = layer, y = mean similarity; a line per model."""
    tables = [(tensor, layer_similarity_table(stats, statistic, tensor)) for tensor in tensors]
    tables = [(tensor, table) for tensor, table in tables if not table.empty]
    if not tables:
        return []
    steps = sorted({int(s) for _, table in tables for s in table["step"].unique()})
    models = list(dict.fromkeys(m for _, table in tables for m in table["model"]))
    figure, axes = plt.subplots(
        len(tables),
        len(steps),
        figsize=(3.4 * len(steps), 2.8 * len(tables)),
        sharey=True,
        squeeze=False,
    )
    for r, (tensor, table) in enumerate(tables):
        for ax, step in zip(axes[r], steps):
            for k, model in enumerate(models):
                line = table[(table["model"] == model) & (table["step"] == step)]
                ax.plot(
                    line["layer"],
                    line["value"],
                    marker="o",
                    markersize=3,
                    color=f"C{k}",
                    label=model,
                )
            ax.set_title(f"Step {step}" if r == 0 else "", fontsize=10)
            ax.set_xlabel("Layer" if r == len(tables) - 1 else "")
            ax.grid(alpha=0.3)
        axes[r][0].set_ylabel(f"Similarity\n({tensor.replace('_', ' ')})")
    axes[0][-1].legend(fontsize=8)
    figure.suptitle(title, fontsize=10, y=1.02)
    return save_figure(figure, stem)


def _frame_mass_matrix(rows: Any, frames: int) -> np.ndarray:
    """Query frame x [text, key frames] mass from one block's attention rows, mean over prompts."""
    matrix = np.zeros((frames, frames + 1))
    text = rows[rows["statistic"] == "attention_text_mass"].groupby("frame_i")["value"].mean()
    mass = (
        rows[rows["statistic"] == "attention_frame_mass"]
        .groupby(["frame_i", "frame_j"])["value"]
        .mean()
    )
    for i, value in text.items():
        matrix[int(i), 0] = value
    for (i, j), value in mass.items():
        matrix[int(i), int(j) + 1] = value
    return matrix


def frame_attention_heatmaps(stats: Any, model: str, stem: Path) -> list[Path]:
    """Fig. 3 style: rows = steps, columns = chosen blocks; each a query frame x [text, frames] map."""
    rows = stats[(stats["model"] == model) & (stats["tensor"] == "attention")]
    if rows.empty:
        return []
    steps = sorted(int(s) for s in rows["step"].unique())
    blocks = pick_blocks([int(b) for b in rows["block"].unique()])
    frames = int(rows["frame_i"].max()) + 1
    figure, axes = plt.subplots(
        len(steps), len(blocks), figsize=(2.6 * len(blocks), 2.6 * len(steps)), squeeze=False
    )
    image = None
    for r, step in enumerate(steps):
        for ax, block in zip(axes[r], blocks):
            here = rows[(rows["step"] == step) & (rows["block"] == block)]
            image = ax.imshow(_frame_mass_matrix(here, frames), vmin=0.0, vmax=1.0, cmap="viridis")
            ax.set_title(f"Step {step}, layer {block + 1}", fontsize=8)
            ax.set_xticks(range(frames + 1), ["T"] + [str(j) for j in range(frames)], fontsize=6)
            ax.set_yticks(range(frames), [str(i) for i in range(frames)], fontsize=6)
        axes[r][0].set_ylabel("query frame", fontsize=8)
    for ax in axes[-1]:
        ax.set_xlabel("key: T = text, else frame", fontsize=7)
    if image is not None:
        figure.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, label="attention mass")
    figure.suptitle(f"{model}: attention mass of each frame's queries", fontsize=10)
    return save_figure(figure, stem)


def attention_maps(
    maps: Mapping[int, np.ndarray], layout: TokenLayout, query_frame: int, title: str, stem: Path
) -> list[Path]:
    """Fig. 4 style: rows = chosen blocks, columns = key frames, each that frame's token grid.

    ``maps``: block -> the query frame's attention over all keys (text first), e.g. a prompt mean.
    Colours are scaled per row (layer), since attention spreads differently at each depth.
    """
    if not maps:
        return []
    blocks = pick_blocks(list(maps))
    frames = layout.frames
    figure, axes = plt.subplots(
        len(blocks), frames, figsize=(1.4 * frames + 1, 1.4 * len(blocks) + 0.6), squeeze=False
    )
    for r, block in enumerate(blocks):
        grid = np.asarray(maps[block])[layout.text_len :].reshape(
            frames, layout.grid_h, layout.grid_w
        )
        top = float(grid.max()) or 1.0
        for j in range(frames):
            ax = axes[r][j]
            ax.imshow(grid[j], vmin=0.0, vmax=top, cmap="magma")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(f"frame {j}" + (" (query)" if j == query_frame else ""), fontsize=8)
        text_mass = float(np.asarray(maps[block])[: layout.text_len].sum())
        axes[r][0].set_ylabel(f"Layer {block + 1}\ntext {text_mass:.2f}", fontsize=7)
    figure.suptitle(title, fontsize=10)
    return save_figure(figure, stem)


def gate_values(stats: Any, stem: Path) -> list[Path]:
    """RepVideo gates per layer, one bar group per model; blocks whose mix is a no-op are hatched."""
    gates = stats[stats["statistic"] == "gate"]
    if gates.empty:
        return []
    active = stats[stats["statistic"] == "mix_active"]
    models = list(dict.fromkeys(gates["model"]))
    figure, ax = plt.subplots(figsize=(max(5.0, 0.3 * gates["block"].nunique() * len(models)), 3.0))
    width = 0.8 / len(models)
    from matplotlib.patches import Patch

    handles = [Patch(color=f"C{k}", label=model) for k, model in enumerate(models)]
    handles.append(Patch(facecolor="white", edgecolor="black", hatch="//", label="mix is a no-op"))
    for k, model in enumerate(models):
        values = gates[gates["model"] == model].sort_values("block")
        flags = active[active["model"] == model].set_index("block")["value"]
        for block, value in zip(values["block"].astype(int), values["value"]):
            mixes = bool(flags.get(block, 1.0))
            ax.bar(
                block + 1 + (k - (len(models) - 1) / 2) * width,
                value,
                width,
                color=f"C{k}",
                hatch=None if mixes else "//",
                alpha=1.0 if mixes else 0.4,
            )
    ax.set_xlabel("Layer")
    ax.set_ylabel("gate g")
    ax.set_title("RepVideo gates per layer", fontsize=10)
    ax.legend(handles=handles, fontsize=8)
    return save_figure(figure, stem)
