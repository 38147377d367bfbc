"""Study fixtures: run folders with real tiny mp4s for two models (synthetic records, no model run).

The runs come from the reporting tests' `build_run`, which writes exactly a run's on-disk contract
(per_video.csv, run.json, videos/); building them takes well under a second.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from repvideo_eval.cli.main import main
from tests.reporting.conftest import AWKWARD_PROMPTS, build_run, make_card

MODEL_A = "cogvideox-tiny"
MODEL_B = "repvideo-tiny"


def write_runs(folder: Path, *, prompts: int = 4, samples: int = 2, seed_offset: int = 0) -> Path:
    """One run folder holding both models' videos (paired by prompt, sample and seed)."""
    cards = [make_card(MODEL_A), make_card(MODEL_B, repvideo={"layers": [0, 1]})]
    return build_run(
        folder,
        cards,
        prompts=AWKWARD_PROMPTS[:prompts],
        samples=samples,
        videos=True,
        seed_offset=seed_offset,
    )


@pytest.fixture(scope="session")
def paired_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 prompts x 2 samples for both models (8 pairs); shared read-only by the study tests."""
    return write_runs(tmp_path_factory.mktemp("runs") / "run")


@pytest.fixture(scope="session")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2 prompts x 1 sample (2 pairs, 6 pair-criterion judgements): quick to finish by hand."""
    return write_runs(tmp_path_factory.mktemp("runs") / "small", prompts=2, samples=1)


def create(
    run_dirs: list[Path], output: Path, *extra: str, models: str = f"{MODEL_A},{MODEL_B}"
) -> int:
    """`study create` through the real CLI entry point; returns the exit code."""
    args = ["study", "create", *map(str, run_dirs), "--models", models, "--output", str(output)]
    return main([*args, *extra])


@pytest.fixture
def make_study(paired_run: Path, tmp_path: Path) -> Callable[..., Path]:
    """Create a study from `paired_run` (or `run=`) with extra CLI flags; returns its folder."""
    counter = iter(range(1000))

    def build(*extra: str, run: Path | None = None) -> Path:
        output = tmp_path / f"study{next(counter)}"
        assert create([run or paired_run], output, *extra) == 0
        return output

    return build


def rows(study_dir: Path, sql: str, *params: object) -> list[tuple]:
    """Read-only query on a study database."""
    connection = sqlite3.connect(f"file:{study_dir / 'study.sqlite3'}?mode=ro", uri=True)
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()
