"""Score records written before `weight` became `aggregation_weight` still resume a run.

A resumed run rebuilds per_video.csv and eval_results.json from the score records on disk
(`evaluation.collect_records`, `write_vbench_eval_results`); a record file from before the rename
must give the same rows and the same VBench aggregates as one written today.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from repvideo_eval import registry
from repvideo_eval.atomic import write_json_atomic
from repvideo_eval.config import RunSpec
from repvideo_eval.evaluation import collect_records, write_vbench_eval_results
from repvideo_eval.planning import RunPlan
from repvideo_eval.scoring.records import ScoreRecord

DIMENSIONS = ("subject_consistency", "motion_smoothness")


def _plan(run_dir: Path) -> RunPlan:
    spec = RunSpec(
        models=(registry.load_card("cogvideox-tiny"),),
        suite=registry.load_suite("smoke"),
        dimensions=DIMENSIONS,
        scoring_weights="tiny-random",
    )
    return RunPlan.of_spec(spec, run_dir)


def _write_records(plan: RunPlan, *, legacy: bool) -> None:
    """One record per planned (video, dimension) as the scoring worker writes it; `legacy` writes
    the aggregation weight under its old key, as files from before the rename have it."""
    for index, (item, dimension) in enumerate(plan.scored_pairs()):
        record = ScoreRecord(
            video=item.video_path,
            prompt=item.prompt,
            dimension=dimension,
            score=None if index == 3 else 0.5 + 0.01 * index,
            aggregation_weight=0.0 if index == 3 else float(1 + 7 * (index % 2)),
            error="decode failed" if index == 3 else None,
            backend="repvideo-eval/vbench-0.1.5",
            weights_id="tiny-random:seed=0",
            details={"frames": 9},
        )
        data = dataclasses.asdict(record)
        if legacy:
            data["weight"] = data.pop("aggregation_weight")
        path = plan.record_path(item, dimension)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(data, path)


def test_records_from_before_the_rename_rebuild_the_same_tables(tmp_path: Path) -> None:
    plans = {name: _plan(tmp_path / name / "run") for name in ("current", "legacy")}
    _write_records(plans["current"], legacy=False)
    _write_records(plans["legacy"], legacy=True)
    sample = next((tmp_path / "legacy" / "run" / "scores").rglob("*.json"))
    assert "weight" in json.loads(sample.read_text()) and "aggregation_weight" not in (
        json.loads(sample.read_text())
    )

    def relative(rows: list[dict]) -> list[dict]:
        return [{**row, "video": Path(str(row["video"])).name} for row in rows]

    current, legacy = (relative(collect_records(plans[n])) for n in ("current", "legacy"))
    assert len(current) == 10 and {row["aggregation_weight"] for row in current} == {
        "0.0",
        "1.0",
        "8.0",
    }
    assert legacy == current

    for plan in plans.values():
        write_vbench_eval_results(plan)
    results = {
        name: json.loads(
            (plan.run_dir / "eval_results" / "cogvideox-tiny_eval_results.json").read_text()
        )
        for name, plan in plans.items()
    }
    assert set(results["current"]) == set(DIMENSIONS)
    for dimension in DIMENSIONS:
        assert results["legacy"][dimension][0] == results["current"][dimension][0]
