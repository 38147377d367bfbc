"""Captures -> tidy long-form tables; atomic and streamed CSV writing; prompt-mean attention maps.

One row per number. Columns (``COLUMNS``):

- ``model``, ``prompt``, ``seed``: which video; ``step`` (1-based sampler step, empty for gates),
  ``timestep`` (the scheduler's timestep at that step); ``block`` (0-based transformer block);
- ``tensor``: ``block_input`` / ``block_output`` (video stream of the conditional branch; under
  RepVideo the input is the mixed tensor), ``attention``, or ``gate``;
- ``statistic``: see ``STATISTICS``; ``frame_i`` / ``frame_j``: latent frame indices (query and
  key frame for attention, ``f`` and ``f + 1`` for similarities); ``y`` / ``x``: position of a key
  token in its frame's latent token grid (attention maps only; for text keys ``x`` is the token
  index); ``value``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from repvideo_eval.analysis.layout import TokenLayout
from repvideo_eval.analysis.probes import Captures, GateInfo
from repvideo_eval.atomic import AtomicFile, write_with_atomic

COLUMNS = (
    "model",
    "prompt",
    "seed",
    "step",
    "timestep",
    "block",
    "tensor",
    "statistic",
    "frame_i",
    "frame_j",
    "y",
    "x",
    "value",
)
INTEGER_COLUMNS = ("seed", "step", "block", "frame_i", "frame_j", "y", "x")

STATISTICS = {
    "adjacent_cosine_token": "cosine of frame f and f+1 at matching token positions, averaged over positions",
    "adjacent_cosine_pooled": "cosine of the mean token vectors of frame f and f+1",
    "attention_frame_mass": "attention mass from frame i's queries to frame j's keys (mean over heads and queries)",
    "attention_text_mass": "attention mass from frame i's queries to all text keys (rows sum to 1 with frame mass)",
    "attention_map": "attention of the query frame's tokens to key token (y, x) of frame j (mean over heads, queries)",
    "attention_map_text": "attention of the query frame's tokens to text key token x (mean over heads, queries)",
    "gate": "RepVideo gate g of the block (input = g * cached mean + (1 - g) * h)",
    "mix_active": "1 when the block's input mix changes anything (cache holds >1 tensor and g != 0), else 0",
}

Row = dict[str, Any]


def _row(base: Row, **fields: Any) -> Row:
    row = dict.fromkeys(COLUMNS)
    row.update(base)
    row.update(fields)
    return row


def capture_rows(captures: Captures, model: str, prompt: str, seed: int) -> Iterator[Row]:
    """Similarity and frame-mass rows of one video (attention maps: ``map_frame``)."""
    base = {"model": model, "prompt": prompt, "seed": seed}
    for item in captures.similarities:
        where = {
            "step": item.step,
            "timestep": captures.timesteps.get(item.step),
            "block": item.block,
            "tensor": item.tensor,
        }
        for name, values in (
            ("adjacent_cosine_token", item.similarity.token_matched),
            ("adjacent_cosine_pooled", item.similarity.pooled),
        ):
            for f, value in enumerate(values.tolist()):
                yield _row(base, **where, statistic=name, frame_i=f, frame_j=f + 1, value=value)
    for capture in captures.attentions:
        where = {
            "step": capture.step,
            "timestep": captures.timesteps.get(capture.step),
            "block": capture.block,
            "tensor": "attention",
        }
        mass = capture.attention.frame_mass.tolist()
        for i, text_mass in enumerate(capture.attention.text_mass.tolist()):
            yield _row(base, **where, statistic="attention_text_mass", frame_i=i, value=text_mass)
            for j, value in enumerate(mass[i]):
                yield _row(
                    base,
                    **where,
                    statistic="attention_frame_mass",
                    frame_i=i,
                    frame_j=j,
                    value=value,
                )


def map_frame(captures: Captures, model: str, prompt: str, seed: int, query_frame: int) -> Any:
    """The kept query frame's attention maps of one video as a DataFrame, one row per key token.

    Built column-wise (a real model has ~18k keys per block and step, so per-row dicts would
    cost gigabytes): text keys get ``statistic = attention_map_text`` and ``x`` = token index,
    video keys ``attention_map`` with their frame and (y, x) on the latent token grid.
    """
    import numpy as np
    import pandas as pd

    layout: TokenLayout | None = captures.layout
    items = [c for c in captures.attentions if c.attention.query_map is not None]
    if layout is None or not items:
        return rows_to_frame([])
    values = np.stack(
        [
            c.attention.query_map.detach().double().cpu().numpy()
            for c in items
            if c.attention.query_map is not None  # all of them; narrows the type
        ]
    )  # (n, L)
    count, length = values.shape
    position = np.arange(length)
    is_text = position < layout.text_len
    video = np.where(is_text, 0, position - layout.text_len)
    in_frame = video % layout.tokens_per_frame

    def tiled(column: Any, missing: Any) -> Any:
        return pd.arrays.IntegerArray(
            np.tile(column.astype("int64"), count), np.tile(missing, count)
        )

    steps = [c.step for c in items]
    frame = pd.DataFrame(
        {
            "model": model,
            "prompt": prompt,
            "seed": seed,
            "step": np.repeat(steps, length),
            "timestep": np.repeat(
                [captures.timesteps.get(s, np.nan) for s in steps], length
            ).astype("float64"),
            "block": np.repeat([c.block for c in items], length),
            "tensor": "attention",
            "statistic": np.tile(np.where(is_text, "attention_map_text", "attention_map"), count),
            "frame_i": query_frame,
            "frame_j": tiled(video // layout.tokens_per_frame, is_text),
            "y": tiled(in_frame // layout.grid_w, is_text),
            "x": tiled(
                np.where(is_text, position, in_frame % layout.grid_w), np.zeros(length, dtype=bool)
            ),
            "value": values.ravel(),
        },
        columns=list(COLUMNS),
    )
    for column in ("seed", "step", "block", "frame_i"):
        frame[column] = frame[column].astype("Int64")
    return frame


class StreamingCsv:
    """A CSV written in pieces to a temp file and renamed on ``commit`` (``discard`` removes it).

    Used for the attention maps, which are too large to hold for every video at once.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: AtomicFile | None = None

    def append(self, frame: Any) -> None:
        if self._file is None:
            self._file = AtomicFile(self.path)
            frame.iloc[:0].to_csv(self._file.temp, index=False)
        frame.to_csv(self._file.temp, mode="a", header=False, index=False)

    def commit(self, empty: Any) -> Path:
        """Rename the temp file into place (an empty table with ``empty``'s header if nothing came)."""
        if self._file is None:
            self.append(empty)
        assert self._file is not None
        path = self._file.commit()
        self._file = None
        return path

    def discard(self) -> None:
        if self._file is not None:
            self._file.discard()
            self._file = None


class MapAccumulator:
    """Running mean over prompts of each (model, step, block) attention map, for the figures."""

    def __init__(self) -> None:
        self._sums: dict[tuple[str, int, int], Any] = {}
        self._counts: dict[tuple[str, int, int], int] = {}
        self.layouts: dict[str, TokenLayout] = {}
        self.query_frames: dict[str, int] = {}

    def add(self, captures: Captures, model: str, query_frame: int) -> None:
        if captures.layout is None:
            return
        self.layouts[model] = captures.layout
        self.query_frames[model] = query_frame
        for item in captures.attentions:
            if item.attention.query_map is None:
                continue
            key = (model, item.step, item.block)
            values = item.attention.query_map.detach().double().cpu().numpy()
            self._sums[key] = self._sums.get(key, 0.0) + values
            self._counts[key] = self._counts.get(key, 0) + 1

    def steps(self, model: str) -> list[int]:
        return sorted({step for m, step, _ in self._sums if m == model})

    def means(self, model: str, step: int) -> dict[int, Any]:
        """Block -> mean map over prompts (text keys first, then video keys frame-major)."""
        return {
            block: self._sums[(m, s, block)] / self._counts[(m, s, block)]
            for m, s, block in sorted(self._sums)
            if m == model and s == step
        }


def gate_rows(gates: Iterable[GateInfo], model: str) -> Iterator[Row]:
    """Per-block gate value and whether the block's mix is active (RepVideo models only)."""
    for info in gates:
        yield _row(
            {"model": model}, block=info.block, tensor="gate", statistic="gate", value=info.gate
        )
        yield _row(
            {"model": model},
            block=info.block,
            tensor="gate",
            statistic="mix_active",
            value=float(info.mixes),
        )


def rows_to_frame(rows: Iterable[Row]) -> Any:
    """A pandas DataFrame with the fixed column order and nullable integer columns."""
    import pandas as pd

    frame = pd.DataFrame(list(rows), columns=list(COLUMNS))
    for column in INTEGER_COLUMNS:
        frame[column] = frame[column].astype("Int64")
    frame["value"] = frame["value"].astype("float64")
    frame["timestep"] = frame["timestep"].astype("float64")
    return frame


def write_csv_atomic(frame: Any, path: Path) -> Path:
    """Write ``frame`` to ``path`` via a temp file in the same folder and a rename."""
    return write_with_atomic(path, lambda temp: frame.to_csv(temp, index=False))


def read_statistics(path: Path) -> Any:
    """Read a statistics or attention-map CSV back with the right column types."""
    import pandas as pd

    frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
    for column in INTEGER_COLUMNS:
        frame[column] = frame[column].astype("Int64")
    for column in ("model", "prompt", "tensor", "statistic"):
        frame[column] = frame[column].astype("string")
    return frame
