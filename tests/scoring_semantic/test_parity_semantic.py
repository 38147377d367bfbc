"""Per-video parity with vbench 0.1.5's OWN code for the semantic dimensions that can run here.

vbench runs in a subprocess per dimension through `scripts/vbench_reference_runner.py`
(`compute_<dimension>` with `init_submodules(local=True)`), on random weights in the official
formats (`build_semantic_fixture.py`), offline (socket connect raises; failing wget/git/curl/unzip
stubs first on PATH). appearance_style, temporal_style and overall_consistency run in the project
venv; human_action runs in the reference venv (numpy<2) made by scripts/vbench_reference_env.sh,
which the fixture creates when missing (PyPI + the local torch wheels). Bound: 1e-4 absolute.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from scoring.synthetic_videos import render_frames, write_video

from repvideo_eval.scoring import ScoringSession, VideoToScore

from .build_semantic_fixture import CONFIDENT_ACTION, DONE_MARKER

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
TOLERANCE = 1e-4
CACHE = Path(
    os.environ.get("REPVIDEO_EVAL_SEMANTIC_PARITY_CACHE", "/tmp/repvideo-eval-semantic-fixture")
)
REFERENCE_VENV = Path(
    os.environ.get("REPVIDEO_EVAL_VBENCH_REF_VENV", REPO_ROOT / ".venv-vbench-ref")
)


def _packaged_prompt(dimension: str, contains: str = "") -> tuple[str, dict]:
    import vbench

    entries = json.loads((Path(vbench.__file__).parent / "VBench_full_info.json").read_text())
    for entry in entries:
        if dimension in entry["dimension"] and contains in entry["prompt_en"]:
            aux = entry.get("auxiliary_info", {})
            return entry["prompt_en"], ({dimension: aux[dimension]} if dimension in aux else {})
    raise LookupError(dimension)


@pytest.fixture(scope="module")
def semantic_cache() -> Path:
    if not (CACHE / DONE_MARKER).exists():
        subprocess.run(
            [sys.executable, str(Path(__file__).parent / "build_semantic_fixture.py"), str(CACHE)],
            cwd=REPO_ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return CACHE


@pytest.fixture(scope="module")
def offline_env(tmp_path_factory, semantic_cache) -> dict:
    stubs = tmp_path_factory.mktemp("offline-bin")
    for tool in ("wget", "git", "curl", "unzip"):
        (stubs / tool).write_text(f"#!/bin/sh\necho 'blocked: {tool}' >&2\nexit 1\n")
        (stubs / tool).chmod(0o755)
    return {
        **os.environ,
        "VBENCH_CACHE_DIR": str(semantic_cache),
        "PATH": f"{stubs}{os.pathsep}{os.environ['PATH']}",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }


@pytest.fixture(scope="module")
def reference_python() -> str:
    python = REFERENCE_VENV / "bin" / "python"
    if not (REFERENCE_VENV / ".vbench-reference-ready").exists():
        subprocess.run(
            ["bash", str(REPO_ROOT / "scripts" / "vbench_reference_env.sh"), str(REFERENCE_VENV)],
            cwd=REPO_ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return str(python)


def run_reference(
    python: str, env: dict, dimension: str, spec: list[dict], work: Path
) -> dict[str, dict]:
    spec_path, out_path = work / f"{dimension}-spec.json", work / f"{dimension}-out.json"
    spec_path.write_text(json.dumps(spec))
    proc = subprocess.run(
        [
            python,
            str(REPO_ROOT / "scripts" / "vbench_reference_runner.py"),
            dimension,
            str(spec_path),
            str(out_path),
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, f"vbench {dimension} failed:\n{proc.stderr[-3000:]}"
    assert "blocked:" not in proc.stderr, "vbench tried to download something"
    return {row["video"]: row for row in json.loads(out_path.read_text())}


def score_ours(dimension: str, cache: Path, spec: list[dict]):
    session = ScoringSession([dimension], scoring_weights="local", cache_dir=cache)
    records = {}
    for row in spec:
        (record,) = session.score(
            VideoToScore(
                Path(row["video"]), prompt=row["prompt"], auxiliary_info=row["auxiliary_info"]
            )
        )
        assert record.error is None, record.error
        records[row["video"]] = record
    return records


def _videos(
    folder: Path, prompt: str, kinds=(("square", 21, 160, 256), ("pan", 9, 120, 200))
) -> list[Path]:
    return [
        write_video(folder / f"{prompt}-{i}.mp4", render_frames(kind, t, h, w, seed=20 + i))
        for i, (kind, t, h, w) in enumerate(kinds)
    ]


@pytest.mark.parametrize(
    "dimension, contains",
    [
        ("appearance_style", "Van Gogh style"),
        ("temporal_style", ""),
        ("overall_consistency", ""),
    ],
)
def test_clip_and_viclip_dimensions_match_vbench(
    dimension, contains, semantic_cache, offline_env, tmp_path
):
    prompt, aux = _packaged_prompt(dimension, contains)
    spec = [
        {"video": str(v), "prompt": prompt, "auxiliary_info": aux}
        for v in _videos(tmp_path, prompt)
    ]
    reference = run_reference(sys.executable, offline_env, dimension, spec, tmp_path)
    ours = score_ours(dimension, semantic_cache, spec)
    assert set(ours) == set(reference)
    for video, record in ours.items():
        assert record.score == pytest.approx(reference[video]["value"], abs=TOLERANCE), video
        if dimension == "appearance_style":
            assert record.details["frame_results"] == pytest.approx(
                reference[video]["frame_results"], abs=TOLERANCE
            )
            assert record.aggregation_weight == len(reference[video]["frame_results"])
            assert record.details["logit_scale_exp"] == pytest.approx(
                100.03, abs=0.01
            )  # ln(100) stored in fp16
    assert len({round(r.score, 6) for r in ours.values()}) == len(ours)  # the videos are told apart


def test_human_action_matches_vbench_in_the_reference_venv(
    semantic_cache, offline_env, reference_python, tmp_path
):
    """Two videos: the fixture's confident action (correct) and another action (not correct)."""
    prompts = [f"A person is {CONFIDENT_ACTION}", "A person is bowling"]
    spec = []
    for prompt, kind in zip(prompts, (("square", 21, 240, 320), ("pan", 12, 224, 256))):
        (video,) = _videos(tmp_path, prompt, kinds=(kind,))
        spec.append({"video": str(video), "prompt": prompt, "auxiliary_info": {}})
    reference = run_reference(reference_python, offline_env, "human_action", spec, tmp_path)
    ours = score_ours("human_action", semantic_cache, spec)
    from repvideo_eval.scoring.semantic_models.umt import kinetics_categories

    names = kinetics_categories()
    for row, expected in zip(spec, (1.0, 0.0)):
        record, ref = ours[row["video"]], reference[row["video"]]
        assert record.score == ref["value"] == expected
        assert [name for name, _ in record.details["top5"]] == [names[i] for i in ref["top_index"]]
        assert [p for _, p in record.details["top5"]] == pytest.approx(
            [round(p, 4) for p in ref["top_probs"]], abs=TOLERANCE
        )
