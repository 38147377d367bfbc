"""Write `eval_results.json` in VBench's own format from project records.

VBench writes `{dimension: [aggregate, [{"video_path": ..., "video_results": ...}, ...]]}`.
Per-video values use VBench's native scale: imaging_quality on MUSIQ's 0..100 scale (the
aggregate is /100), dynamic_degree as a bool, background_consistency with `video_sim` and
`cnt_per_video` as vbench lists them. Videos with an error are absent, as vbench skips them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from repvideo_eval.atomic import write_text_atomic
from repvideo_eval.scoring.aggregate import aggregate
from repvideo_eval.scoring.records import ScoreRecord


def vbench_video_result(record: ScoreRecord) -> dict[str, Any]:
    """One entry of VBench's per-video list for a scored record."""
    entry: dict[str, Any] = {"video_path": record.video}
    if record.dimension == "imaging_quality":
        entry["video_results"] = record.details.get("musiq", (record.score or 0.0) * 100.0)
    elif record.dimension == "dynamic_degree":
        entry["video_results"] = bool(record.score)
    else:
        entry["video_results"] = record.score
    if record.dimension == "background_consistency":
        entry["video_sim"] = record.details.get("video_sim")
        entry["cnt_per_video"] = int(record.aggregation_weight)
    return entry


def vbench_eval_results(records: Iterable[ScoreRecord]) -> dict[str, list]:
    """The eval_results.json object for the given records."""
    records = list(records)
    scores = aggregate(records)
    return {
        dimension: [
            score,
            [vbench_video_result(r) for r in records if r.dimension == dimension and r.ok],
        ]
        for dimension, score in scores.items()
    }


def write_eval_results(records: Iterable[ScoreRecord], path: Path) -> Path:
    """Write eval_results.json atomically (temp file in the same folder, then os.replace)."""
    write_text_atomic(Path(path), json.dumps(vbench_eval_results(records), indent=4) + "\n")
    return Path(path)
