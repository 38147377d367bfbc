"""Every user mistake: one line naming the problem and the fix, exit code 2, nothing written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from repvideo_eval import registry
from repvideo_eval.cli.main import main
from repvideo_eval.errors import UserError
from repvideo_eval.generation.preflight import check_model_can_run

REPO = Path(__file__).resolve().parents[2]


def run_cli(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.err


def assert_one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_unknown_model(capsys, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, err = run_cli(capsys, "--model", "nope", "--suite", "smoke", "--output-dir", str(out))
    assert_one_line_error(code, err, "unknown model 'nope'", "cogvideox-tiny")
    assert not out.exists()


def test_unknown_suite(capsys, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, err = run_cli(
        capsys, "--model", "cogvideox-tiny", "--suite", "no-such-suite", "--output-dir", str(out)
    )
    assert_one_line_error(code, err, "unknown suite", "one prompt per line")
    assert not out.exists()


def test_unknown_dimension(capsys, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, err = run_cli(
        capsys, "--model", "cogvideox-tiny", "--dimensions", "warp_factor", "--output-dir", str(out)
    )
    assert_one_line_error(code, err, "Unknown dimension(s): warp_factor", "Valid dimensions:")
    assert not out.exists()


def test_malformed_card_file(capsys, tmp_path: Path) -> None:
    card = tmp_path / "bad.yaml"
    card.write_text("name: bad\nfamily: cogvideox\nsource: [unclosed\n")
    code, err = run_cli(capsys, "--model", str(card), "--output-dir", str(tmp_path / "out"))
    assert_one_line_error(code, err, "not valid YAML", "line")
    assert not (tmp_path / "out").exists()


def test_incomplete_card_file(capsys, tmp_path: Path) -> None:
    card = tmp_path / "incomplete.yaml"
    card.write_text(
        "name: incomplete\nfamily: cogvideox\nsource: tiny\ntiny_seed: 0\nsampler: tiny\n"
    )
    code, err = run_cli(capsys, "--model", str(card), "--output-dir", str(tmp_path / "out"))
    assert_one_line_error(code, err, "incomplete", "weights", "dtype")
    assert not (tmp_path / "out").exists()


def test_empty_suite(capsys, tmp_path: Path) -> None:
    suite = tmp_path / "empty.txt"
    suite.write_text("\n\n")
    code, err = run_cli(
        capsys,
        "--model",
        "cogvideox-tiny",
        "--suite",
        str(suite),
        "--output-dir",
        str(tmp_path / "out"),
    )
    assert_one_line_error(code, err, "has no prompts", "Add at least one prompt")
    assert not (tmp_path / "out").exists()


def test_output_folder_that_cannot_be_written(capsys, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code, err = run_cli(capsys, "--model", "cogvideox-tiny", "--output-dir", str(blocker / "run"))
    assert_one_line_error(code, err, "cannot be written", "--output-dir")
    assert blocker.read_text() == "not a folder"


def test_real_model_without_cuda_stops_before_any_work(capsys, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, err = run_cli(
        capsys, "--model", "repvideo-2b", "--output-dir", str(out), "--device", "cuda"
    )
    assert_one_line_error(code, err, "needs a CUDA GPU", "--model repvideo-tiny")
    assert not out.exists()
    code, err = run_cli(
        capsys, "--model", "cogvideox-2b", "--output-dir", str(out), "--device", "cpu"
    )
    assert_one_line_error(code, err, "not a CUDA device", "--model cogvideox-tiny")


def test_real_model_whose_weights_are_unreachable(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-hf-home"))
    with pytest.raises(UserError) as caught:
        check_model_can_run(registry.load_card("cogvideox-2b"), "cuda", cuda_available=True)
    message = str(caught.value)
    assert (
        "THUDM/CogVideoX-2b" in message
        and "huggingface-cli download" in message
        and "cogvideox-tiny" in message
    )
    # A local folder counts as available weights.
    local = tmp_path / "weights"
    local.mkdir()
    card = registry.card_from_dict(
        {**registry.load_card("cogvideox-2b").to_dict(), "weights": str(local)}
    )
    check_model_can_run(card, "cuda", cuda_available=True)


def test_no_traceback_from_the_real_entry_point(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "run_eval.py"), "--model", "nope"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    assert "unknown model" in result.stderr
    assert list(tmp_path.iterdir()) == []
