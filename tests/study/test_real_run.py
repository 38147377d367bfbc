"""A study from a real run: the tiny CogVideoX pair generates the smoke suite, then create ->
vote through the API -> report. Slow (generation, Ray): `make test-slow`."""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from repvideo_eval.cli.main import main
from repvideo_eval.study.app import create_app
from tests.study.conftest import MODEL_A, MODEL_B, create, rows


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_study_from_a_tiny_smoke_run(tmp_path):
    run = tmp_path / "run"
    generate = ["--model", f"{MODEL_A},{MODEL_B}", "--suite", "smoke", "--limit-prompts", "2"]
    generate += ["--dimensions", "subject_consistency", "--no-progress", "--output-dir", str(run)]
    assert main(generate) == 0
    study = tmp_path / "study"
    assert create([run], study, "--raters", "2", "--repeats", "1") == 0
    assert rows(study, "SELECT COUNT(*) FROM pairs") == [(2,)]
    # Every rater prefers model B (RepVideo) on every task: the report must say 100 % for B.
    side_of_b = dict(
        rows(
            study,
            "SELECT t.task_id, CASE WHEN v.model = ? THEN 'left' ELSE 'right' END "
            "FROM tasks t JOIN videos v ON v.video_id = t.left_video",
            MODEL_B,
        )
    )
    with TestClient(create_app(study)) as client:
        for (token,) in rows(study, "SELECT token FROM raters"):
            while (response := client.get("/api/next", params={"token": token})).status_code == 200:
                task_id = response.json()["task_id"]
                body = {"token": token, "task_id": task_id, "choice": side_of_b[task_id]}
                assert client.post("/api/vote", json=body).status_code == 200
            assert response.status_code == 204
    assert main(["study", "report", str(study)]) == 0
    report = json.loads((study / "study.json").read_text())
    assert report["complete"] is True and report["votes"] == report["tasks"] == 14
    for criterion in ("spatial_appearance", "temporal_consistency", "video_text_alignment"):
        result = report["results"][criterion]
        assert result["win_ratio"][MODEL_B]["value"] == 100.0
        assert (
            result["self_consistency"]["rate"] == 100.0
            or result["self_consistency"]["repeats"] == 0
        )
    assert report["results"]["overall"]["win_ratio"][MODEL_A]["value"] == 0.0
