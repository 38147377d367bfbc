"""Captures -> tidy long-form rows, and atomic CSV writing.

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

import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from repvideo_eval.analysis.layout import TokenLayout
from repvideo_eval.analysis.probes import Captures, GateInfo

COLUMNS = ("model", "prompt", "seed", "step", "timestep", "block", "tensor", "statistic", "frame_i", "frame_j", "y", "x", "value")
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
    """Similarity and frame-mass rows of one video (attention maps: ``map_rows``)."""
    base = {"model": model, "prompt": prompt, "seed": seed}
    for item in captures.similarities:
        where = {"step": item.step, "timestep": captures.timesteps.get(item.step), "block": item.block, "tensor": item.tensor}
        for name, values in (("adjacent_cosine_token", item.similarity.token_matched), ("adjacent_cosine_pooled", item.similarity.pooled)):
            for f, value in enumerate(values.tolist()):
                yield _row(base, **where, statistic=name, frame_i=f, frame_j=f + 1, value=value)
    for item in captures.attentions:
        where = {"step": item.step, "timestep": captures.timesteps.get(item.step), "block": item.block, "tensor": "attention"}
        mass = item.attention.frame_mass.tolist()
        for i, text_mass in enumerate(item.attention.text_mass.tolist()):
            yield _row(base, **where, statistic="attention_text_mass", frame_i=i, value=text_mass)
            for j, value in enumerate(mass[i]):
                yield _row(base, **where, statistic="attention_frame_mass", frame_i=i, frame_j=j, value=value)


def map_rows(captures: Captures, model: str, prompt: str, seed: int, query_frame: int) -> Iterator[Row]:
    """The kept query frame's attention map, one row per key token, video keys on their grid."""
    layout: TokenLayout | None = captures.layout
    base = {"model": model, "prompt": prompt, "seed": seed}
    for item in captures.attentions:
        values = item.attention.query_map
        if values is None or layout is None:
            continue
        where = {"step": item.step, "timestep": captures.timesteps.get(item.step), "block": item.block, "tensor": "attention"}
        flat = values.tolist()
        for x in range(layout.text_len):
            yield _row(base, **where, statistic="attention_map_text", frame_i=query_frame, x=x, value=flat[x])
        video = flat[layout.text_len :]
        for index, value in enumerate(video):
            frame, rest = divmod(index, layout.tokens_per_frame)
            y, x = divmod(rest, layout.grid_w)
            yield _row(base, **where, statistic="attention_map", frame_i=query_frame, frame_j=frame, y=y, x=x, value=value)


def gate_rows(gates: Iterable[GateInfo], model: str) -> Iterator[Row]:
    """Per-block gate value and whether the block's mix is active (RepVideo models only)."""
    for info in gates:
        yield _row({"model": model}, block=info.block, tensor="gate", statistic="gate", value=info.gate)
        yield _row({"model": model}, block=info.block, tensor="gate", statistic="mix_active", value=float(info.mixes))


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
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=".partial-", suffix=".csv", dir=path.parent)
    os.close(handle)
    try:
        frame.to_csv(name, index=False)
        os.replace(name, path)
    finally:
        Path(name).unlink(missing_ok=True)
    return path


def read_statistics(path: Path) -> Any:
    """Read a statistics or attention-map CSV back with the right column types."""
    import pandas as pd

    frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
    for column in INTEGER_COLUMNS:
        frame[column] = frame[column].astype("Int64")
    for column in ("model", "prompt", "tensor", "statistic"):
        frame[column] = frame[column].astype("string")
    return frame
