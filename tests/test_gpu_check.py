"""benchmarks/gpu_check.py runs on this CPU, so its first GPU run is not its first run."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "gpu_check.py"


def _gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_check"] = module
    spec.loader.exec_module(module)
    return module


def _report(folder: Path) -> str:
    (report,) = folder.glob("gpu-check-*.md")
    return report.read_text()


def test_harness_section_writes_a_report(tmp_path: Path) -> None:
    code = _gpu_check().main(
        ["--device", "cpu", "--sections", "harness", "--rounds", "1", "--out", str(tmp_path)]
    )
    text = _report(tmp_path)
    assert code == 0, text
    assert "## Harness vs a bare diffusers pipeline call" in text
    assert "| cogvideox-tiny | 2 | 1 |" in text and '"harness_over_bare"' in text
    assert "FAILED" not in text


def test_a_failing_section_is_reported_and_sets_the_exit_code(tmp_path: Path, monkeypatch) -> None:
    module = _gpu_check()

    def broken(ctx):
        raise RuntimeError("boom")

    sections = tuple((k, t, broken if k == "tiny" else f) for k, t, f in module.SECTIONS)
    monkeypatch.setattr(module, "SECTIONS", sections)
    code = module.main(["--device", "cpu", "--sections", "tiny,memory", "--out", str(tmp_path)])
    text = _report(tmp_path)
    assert code == 1
    assert "FAILED" in text and "boom" in text
    assert "skipped: needs the full-size pipeline" in text


@pytest.mark.slow
def test_make_gpu_check_cpu_runs_every_section(tmp_path: Path) -> None:
    """What `make gpu-check-cpu` runs (scoring kept to one small video)."""
    code = _gpu_check().main(
        ["--device", "cpu", "--out", str(tmp_path), "--scoring-args"]
        + ["--videos 1 --frames 8 --dimensions subject_consistency"]
    )
    text = _report(tmp_path)
    assert code == 0, text
    for title in ("Tiny twins", "eager", "compiled", "Harness", "Peak memory", "Scoring"):
        assert "## " in text and title in text
    assert "skipped" not in text.split("## Peak memory")[0]
