"""One evaluation run, end to end: generate every video, score it, write records and reports.

The run folder is the unit of resumption: every stage skips what is already complete in it, so
rerunning the same command after a crash finishes the remaining work and nothing else.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from repvideo_eval.atomic import write_json_atomic
from repvideo_eval.config import ModelCard, RunSpec
from repvideo_eval.errors import UserError
from repvideo_eval.generation.items import GenerationItem, generation_complete
from repvideo_eval.generation.provenance import package_versions
from repvideo_eval.planning import RunPlan, ScoringSettings, read_score_record, video_identity
from repvideo_eval.prompt_sets import check_same_prompt_set, run_json_fields
from repvideo_eval.run_layout import RunLayout
from repvideo_eval.scoring.decode import DEFAULT_MAX_VIDEO_PIXELS
from repvideo_eval.scoring.per_video import row_for, write_per_video_csv
from repvideo_eval.scoring.records import ScoreRecord
from repvideo_eval.stages import (
    ScoringWorker,
    StaticFilterWorker,
    filter_complete,
    scoring_complete,
)
from repvideo_eval.vocabulary import (
    DEFAULT_DEVICE,
    DETECTION_DIMENSIONS,
    is_random_weights_id,
    weights_tag,
)

if TYPE_CHECKING:
    from repvideo_eval.distributed import StageSummary

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
    if plan.generates and not all(generation_complete(item) for item in items):
        return True
    if not all(filter_complete(f) for f in plan.filter_items(items)):
        return True
    return any(
        not plan.record_path(item, dimension).is_file() for item, dimension in plan.scored_pairs()
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


def check_same_detector(spec: RunSpec | ScoringSettings, run_dir: Path) -> None:
    """Refuse to resume a run folder whose detection scores came from another detector.

    A folder's `run.json` names its detector; records from two detectors must never be mixed.
    Folders from before the detector was recorded cannot say, so they are refused as well
    (unless they scored no detection dimension).
    """
    path = RunLayout(run_dir).run_json
    detector = spec.detector
    if not set(spec.dimensions) & set(DETECTION_DIMENSIONS) or not path.is_file():
        return
    try:
        previous = json.loads(path.read_text())
        recorded, dimensions = previous.get("detector"), previous.get("dimensions") or []
    except (OSError, ValueError, AttributeError):
        return  # an unreadable run.json is rewritten; its records carry their own detector
    if recorded == detector or not set(dimensions) & set(DETECTION_DIMENSIONS):
        return
    if recorded is None:
        raise UserError(
            f"run folder {run_dir} does not record which detector scored it; this run would use {detector}",
            "Choose another --output-dir.",
        )
    raise UserError(
        f"run folder {run_dir} was scored with detector {recorded}; this run would use {detector}",
        f"Pass --detector {recorded} to resume it, or choose another --output-dir.",
    )


def spec_fields(spec: RunSpec | None = None, **given: Any) -> dict[str, Any]:
    """Every field of `RunSpec`, by name: from `spec`, else from `given`, else the field's default.

    `run` passes its spec; `score` (which has no model cards) passes what it knows and gets the
    defaults of the rest, so a field added to `RunSpec` reaches both commands' run.json.
    """
    values: dict[str, Any] = {}
    for spec_field in dataclasses.fields(RunSpec):
        if spec is not None:
            values[spec_field.name] = getattr(spec, spec_field.name)
        elif spec_field.name in given:
            values[spec_field.name] = given[spec_field.name]
        elif spec_field.default is not dataclasses.MISSING:
            values[spec_field.name] = spec_field.default
        else:
            raise TypeError(f"spec_fields needs {spec_field.name}")
    return values


def _plain(value: Any) -> Any:
    """A spec value as JSON: tuples as lists, dataclasses as dicts."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def run_metadata(
    fields: dict[str, Any], *, run_id: str, command: str, device: str, videos_dir: Path
) -> dict[str, Any]:
    """The one run.json schema, for `run` and `score` alike: every RunSpec field plus where,
    when, with what and by which command the run was made."""
    meta: dict[str, Any] = {
        "run_id": run_id,
        "command": command,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    for name, value in fields.items():
        if name == "models":
            meta["models"] = {
                card.name: {"card_hash": card.card_hash, "card": card.to_dict()} for card in value
            }
        elif name == "suite":
            meta["suite"] = value.name
            meta["samples_per_prompt"] = value.samples_per_prompt
            meta["num_prompts"] = len(value.prompts)
        elif name == "detector":  # meaningful only when a detection dimension is scored
            uses = set(fields["dimensions"]) & set(DETECTION_DIMENSIONS)
            meta["detector"] = value if uses else None
        else:
            meta[name] = _plain(value)
    meta["versions"] = package_versions()
    meta["device"] = device if device != "auto" else "auto (CUDA on workers that have it, else CPU)"
    meta["videos_dir"] = str(Path(videos_dir).resolve())
    return meta


def write_run_json(
    plan: RunPlan,
    fields: dict[str, Any],
    *,
    run_id: str,
    command: str,
    device: str,
    videos_dir: Path,
) -> None:
    """The one writer of run.json; refuses first to mix detectors in one folder."""
    layout = plan.layout
    check_same_detector(plan.settings, layout.root)
    meta = run_metadata(
        fields, run_id=run_id, command=command, device=device, videos_dir=videos_dir
    )
    write_json_atomic(meta, layout.run_json)


def _generate(
    models: tuple[ModelCard, ...],
    plan: RunPlan,
    resources: Any,
    device: str,
    progress: bool,
) -> StageSummary:
    """One generation stage over every model with work left, items grouped by model: each worker
    process loads the models one after the other (generation.worker.RunGenerator)."""
    from repvideo_eval.distributed import run_stage
    from repvideo_eval.generation.worker import RunGenerator

    items = [item for card in models for item in plan.items_by_card[card.name]]
    pending = [
        card
        for card in models
        if not all(generation_complete(item) for item in plan.items_by_card[card.name])
    ]
    return run_stage(
        f"generate {models[0].name}" if len(models) == 1 else f"generate ({len(models)} models)",
        items,
        RunGenerator,
        {"cards": [card.to_dict() for card in pending or models], "device": device},
        manifest_path=plan.layout.manifest("generate"),
        resources=resources,
        is_complete=generation_complete,
        progress=progress,
    )


def score_videos(
    plan: RunPlan,
    generated: list[GenerationItem],
    resources: Any,
    *,
    device: str,
    progress: bool,
    vbench_cache_dir: str | None,
    max_video_pixels: int = DEFAULT_MAX_VIDEO_PIXELS,
) -> list[tuple[str, str]]:
    """The scoring half of a run, also all of `score`: VBench's static filter where the flicker
    protocol applies, then the scoring stage, both on Ray workers that skip finished items.
    Returns the items that failed."""
    if not generated:
        return []
    settings = plan.settings
    common = {
        "device": device,
        "scoring_weights": settings.scoring_weights,
        "cache_dir": vbench_cache_dir,
        "vbench_mode": settings.vbench_mode,
        "clip_dir": str(plan.clip_dir),
        "max_video_pixels": max_video_pixels,
    }
    tag = f"{weights_tag(settings.scoring_weights)}-{settings.vbench_mode}"
    failures: list[tuple[str, str]] = []
    if plan.flicker_prompts:
        failures += _stage(
            plan, "static filter", plan.filter_items(generated), StaticFilterWorker, common,
            f"static-filter-{settings.vbench_mode}", filter_complete, resources, progress,
        )  # fmt: skip
    if settings.dimensions:
        kwargs = {**common, "dimensions": list(settings.dimensions), "detector": settings.detector}
        failures += _stage(
            plan, "score", plan.scoring_items(generated), ScoringWorker, kwargs,
            f"score-{tag}", scoring_complete, resources, progress,
        )  # fmt: skip
    return failures


def _stage(
    plan: RunPlan,
    stage: str,
    items: list[Any],
    worker: type,
    kwargs: dict[str, Any],
    manifest: str,
    is_complete: Any,
    resources: Any,
    progress: bool,
) -> list[tuple[str, str]]:
    from repvideo_eval.distributed import run_stage

    summary = run_stage(
        stage,
        items,
        worker,
        kwargs,
        manifest_path=plan.layout.manifest(manifest),
        resources=resources,
        is_complete=is_complete,
        progress=progress,
    )
    return list(summary.failed)


def scored_records(plan: RunPlan) -> list[tuple[GenerationItem, str, ScoreRecord | None]]:
    """(video, dimension, its record or None when it is not on disk) for every score of the plan."""
    return [
        (item, dimension, _score_record(plan.record_path(item, dimension)))
        for item, dimension in plan.scored_pairs()
    ]


def collect_records(plan: RunPlan) -> list[dict[str, Any]]:
    """The long-form per-video table, one row per (model, video, dimension)."""
    return [
        row_for(video_identity(item, plan.run_dir), dimension, record, plan.settings.vbench_mode)
        for item, dimension, record in scored_records(plan)
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
    for item, _, record in scored_records(plan):
        if record is not None:
            by_card.setdefault(item.card_name, []).append(record)
    for name, records in by_card.items():
        out = plan.layout.eval_results(name)
        out.parent.mkdir(parents=True, exist_ok=True)
        write_eval_results(records, out)


def unscorable_videos(plan: RunPlan) -> list[tuple[str, str]]:
    """Videos whose every record is an error (a file that cannot be decoded, say): failed items,
    as a video that could not be generated is."""
    errors: dict[str, list[str | None]] = {}
    for item, _, record in scored_records(plan):
        if record is not None:
            errors.setdefault(item.key, []).append(record.error)
    return [
        (key, str(found[0]))
        for key, found in errors.items()
        if found and all(error is not None for error in found)
    ]


def finish_run(plan: RunPlan, failures: list[tuple[str, str]], *, reports: bool) -> RunOutcome:
    """per_video.csv, VBench's eval_results, the reports and failures.json, from the records on
    disk: the same outputs whichever command scored the folder."""
    rows = collect_records(plan)
    layout = plan.layout
    write_per_video_csv(rows, layout.per_video_csv)
    write_vbench_eval_results(plan)
    failures = failures + [f for f in unscorable_videos(plan) if f[0] not in dict(failures)]
    outcome = RunOutcome(run_dir=layout.root, per_video_csv=layout.per_video_csv, failures=failures)
    outcome.random_scoring_weights = any(is_random_weights_id(r["weights_id"]) for r in rows)
    if reports and any(row["score"] != "" for row in rows):
        from repvideo_eval.reporting import write_reports

        paths = write_reports([layout.root], layout.root, gallery=True, plots=True)
        outcome.report_markdown = paths.markdown_text
    _write_failures(failures, layout)
    return outcome


def evaluate(
    spec: RunSpec,
    run_dir: Path,
    resources: Any,
    *,
    device: str = DEFAULT_DEVICE,
    progress: bool = True,
    vbench_cache_dir: str | None = None,
    max_video_pixels: int = DEFAULT_MAX_VIDEO_PIXELS,
    reports: bool = True,
) -> RunOutcome:
    """Generate, score and report `spec` into `run_dir` (already validated and writable)."""
    from repvideo_eval.distributed import ray_session

    check_same_prompt_set(spec, run_dir)
    plan = RunPlan.of_spec(spec, run_dir)
    write_run_json(
        plan, {**spec_fields(spec), **run_json_fields(spec)}, run_id=spec.run_id, command="run",
        device=device, videos_dir=plan.layout.videos_root,
    )  # fmt: skip
    failures: list[tuple[str, str]] = []
    # Start Ray once for every stage, and only when something is left to do.
    with ray_session(resources) if work_left(plan) else contextlib.nullcontext():
        failures.extend(_generate(spec.models, plan, resources, device, progress).failed)
        generated = [
            item
            for card in spec.models
            for item in plan.items_by_card[card.name]
            if generation_complete(item)
        ]
        failures += score_videos(
            plan, generated, resources, device=device, progress=progress,
            vbench_cache_dir=vbench_cache_dir, max_video_pixels=max_video_pixels,
        )  # fmt: skip
    return finish_run(plan, failures, reports=reports)


def _write_failures(failures: list[tuple[str, str]], layout: RunLayout) -> None:
    if failures:
        write_json_atomic(
            {"failed": [{"item": key, "error": error} for key, error in failures]},
            layout.failures_json,
        )
    else:
        layout.failures_json.unlink(missing_ok=True)
