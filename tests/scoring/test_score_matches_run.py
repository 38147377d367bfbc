"""`score --videos-dir RUN/videos/<card hash>` plans and records a run's videos as the run did.

A tiny run (cogvideox-tiny, random scorer weights) generates, filters and scores; `score` on
its videos folder must write the same records.

The run and `score` share one planner (VBench standard mode with the 25-sample flicker protocol
and its static filter) and one per-video schema; `report` reads either output folder.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import math
from pathlib import Path

from repvideo_eval import registry
from repvideo_eval.cli import score
from repvideo_eval.config import RunSpec
from repvideo_eval.distributed.types import Resources
from repvideo_eval.evaluation import evaluate
from repvideo_eval.reporting.records import load_records
from repvideo_eval.scoring.per_video import PER_VIDEO_COLUMNS

FLICKER_PROMPT = "In a still frame, a stop sign"  # sampled past VBench's 5: the flicker protocol
SUBJECT_PROMPT = "a person swimming in ocean"  # tagged subject_consistency and more
DIMENSIONS = ("temporal_flickering", "subject_consistency")
#: Fewer samples than VBench's 25 and 5 keep the test short; more than 5 for the flicker
#: prompt still puts it under the protocol in both commands.
FLICKER_SAMPLES, SAMPLES = 6, 1


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def test_score_on_a_run_folder_gives_the_runs_records(tmp_path: Path, shared_ray: None) -> None:
    vbench = registry.load_suite("vbench")
    prompts = tuple(
        dataclasses.replace(p, samples=FLICKER_SAMPLES) if p.samples else p
        for p in vbench.prompts
        if p.text in (FLICKER_PROMPT, SUBJECT_PROMPT)
    )
    spec = RunSpec(
        models=(registry.load_card("cogvideox-tiny"),),
        suite=dataclasses.replace(vbench, prompts=prompts, samples_per_prompt=SAMPLES),
        dimensions=DIMENSIONS,
        scoring_weights="tiny-random",
        vbench_mode="standard",
    )
    run_dir = tmp_path / "run"
    evaluate(spec, run_dir, Resources(num_gpus=0, num_cpu_workers=1), progress=False, reports=False)
    videos = run_dir / "videos" / spec.models[0].card_hash
    assert len(list(videos.iterdir())) == FLICKER_SAMPLES + SAMPLES

    out = tmp_path / "scored"
    parser = argparse.ArgumentParser()
    score.add_arguments(parser)
    args = parser.parse_args(
        [
            "--videos-dir",
            str(videos),
            "--output-dir",
            str(out),
            "--scoring-weights",
            "tiny-random",
            "--dimensions",
            ",".join(DIMENSIONS),
            "--no-progress",
        ]
    )
    assert score.execute(args) == 0

    run_rows, score_rows = _rows(run_dir / "per_video.csv"), _rows(out / "per_video.csv")
    assert list(run_rows[0]) == list(score_rows[0]) == list(PER_VIDEO_COLUMNS)

    def comparable(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        return sorted(
            ({**r, "video": Path(r["video"]).name} for r in rows),
            key=lambda r: (r["video"], r["dimension"]),
        )

    def same(key: str, a: str, b: str) -> bool:
        """Equal, except that float32 model outputs may differ in their last bit between two
        worker processes (thread count changes the summation order): 1e-6 relative there."""
        if key == "score" and a and b:
            return math.isclose(float(a), float(b), rel_tol=1e-6)
        if key == "details" and a and b:
            x, y = json.loads(a), json.loads(b)
            return x.keys() == y.keys() and all(
                math.isclose(x[k], y[k], rel_tol=1e-6) if isinstance(x[k], float) else x[k] == y[k]
                for k in x
            )
        return a == b

    differing = [
        (row["video"], row["dimension"], {k: (row[k], other[k]) for k in row if row[k] != other[k]})
        for row, other in zip(comparable(score_rows), comparable(run_rows))
        if not all(same(k, row[k], other[k]) for k in row) or row.keys() != other.keys()
    ]
    assert len(score_rows) == len(run_rows) and not differing, differing[:3]
    # Standard mode: each prompt only on its own dimensions; the flicker protocol keeps at most
    # 5 of the samples for temporal_flickering (the filter's selections are in both folders).
    flicker = [r for r in run_rows if r["dimension"] == "temporal_flickering"]
    assert {r["prompt"] for r in flicker} <= {FLICKER_PROMPT} and len(flicker) <= 5
    subject = [r for r in run_rows if r["dimension"] == "subject_consistency"]
    assert {r["prompt"] for r in subject} == {SUBJECT_PROMPT} and len(subject) == SAMPLES
    (run_selection,) = (run_dir / "static_filter").rglob("*.json")
    (score_selection,) = (out / "static_filter").rglob("*.json")

    def verdicts(path: Path) -> list[tuple[str, bool]]:
        decisions = json.loads(path.read_text(encoding="utf-8"))["decisions"]
        return [(Path(d["video"]).name, d["static"]) for d in decisions]

    assert verdicts(score_selection) == verdicts(run_selection)
    assert len(verdicts(run_selection)) >= min(FLICKER_SAMPLES, 5)
    assert all(r["error"] == "" and r["score"] for r in run_rows)

    # One run.json schema and one results layout, whichever command wrote the folder.
    run_meta = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    score_meta = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert list(score_meta) == list(run_meta)
    assert (run_meta["command"], score_meta["command"]) == ("run", "score")
    for key in ("dimensions", "scoring_weights", "vbench_mode", "detector", "suite"):
        assert score_meta[key] == run_meta[key], key
    card_hash = spec.models[0].card_hash
    assert score_meta["models"]["cogvideox-tiny"]["card_hash"] == card_hash

    def layout(folder: Path) -> set[str]:
        """The records, selections, VBench results, run.json and table (the run here made no
        reports; `score` did, so those are left out)."""
        kept = ("scores", "static_filter", "eval_results", "run.json", "per_video.csv")
        return {
            str(p.relative_to(folder))
            for p in folder.rglob("*")
            if p.is_file() and p.relative_to(folder).parts[0] in kept
        }

    assert layout(out) == layout(run_dir)
    assert (out / "eval_results" / "cogvideox-tiny_eval_results.json").is_file()

    # `report` reads the score folder like the run folder.
    table = load_records([out]).table
    assert len(table) == len(run_rows)
    assert set(table["model"]) == {"cogvideox-tiny"}
