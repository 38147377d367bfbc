"""The report reads what `study create` plans and the API records: votes cast through the real app
(sides chosen to favour a known model) come back in study.json as exactly those counts."""

from __future__ import annotations

import json
import random
from collections import Counter

from starlette.testclient import TestClient

from repvideo_eval.cli.main import main
from repvideo_eval.study.app import create_app
from tests.study.conftest import MODEL_A, MODEL_B, rows


def test_votes_through_the_api_are_reported_exactly(make_study, capsys) -> None:
    study = make_study("--raters", "3", "--repeats", "2", "--allow-ties", "--seed", "4")
    left_model = dict(
        rows(
            study,
            "SELECT t.task_id, v.model FROM tasks t JOIN videos v ON v.video_id = t.left_video",
        )
    )
    task_info = {
        task_id: (criterion, repeat is not None)
        for task_id, criterion, repeat in rows(
            study, "SELECT task_id, criterion, repeat_of FROM tasks"
        )
    }
    tokens = [t for (t,) in rows(study, "SELECT token FROM raters ORDER BY rater_id")]
    rng = random.Random(0)
    cast: Counter[tuple[str, str]] = Counter()  # (criterion, winner) over primary votes
    with TestClient(create_app(study)) as client:
        for token in tokens:
            while (task := client.get("/api/next", params={"token": token})).status_code == 200:
                task_id = task.json()["task_id"]
                u = rng.random()
                winner = MODEL_B if u < 0.7 else (MODEL_A if u < 0.9 else "tie")
                side = (
                    "tie"
                    if winner == "tie"
                    else ("left" if left_model[task_id] == winner else "right")
                )
                body = {"token": token, "task_id": task_id, "choice": side}
                assert client.post("/api/vote", json=body).status_code == 200
                criterion, is_repeat = task_info[task_id]
                if not is_repeat:
                    cast[criterion, winner] += 1
    assert main(["study", "report", str(study)]) == 0
    assert "wrote" in capsys.readouterr().out
    doc = json.loads((study / "study.json").read_text(encoding="utf-8"))
    assert doc["complete"] and doc["votes"] == len(task_info) and doc["raters"] == 3
    assert doc["warnings"]  # the fixture's runs use tiny-random cards
    for criterion in doc["criteria"]:
        result = doc["results"][criterion]
        assert result["wins"] == {
            MODEL_A: cast[criterion, MODEL_A],
            MODEL_B: cast[criterion, MODEL_B],
        }
        assert result["ties"] == cast[criterion, "tie"]
        decisive = cast[criterion, MODEL_A] + cast[criterion, MODEL_B]
        assert result["win_ratio"][MODEL_B]["value"] == 100 * cast[criterion, MODEL_B] / decisive
        assert result["n_raters"] == 3
    assert doc["results"]["overall"]["self_consistency"]["repeats"] == 3 * 2
    assert sum(doc["results"]["overall"]["wins"].values()) + doc["results"]["overall"][
        "ties"
    ] == sum(cast.values())
