"""One evaluation run, end to end: generate every video, score it, write records and reports.

The run folder is the unit of resumption: every stage skips what is already complete in it, so
rerunning the same command after a crash finishes the remaining work and nothing else.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from repvideo_eval.atomic import write_json_atomic
from repvideo_eval.config import DETECTION_DIMENSIONS, ModelCard, RunSpec
from repvideo_eval.errors import UserError
from repvideo_eval.generation.items import GenerationItem, generation_complete
from repvideo_eval.generation.provenance import package_versions
from repvideo_eval.planning import RunPlan, read_score_record, video_identity
from repvideo_eval.prompt_sets import check_same_prompt_set, run_json_fields
from repvideo_eval.scoring.per_video import row_for, write_per_video_csv
from repvideo_eval.scoring.records import ScoreRecord
from repvideo_eval.stages import (
    ScoringWorker,
    StaticFilterWorker,
    filter_complete,
    scoring_complete,
)

DEFAULT_RUNS_DIR = Path("results") / "runs"


@dataclass
class RunOutcome:
    run_dir: Path
    per_video_csv: Path
    failures: list[tuple[str, str]] = field(default_factory=list)
    report_markdown: str = ""
    random_scoring_weights: bool = False


def work_left(plan: RunPlan) -> bool:
    """True when some video, filter selection or score record of the plan is not on disk yet."""
    items = plan.all_items
    if not all(generation_complete(item) for item in items):
        return True
    if not all(filter_complete(f) for f in plan.filter_items(items)):
        return True
    return any(
        not plan.record_path(item, dimension).is_file()
        for _, item, dimension in plan.scored_pairs()
    )


def prepare_output_dir(path: Path) -> Path:
    """Create `path` if needed and prove it is writable, before any work starts."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-test-"):
            pass
    except OSError as error:
        reason = error.strerror or str(error)
        raise UserError(
            f"output folder {path} cannot be written ({reason})", "Choose another --output-dir."
        ) from None
    return path


def check_same_detector(spec: RunSpec, run_dir: Path) -> None:
    """Refuse to resume a run folder whose detection scores came from another detector.

    A folder's `run.json` names its detector; records from two detectors must never be mixed.
    Folders from before the detector was recorded cannot say, so they are refused as well
    (unless they scored no detection dimension).
    """
    path = run_dir / "run.json"
    if not spec.uses_detector or not path.is_file():
        return
    try:
        previous = json.loads(path.read_text())
        recorded, dimensions = previous.get("detector"), previous.get("dimensions") or []
    except (OSError, ValueError, AttributeError):
        return  # an unreadable run.json is rewritten; its records carry their own detector
    if recorded == spec.detector or not set(dimensions) & set(DETECTION_DIMENSIONS):
        return
    if recorded is None:
        raise UserError(
            f"run folder {run_dir} does not record which detector scored it; this run would use {spec.detector}",
            "Choose another --output-dir.",
        )
    raise UserError(
        f"run folder {run_dir} was scored with detector {recorded}; this run would use {spec.detector}",
        f"Pass --detector {recorded} to resume it, or choose another --output-dir.",
    )


def run_metadata(spec: RunSpec, device: str) -> dict[str, Any]:
    return {
        "run_id": spec.run_id,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "suite": spec.suite.name,
        "samples_per_prompt": spec.suite.samples_per_prompt,
        "num_prompts": len(spec.suite.prompts),
        "dimensions": list(spec.dimensions),
        "vbench_mode": spec.vbench_mode,
        "scoring_weights": spec.scoring_weights,
        "detector": spec.detector if spec.uses_detector else None,
        **run_json_fields(spec),
        "models": {
            card.name: {"card_hash": card.card_hash, "card": card.to_dict()} for card in spec.models
        },
        "versions": package_versions(),
        "device": device if device != "auto" else "auto (CUDA on workers that have it, else CPU)",
    }


def _generate(
    card: ModelCard,
    items: list[GenerationItem],
    run_dir: Path,
    resources: Any,
    device: str,
    progress: bool,
):
    from repvideo_eval.distributed import run_stage
    from repvideo_eval.generation.worker import VideoGenerator

    return run_stage(
        f"generate {card.name}",
        items,
        VideoGenerator,
        {"card": card.to_dict(), "device": device},
        manifest_path=run_dir / "manifests" / f"generate-{card.card_hash}.jsonl",
        resources=resources,
        is_complete=generation_complete,
        progress=progress,
    )


def _static_filter(
    plan: RunPlan,
    generated: list[GenerationItem],
    resources: Any,
    device: str,
    progress: bool,
    cache_dir: str | None,
):
    from repvideo_eval.distributed import run_stage

    spec = plan.spec
    return run_stage(
        "static filter",
        plan.filter_items(generated),
        StaticFilterWorker,
        {
            "device": device,
            "scoring_weights": spec.scoring_weights,
            "cache_dir": cache_dir,
            "vbench_mode": spec.vbench_mode,
            "clip_dir": str(plan.clip_dir),
        },
        manifest_path=plan.run_dir / "manifests" / f"static-filter-{spec.vbench_mode}.jsonl",
        resources=resources,
        is_complete=filter_complete,
        progress=progress,
    )


def _score(
    plan: RunPlan,
    generated: list[GenerationItem],
    resources: Any,
    device: str,
    progress: bool,
    cache_dir: str | None,
):
    from repvideo_eval.distributed import run_stage

    spec = plan.spec
    scoring_weights_tag = spec.scoring_weights.replace(":", "_")
    return run_stage(
        "score",
        plan.scoring_items(generated),
        ScoringWorker,
        {
            "dimensions": list(spec.dimensions),
            "device": device,
            "scoring_weights": spec.scoring_weights,
            "cache_dir": cache_dir,
            "vbench_mode": spec.vbench_mode,
            "clip_dir": str(plan.clip_dir),
            "detector": spec.detector,
        },
        manifest_path=plan.run_dir
        / "manifests"
        / f"score-{scoring_weights_tag}-{spec.vbench_mode}.jsonl",
        resources=resources,
        is_complete=scoring_complete,
        progress=progress,
    )


def collect_records(plan: RunPlan) -> list[dict[str, Any]]:
    """The long-form per-video table, one row per (model, video, dimension)."""
    return [
        row_for(
            video_identity(item, plan.run_dir),
            dimension,
            _score_record(plan.record_path(item, dimension)),
            plan.spec.vbench_mode,
        )
        for _, item, dimension in plan.scored_pairs()
    ]


def _score_record(path: Path) -> ScoreRecord | None:
    """The record a scoring worker wrote, or None when it is missing or not a record."""
    data = read_score_record(path)
    try:
        return None if data is None else ScoreRecord.from_json(data)
    except TypeError:
        return None


def write_vbench_eval_results(plan: RunPlan) -> None:
    """Per model, `eval_results/<model>_eval_results.json` in VBench's own format (for submission)."""
    from repvideo_eval.scoring.vbench_results import write_eval_results

    by_card: dict[str, list[ScoreRecord]] = {}
    for card, item, dimension in plan.scored_pairs():
        record = _score_record(plan.record_path(item, dimension))
        if record is not None:
            by_card.setdefault(card.name, []).append(record)
    for name, records in by_card.items():
        out = plan.run_dir / "eval_results" / f"{name}_eval_results.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        write_eval_results(records, out)


def evaluate(
    spec: RunSpec,
    run_dir: Path,
    resources: Any,
    *,
    device: str = "auto",
    progress: bool = True,
    vbench_cache_dir: str | None = None,
    reports: bool = True,
) -> RunOutcome:
    """Generate, score and report `spec` into `run_dir` (already validated and writable)."""
    from repvideo_eval.distributed import ray_session

    check_same_detector(spec, run_dir)
    check_same_prompt_set(spec, run_dir)
    write_json_atomic(run_metadata(spec, device), run_dir / "run.json")
    plan = RunPlan(spec, run_dir)
    failures: list[tuple[str, str]] = []
    # Start Ray once for every stage, and only when something is left to do.
    with ray_session(resources) if work_left(plan) else contextlib.nullcontext():
        generated: list[GenerationItem] = []
        for card in spec.models:
            items = plan.items_by_card[card.name]
            summary = _generate(card, items, run_dir, resources, device, progress)
            failures.extend(summary.failed)
            generated.extend(item for item in items if generation_complete(item))
        if plan.flicker_prompts and generated:
            failures.extend(
                _static_filter(
                    plan, generated, resources, device, progress, vbench_cache_dir
                ).failed
            )
        if spec.dimensions and generated:
            failures.extend(
                _score(plan, generated, resources, device, progress, vbench_cache_dir).failed
            )
    rows = collect_records(plan)
    per_video = run_dir / "per_video.csv"
    write_per_video_csv(rows, per_video)
    write_vbench_eval_results(plan)
    outcome = RunOutcome(run_dir=run_dir, per_video_csv=per_video, failures=failures)
    outcome.random_scoring_weights = any(
        str(r["weights_id"]).startswith("tiny-random") for r in rows
    )
    if reports and any(row["score"] != "" for row in rows):
        from repvideo_eval.reporting import write_reports

        paths = write_reports([run_dir], run_dir, gallery=True, plots=True)
        outcome.report_markdown = paths.markdown_text
    _write_failures(failures, run_dir)
    return outcome


def _write_failures(failures: list[tuple[str, str]], run_dir: Path) -> None:
    path = run_dir / "failures.json"
    if failures:
        write_json_atomic(
            {"failed": [{"item": key, "error": error} for key, error in failures]}, path
        )
    else:
        path.unlink(missing_ok=True)
