"""The detector of the four detection dimensions: chosen once, part of the run spec and id, and
a resume with another detector refused in one line before any work."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import pytest

from repvideo_eval.cli.main import main
from repvideo_eval.cli.run import add_arguments, build_spec
from repvideo_eval.scoring.detection.select import DETECTOR_ENV

ARGS = ["--model", "cogvideox-tiny", "--suite", "vbench/object_class", "--limit-prompts", "1"]


def spec_for(*extra: str):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return build_spec(parser.parse_args([*ARGS, *extra]))


def test_detector_comes_from_flag_then_environment_then_default(monkeypatch):
    monkeypatch.delenv(DETECTOR_ENV, raising=False)
    assert spec_for().detector == "grit-torch"
    monkeypatch.setenv(DETECTOR_ENV, "owlv2")
    assert spec_for().detector == "owlv2"
    assert spec_for("--detector", "grit-torch").detector == "grit-torch"


def test_detector_is_part_of_the_run_id_only_for_detection_dimensions(monkeypatch):
    monkeypatch.delenv(DETECTOR_ENV, raising=False)
    torch_spec = spec_for()
    owl_spec = dataclasses.replace(torch_spec, detector="owlv2")
    assert torch_spec.run_id != owl_spec.run_id
    quality = dataclasses.replace(torch_spec, dimensions=("temporal_flickering",))
    assert quality.run_id == dataclasses.replace(quality, detector="owlv2").run_id


@pytest.mark.parametrize(
    "recorded, needle",
    [
        ({"detector": "owlv2", "dimensions": ["object_class"]}, "--detector owlv2"),
        ({"dimensions": ["object_class"]}, "does not record which detector"),
    ],
)
def test_resuming_with_another_detector_is_refused(capsys, tmp_path: Path, recorded, needle):
    out = tmp_path / "run"
    out.mkdir()
    (out / "run.json").write_text(json.dumps(recorded))
    code = main(
        ["run", *ARGS, "--detector", "grit-torch", "--output-dir", str(out), "--no-progress"]
    )
    err = capsys.readouterr().err
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert "grit-torch" in lines[0] and needle in lines[0]
    assert sorted(p.name for p in out.iterdir()) == ["run.json"]  # nothing else written
    assert json.loads((out / "run.json").read_text()) == recorded


def test_same_detector_and_detector_free_folders_pass(tmp_path: Path):
    """The folders that may be resumed pass, and the same folder with one fact changed is refused:
    so a check that refused nothing, or everything, fails here."""
    from repvideo_eval.errors import UserError
    from repvideo_eval.evaluation import check_same_detector

    spec = spec_for("--detector", "owlv2")
    run_json = tmp_path / "run.json"
    passing = [
        {"detector": "owlv2", "dimensions": ["object_class"]},
        {"dimensions": ["temporal_flickering"]},  # scored no detection dimension
    ]
    refused = [
        {"detector": "grit-torch", "dimensions": ["object_class"]},
        {"dimensions": ["object_class"]},  # cannot say which detector scored it
    ]
    for recorded in passing:
        run_json.write_text(json.dumps(recorded))
        assert check_same_detector(spec, tmp_path) is None
        assert json.loads(run_json.read_text()) == recorded  # the check never rewrites
    for recorded in refused:
        run_json.write_text(json.dumps(recorded))
        with pytest.raises(UserError, match="detector"):
            check_same_detector(spec, tmp_path)


def test_session_and_worker_use_the_given_detector(monkeypatch):
    from repvideo_eval.scoring.session import session_detector

    monkeypatch.setenv(DETECTOR_ENV, "owlv2")
    assert session_detector(["object_class"], "grit-torch", "official") == "grit-torch"
    assert session_detector(["object_class"], None, "official") == "owlv2"
    monkeypatch.setenv(DETECTOR_ENV, "yolo")  # irrelevant without a detection dimension
    assert session_detector(["temporal_flickering"], None, "official") == "grit-torch"
