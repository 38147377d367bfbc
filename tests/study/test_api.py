"""The JSON API, pages and video route, in process (Starlette's TestClient drives the real app)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from repvideo_eval.study.app import create_app
from tests.study.conftest import MODEL_A, MODEL_B, rows


@pytest.fixture
def study(make_study, small_run) -> Path:
    return make_study(
        "--raters", "2", "--tasks-per-rater", "6", "--repeats", "1", "--seed", "1", run=small_run
    )


@pytest.fixture
def client(study):
    with TestClient(create_app(study)) as test_client:
        yield test_client


def tokens(study: Path) -> list[str]:
    return [t for (t,) in rows(study, "SELECT token FROM raters ORDER BY rater_id")]


def vote(client, token, task_id, choice):
    return client.post("/api/vote", json={"token": token, "task_id": task_id, "choice": choice})


def test_rater_goes_through_every_task_then_204(client, study):
    token = tokens(study)[0]
    seen = []
    while (response := client.get("/api/next", params={"token": token})).status_code == 200:
        task = response.json()
        assert {"task_id", "prompt", "criterion", "left", "right"} <= set(task)
        assert task["done"] == len(seen) and task["total"] == 7
        for side in ("left", "right"):
            assert task[side].startswith("/video/")
        assert MODEL_A not in response.text and MODEL_B not in response.text
        assert response.headers["cache-control"] == "no-store"
        answer = vote(client, token, task["task_id"], "left")
        assert answer.status_code == 200 and answer.json()["done"] == len(seen) + 1
        seen.append(task["task_id"])
    assert response.status_code == 204
    planned = rows(study, "SELECT task_id FROM tasks WHERE rater_id = 0 ORDER BY position")
    assert seen == [t for (t,) in planned], "tasks come in plan order"
    assert rows(study, "SELECT COUNT(*), MIN(choice) FROM votes") == [(7, "left")]


def test_vote_status_codes(client, study):
    first, second = tokens(study)
    task = client.get("/api/next", params={"token": first}).json()
    other = client.get("/api/next", params={"token": second}).json()
    assert vote(client, first, task["task_id"], "right").status_code == 200
    again = vote(client, first, task["task_id"], "right")
    assert again.status_code == 200 and again.json()["done"] == 1, "same vote: counted once"
    assert vote(client, first, task["task_id"], "left").status_code == 409
    assert vote(client, "not-a-token", task["task_id"], "left").status_code == 401
    assert vote(client, first, other["task_id"], "left").status_code == 404
    assert vote(client, first, "no-such-task", "left").status_code == 404
    assert vote(client, first, task["task_id"], "tie").status_code == 422, "ties not allowed"
    assert vote(client, first, task["task_id"], "up").status_code == 422
    bad_bodies = [b"{not json", b"\xff\xfe", b"[1, 2]", b'{"token": 1}', b'"left"']
    codes = [client.post("/api/vote", content=body).status_code for body in bad_bodies]
    assert codes == [400, 400, 422, 422, 422]
    assert client.post("/api/vote", content=b"x" * 5000).status_code == 413
    assert client.get("/api/next", params={"token": "nope"}).status_code == 401
    assert client.get("/api/next").status_code == 401
    assert rows(study, "SELECT task_id, rater_id, choice FROM votes") == [
        (task["task_id"], 0, "right")
    ]


def test_ties_only_when_allowed(make_study, small_run):
    study = make_study("--raters", "1", "--allow-ties", run=small_run)
    with TestClient(create_app(study)) as client:
        token = tokens(study)[0]
        task = client.get("/api/next", params={"token": token}).json()
        assert task["allow_ties"] is True
        assert vote(client, token, task["task_id"], "tie").status_code == 200
    assert rows(study, "SELECT choice FROM votes") == [("tie",)]


def test_videos_served_by_plan_id_only(client, study):
    task = client.get("/api/next", params={"token": tokens(study)[0]}).json()
    (path,) = rows(study, "SELECT path FROM videos WHERE video_id = ?", task["left"][7:])[0]
    response = client.get(task["left"])
    assert response.status_code == 200 and response.headers["content-type"] == "video/mp4"
    assert response.content == Path(path).read_bytes()
    ranged = client.get(task["left"], headers={"range": "bytes=0-9"})
    assert ranged.status_code == 206 and ranged.content == Path(path).read_bytes()[:10]
    for probe in (
        "/video/" + path,
        "/video/..%2F..%2Fetc%2Fpasswd",
        "/video/%2Fetc%2Fpasswd",
        "/static/..%2Fapp.py",
        "/static/rater.html",
        "/video/unknown",
    ):
        assert client.get(probe).status_code == 404, probe


def test_rater_page_admin_page_and_progress(client, study):
    first, _second = tokens(study)
    (admin,) = rows(study, "SELECT json_extract(value, '$') FROM meta WHERE key = 'admin_token'")[0]
    page = client.get(f"/r/{first}")
    assert page.status_code == 200 and 'id="left-video"' in page.text and "loop" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert MODEL_A not in page.text and MODEL_B not in page.text
    assert client.get("/r/nope").status_code == 404
    for name in ("rater.js", "study.css"):
        assert client.get(f"/static/{name}").status_code == 200
    task = client.get("/api/next", params={"token": first}).json()
    vote(client, first, task["task_id"], "left")
    assert client.get("/api/progress", params={"token": "nope"}).status_code == 401
    assert client.get("/admin/nope").status_code == 404
    progress = client.get("/api/progress", params={"token": admin}).json()
    assert progress["votes"] == 1 and progress["tasks"] == 14
    assert [(r["done"], r["total"]) for r in progress["raters"]] == [(1, 7), (0, 7)]
    assert progress["raters"][0]["link"].endswith(f"/r/{first}")
    admin_html = client.get(f"/admin/{admin}").text
    assert "1 of 14 judgements recorded" in admin_html and f"/r/{first}" in admin_html


def test_restart_sees_committed_votes(study):
    token = tokens(study)[0]
    with TestClient(create_app(study)) as client:
        task = client.get("/api/next", params={"token": token}).json()
        assert vote(client, token, task["task_id"], "right").status_code == 200
    with TestClient(create_app(study)) as client:
        after = client.get("/api/next", params={"token": token}).json()
        assert after["task_id"] != task["task_id"] and after["done"] == 1
        assert vote(client, token, task["task_id"], "left").status_code == 409


def test_a_vote_the_database_cannot_commit_is_503_and_not_acknowledged(client, study):
    token = tokens(study)[0]
    task = client.get("/api/next", params={"token": token}).json()
    database = sqlite3.connect(study / "study.sqlite3")
    database.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON votes BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )
    database.commit()
    refused = vote(client, token, task["task_id"], "left")
    assert refused.status_code == 503 and "disk full" in refused.json()["error"]
    assert client.get("/api/next", params={"token": token}).json()["task_id"] == task["task_id"]
    database.execute("DROP TRIGGER refuse")
    database.commit()
    database.close()
    assert vote(client, token, task["task_id"], "right").status_code == 200
    assert rows(study, "SELECT task_id, choice FROM votes") == [(task["task_id"], "right")]
