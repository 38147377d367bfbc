"""Only videos inside the run folder become study videos, and the server serves only those.

A crafted `per_video.csv` (an absolute path, a `..` path, a symlink out of the run) is refused by
`study create` with one line; a crafted or tampered database is refused by `study serve` before
it answers anything.
"""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from repvideo_eval.cli.main import main
from repvideo_eval.errors import UserError
from repvideo_eval.study.app import create_app
from tests.study.conftest import MODEL_A, create, rows, write_runs


def set_video(run: Path, model: str, value: str) -> str:
    """Point the first video of `model` in per_video.csv (all its rows) at `value`; its prompt."""
    path = run / "per_video.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        records = list(csv.DictReader(handle))
    target = next(r["video"] for r in records if r["model"] == model)
    prompt = next(r["prompt"] for r in records if r["video"] == target)
    for record in records:
        if record["video"] == target:
            record["video"] = value
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)
    return prompt


@pytest.fixture
def run_and_secret(tmp_path) -> tuple[Path, Path]:
    run = write_runs(tmp_path / "run", prompts=2, samples=1)
    secret = tmp_path / "outside" / "secret.mp4"
    secret.parent.mkdir()
    secret.write_bytes(b"not for raters")
    return run, secret


@pytest.mark.parametrize("kind", ["absolute", "dotdot", "symlink"])
def test_create_refuses_a_video_outside_the_run_folder(run_and_secret, tmp_path, capsys, kind):
    run, secret = run_and_secret
    if kind == "absolute":
        value = str(secret)
    elif kind == "dotdot":
        value = "../outside/secret.mp4"
    else:
        (run / "videos" / "link.mp4").symlink_to(secret)
        value = "videos/link.mp4"
    prompt = set_video(run, MODEL_A, value)
    output = tmp_path / "study"
    assert create([run], output) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err
    assert "outside the run folder" in err and repr(value) in err
    assert f"model {MODEL_A}" in err and repr(prompt) in err, "names the row"
    assert "per_video.csv" in err
    assert not output.exists(), "nothing written"


def test_a_symlink_that_stays_inside_the_run_is_accepted(run_and_secret, tmp_path):
    run, _secret = run_and_secret
    inside = next((run / "videos").glob(f"{MODEL_A}-*/*.mp4"))
    (run / "videos" / "link.mp4").symlink_to(inside)
    set_video(run, MODEL_A, "videos/link.mp4")
    assert create([run], tmp_path / "study") == 0
    assert (str(inside.resolve()),) in rows(tmp_path / "study", "SELECT path FROM videos")


@pytest.mark.timeout(120)  # a server that wrongly starts would otherwise serve forever
@pytest.mark.parametrize("tamper", ["database", "symlink swapped in after create"])
def test_serve_refuses_a_plan_that_lists_a_file_outside_its_runs(
    run_and_secret, tmp_path, capsys, tamper
):
    run, secret = run_and_secret
    study = tmp_path / "study"
    assert create([run], study) == 0
    (video_id, path) = rows(study, "SELECT video_id, path FROM videos ORDER BY video_id")[0]
    if tamper == "database":
        connection = sqlite3.connect(study / "study.sqlite3")
        connection.execute("UPDATE videos SET path = ? WHERE video_id = ?", (str(secret), video_id))
        connection.commit()
        connection.close()
    else:
        Path(path).unlink()
        Path(path).symlink_to(secret)
    with pytest.raises(UserError, match="outside"):
        create_app(study)
    capsys.readouterr()
    assert main(["study", "serve", str(study), "--port", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "outside" in err
    assert secret.read_bytes() == b"not for raters"


def test_served_bytes_are_the_planned_files_only(run_and_secret, tmp_path):
    run, _secret = run_and_secret
    study = tmp_path / "study"
    assert create([run], study) == 0
    planned = dict(rows(study, "SELECT video_id, path FROM videos"))
    with TestClient(create_app(study)) as client:
        for video_id, path in planned.items():
            assert client.get(f"/video/{video_id}").content == Path(path).read_bytes()
        for probe in ("/video/" + str(run / "per_video.csv"), "/video/..%2Frun.json"):
            assert client.get(probe).status_code == 404
