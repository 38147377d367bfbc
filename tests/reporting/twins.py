"""A run folder of the tiny twins as the run command records it, with synthetic scores.

The cards and run.json come from the real CLI (`build_spec` + `evaluation.run_metadata`), so the
protocol read from them is what a real tiny run records; only the per-video scores are made up
(no model, no video), which keeps the reporting tests fast.
"""

from __future__ import annotations

import argparse
import functools
import json
from pathlib import Path
from typing import Any

from tests.reporting.conftest import build_run

DIMENSIONS = ("subject_consistency", "motion_smoothness", "aesthetic_quality")
PROMPTS = ["a dog running on the beach", "a red car on a bridge", "a boat at sunset", "a cat"]
#: subject_consistency centred on the published CogVideoX-2B value (96.78), the others far off.
CENTRES = {"subject_consistency": 0.9678, "motion_smoothness": 0.50, "aesthetic_quality": 0.40}
SPREAD = (-0.004, -0.002, 0.0, 0.002, 0.004)
PROMPT_OFFSET = (-0.01, -0.005, 0.005, 0.01)
#: What run.json records for a run made with the public leaderboard's protocol.
LEADERBOARD_RUN_META = {
    "prompt_set": "gpt-enhanced",
    "samples_per_prompt": 5,
    "scoring_weights": "official",
    "detector": "grit-torch",
}


def score(model: str, prompt_index: int, sample: int, dimension: str) -> float:
    """Symmetric spreads around the centre, so the row's score is the centre and its interval
    (over prompts) has a width."""
    return CENTRES[dimension] + PROMPT_OFFSET[prompt_index] + SPREAD[sample]


@functools.lru_cache(maxsize=2)
def _recorded(models: str) -> tuple[str, str]:
    """(cards JSON, run.json JSON without models) as the run command records them."""
    from repvideo_eval.cli import run as run_command
    from repvideo_eval.evaluation import run_metadata, spec_fields
    from repvideo_eval.prompt_sets import run_json_fields

    parser = argparse.ArgumentParser()
    run_command.add_arguments(parser)
    args = parser.parse_args(
        ["--model", models, "--suite", "smoke", "--samples-per-prompt", "5"],
    )
    spec = run_command.build_spec(args)
    meta = run_metadata(
        {**spec_fields(spec), **run_json_fields(spec)},
        run_id=spec.run_id,
        command="run",
        device="cpu",
        videos_dir=Path("videos"),
    )
    cards = [entry["card"] for entry in meta.pop("models").values()]
    return json.dumps(cards), json.dumps(meta)


def twin_run(
    run_dir: Path,
    *,
    meta: dict[str, Any] | None = None,
    vbench_mode: str = "standard",
    leaderboard_card: bool = False,
) -> Path:
    """The tiny pair's run folder (or, with `leaderboard_card`, cogvideox-2b's card and official
    scorer ids) with `meta` merged into run.json."""
    cards_json, meta_json = _recorded("cogvideox-2b" if leaderboard_card else "tiny")
    cards = json.loads(cards_json)
    build_run(
        run_dir,
        cards,
        dimensions=DIMENSIONS,
        prompts=PROMPTS,
        samples=5,
        score=score,
        vbench_mode=vbench_mode,
        weights_id="vbench-official" if leaderboard_card else "tiny-random:seed=0",
    )
    recorded = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    recorded.update({**json.loads(meta_json), **(meta or {})})
    recorded["run_id"] = run_dir.name
    recorded["dimensions"] = list(DIMENSIONS)
    (run_dir / "run.json").write_text(json.dumps(recorded, indent=2), encoding="utf-8")
    return run_dir
