"""`--prompt-set` from the command line: a tiny GPT-enhanced run end to end, refusal to resume
under another set, and every bad input as one line with exit code 2 and nothing written."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from repvideo_eval import prompt_sets, registry
from repvideo_eval.cli.main import main
from repvideo_eval.evaluation import run_metadata, spec_fields
from repvideo_eval.prompt_sets import run_json_fields

REPO = Path(__file__).resolve().parents[2]
ENV = {
    **os.environ,
    "RAY_AUTH_MODE": "disabled",
    "RAY_USAGE_STATS_ENABLED": "0",
    "HF_HUB_OFFLINE": "1",
    "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
}


def run_subprocess(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO / "run_eval.py"), *args],
        cwd=cwd,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=900,
    )


def one_line_error(capsys, argv: list[str], *needles: str) -> str:
    code = main(argv)
    err = capsys.readouterr().err
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def snapshot(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def full_info_index() -> dict[str, int]:
    return {e["prompt_en"]: i for i, e in reversed(list(enumerate(registry.vbench_full_info())))}


#: Two prompts, one sample each, scored on temporal_flickering: a pixel formula, no scorer model.
#: (`--samples-per-prompt` drops the 25-sample static filter; the slow test below keeps it.)
SUBSET = (
    "--suite",
    "vbench/temporal_flickering",
    "--limit-prompts",
    "2",
    "--samples-per-prompt",
    "1",
    "--dimensions",
    "temporal_flickering",
)


def test_tiny_gpt_enhanced_run_then_resume_with_another_set_is_refused(
    tmp_path: Path, capsys
) -> None:
    out = tmp_path / "run"
    args = ("--model", "cogvideox-tiny", *SUBSET, "--output-dir", str(out), "--no-progress")
    done = run_subprocess(*args, "--prompt-set", "gpt-enhanced", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]

    gpt = prompt_sets.load_prompt_set("gpt-enhanced").lines
    suite = registry.vbench_suite("temporal_flickering").prompts[:2]
    index = full_info_index()
    card_hash = registry.load_card("cogvideox-tiny").card_hash
    for prompt_index, entry in enumerate(suite):
        # Named after the original prompt; the sidecar holds line i of VBench's file.
        video = out / "videos" / card_hash / f"{entry.text}-0.mp4"
        assert video.is_file()
        sidecar = json.loads((out / "sidecars" / card_hash / f"{entry.text}-0.json").read_text())
        assert sidecar["prompt_index"] == prompt_index and sidecar["prompt"] == entry.text
        assert sidecar["generation_prompt"] == gpt[index[entry.text]]
        assert sidecar["text_tokens_dropped"] > 0  # the tiny encoder's limit is 64 tokens
    assert "2 of 2 prompt(s) exceeded the text encoder's token limit" in done.stdout
    assert done.stdout.count("exceeded the text encoder's token limit") == 1

    # Scores are recorded under the original prompts; run.json and the leaderboard name the set.
    with (out / "per_video.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    assert sorted(r["prompt"] for r in rows) == sorted(e.text for e in suite)
    assert all(r["score"] and not r["error"] for r in rows)
    meta = json.loads((out / "run.json").read_text())
    assert meta["prompt_set"] == "gpt-enhanced"
    assert (
        meta["prompt_set_sha256"]
        == prompt_sets.recorded_sha256()["gpt_enhanced/all_dimension_longer.txt"]
    )
    with (out / "leaderboard.csv").open() as stream:
        measured = [r for r in csv.DictReader(stream) if r["kind"] == "measured"]
    assert [r["prompt_set"] for r in measured] == ["gpt-enhanced"]
    board = json.loads((out / "leaderboard.json").read_text())
    assert [row["settings"]["prompt_set"] for row in board["rows"]] == ["gpt-enhanced"]

    # The run id differs from the standard set's.
    from repvideo_eval.cli.main import build_parser

    def run_id(*extra: str) -> str:
        from repvideo_eval.cli.run import build_spec

        parsed = build_parser("run").parse_args(["--model", "cogvideox-tiny", *SUBSET, *extra])
        return build_spec(parsed).run_id

    assert meta["run_id"] == run_id("--prompt-set", "gpt-enhanced") != run_id()

    # Resuming the folder with the standard set: one line, exit 2, nothing written.
    before = snapshot(out)
    one_line_error(
        capsys,
        ["--model", "cogvideox-tiny", *SUBSET, "--output-dir", str(out)],
        "generated with prompt set gpt-enhanced; this run would use standard",
        "--prompt-set gpt-enhanced",
    )
    assert snapshot(out) == before


@pytest.mark.slow
def test_static_filter_under_gpt_enhanced_groups_by_the_original_prompt(tmp_path: Path) -> None:
    """VBench's flicker protocol (25 samples, static filter) on the set's videos (minutes on CPU)."""
    out = tmp_path / "run"
    args = ("--model", "cogvideox-tiny", "--suite", "vbench/temporal_flickering")
    done = run_subprocess(
        *args,
        "--limit-prompts",
        "1",
        "--prompt-set",
        "gpt-enhanced",
        "--output-dir",
        str(out),
        "--no-progress",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    prompt = registry.vbench_suite("temporal_flickering").prompts[0].text
    card_hash = registry.load_card("cogvideox-tiny").card_hash
    selection = json.loads((out / "static_filter" / card_hash / f"{prompt}.json").read_text())
    assert selection["prompt"] == prompt and len(selection["decisions"]) == 25
    with (out / "per_video.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    # Random tiny videos are rarely static, so the filter may keep none (then no record exists);
    # whatever is scored is under the original prompt and among the kept videos.
    assert {r["prompt"] for r in rows} <= {prompt}
    assert {f"{prompt}-{r['sample']}.mp4" for r in rows} <= {
        Path(p).name for p in selection["kept"]
    }


# ------------------------------------------------------------------------------- bad input


def test_unknown_set_name(capsys, tmp_path: Path) -> None:
    out = tmp_path / "out"
    argv = ["--model", "cogvideox-tiny", *SUBSET, "--prompt-set", "gpt4", "--output-dir", str(out)]
    one_line_error(capsys, argv, "unknown prompt set 'gpt4'", "gpt-enhanced, hunyuan, wan2.1")
    assert not out.exists()


def test_a_list_with_the_wrong_number_of_lines(capsys, tmp_path: Path) -> None:
    out, mine = tmp_path / "out", tmp_path / "mine.txt"
    mine.write_text("a dog\na cat\na bird\n")
    argv = ["--model", "cogvideox-tiny", *SUBSET, "--prompt-set", str(mine)]
    one_line_error(capsys, [*argv, "--output-dir", str(out)], "has 3 lines", "946")
    assert not out.exists()


def test_a_list_with_an_empty_line(capsys, tmp_path: Path) -> None:
    out, mine = tmp_path / "out", tmp_path / "mine.txt"
    lines = [f"mine: {e['prompt_en']}" for e in registry.vbench_full_info()]
    lines[9] = "  "
    mine.write_text("\n".join(lines))
    argv = ["--model", "cogvideox-tiny", *SUBSET, "--prompt-set", str(mine)]
    one_line_error(capsys, [*argv, "--output-dir", str(out)], "empty line (10)")
    assert not out.exists()


def test_a_set_on_a_suite_that_is_not_vbench(capsys, tmp_path: Path) -> None:
    out = tmp_path / "out"
    argv = ["--model", "cogvideox-tiny", "--suite", "smoke", "--prompt-set", "hunyuan"]
    one_line_error(capsys, [*argv, "--output-dir", str(out)], "applies to the VBench suites")
    assert not out.exists()


def test_a_set_file_changed_after_the_run_started(capsys, tmp_path: Path) -> None:
    from repvideo_eval.atomic import write_json_atomic
    from repvideo_eval.cli.main import build_parser
    from repvideo_eval.cli.run import build_spec

    out, mine = tmp_path / "out", tmp_path / "mine.txt"
    mine.write_text("\n".join(f"v1 {e['prompt_en']}" for e in registry.vbench_full_info()))
    argv = ["--model", "cogvideox-tiny", *SUBSET, "--prompt-set", str(mine)]
    spec = build_spec(build_parser("run").parse_args(argv))
    assert spec.prompt_set.startswith("file:") and spec.prompt_set_file == str(mine.resolve())
    out.mkdir()
    meta = run_metadata(
        {**spec_fields(spec), **run_json_fields(spec)},
        run_id=spec.run_id,
        command="run",
        device="cpu",
        videos_dir=out / "videos",
    )
    write_json_atomic(meta, out / "run.json")  # what a started run wrote
    mine.write_text("\n".join(f"v2 {e['prompt_en']}" for e in registry.vbench_full_info()))
    before = snapshot(out)
    one_line_error(
        capsys, [*argv, "--output-dir", str(out)], "prompt file with sha256", "it changed"
    )
    assert snapshot(out) == before


def test_ablate_takes_the_flag_too(capsys, tmp_path: Path) -> None:
    grid = tmp_path / "grid.yaml"
    grid.write_text('cache_window: [3]\ngates: ["off"]\n')
    argv = ["ablate", "--model", "repvideo-tiny", "--grid", str(grid), *SUBSET]
    one_line_error(
        capsys, [*argv, "--prompt-set", "nope", "--output-dir", str(tmp_path / "o")], "nope"
    )
    assert not (tmp_path / "o").exists()
