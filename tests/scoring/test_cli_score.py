"""The `score` and `fetch-weights` CLI modules (called through add_arguments/execute)."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import pytest

from repvideo_eval.cli import fetch_weights, score
from repvideo_eval.errors import UserError

from .synthetic_videos import render_frames, write_video


@pytest.fixture(autouse=True)
def _one_ray(shared_ray):
    """`score` runs on Ray workers; the module's calls share one local Ray."""


def _parse(module, argv):
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)
    return parser.parse_args(argv)


def _rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_standard_mode_scores_each_prompt_on_its_tagged_dimensions(tmp_path, capsys):
    videos = tmp_path / "videos"
    write_video(videos / "a person swimming in ocean-0.mp4", render_frames("square", 9, 32, 32))
    write_video(videos / "In a still frame, a stop sign-1.mp4", render_frames("static", 9, 32, 32))
    out = tmp_path / "out"
    args = _parse(
        score,
        [
            "--videos-dir",
            str(videos),
            "--output-dir",
            str(out),
            "--scoring-weights",
            "tiny-random",
            "--dimensions",
            "temporal_flickering,subject_consistency",
            "--no-progress",
        ],
    )
    assert score.execute(args) == 0
    rows = _rows(out / "per_video.csv")
    pairs = {(r["prompt"], r["dimension"]) for r in rows}
    assert pairs == {
        ("a person swimming in ocean", "subject_consistency"),
        ("In a still frame, a stop sign", "temporal_flickering"),
    }
    assert {
        "video",
        "prompt",
        "dimension",
        "score",
        "aggregation_weight",
        "error",
        "backend",
        "weights_id",
        "sample",
    } <= set(rows[0])
    assert {r["sample"] for r in rows} == {"0", "1"}
    # The run's results layout: VBench's results per model (the folder's name labels it).
    results = json.loads((out / "eval_results" / "videos_eval_results.json").read_text())
    assert set(results) == {"temporal_flickering", "subject_consistency"}
    assert "standard mode" in capsys.readouterr().out
    assert not (out / "failures.json").exists()


def test_custom_mode_scores_everything_and_keeps_bad_files_as_rows(tmp_path):
    videos = tmp_path / "videos"
    write_video(videos / "my own prompt-3.mp4", render_frames("pan", 9, 32, 32))
    (videos / "broken-0.mp4").write_bytes(b"nope")
    out = tmp_path / "out"
    args = _parse(
        score,
        [
            "--videos-dir",
            str(videos),
            "--output-dir",
            str(out),
            "--scoring-weights",
            "tiny-random",
            "--dimensions",
            "temporal_flickering,aesthetic_quality",
            "--no-progress",
        ],
    )
    assert score.execute(args) == 1  # a video that cannot be scored fails, as in `run`
    rows = _rows(out / "per_video.csv")
    assert len(rows) == 4
    good = [r for r in rows if r["prompt"] == "my own prompt"]
    bad = [r for r in rows if r["prompt"] == "broken"]
    assert all(r["error"] == "" and float(r["score"]) == float(r["score"]) for r in good)
    assert all(r["error"] and r["score"] == "" for r in bad)
    assert {r["weights_id"] for r in good} == {"none", "tiny-random:seed=0"}
    (failed,) = json.loads((out / "failures.json").read_text())["failed"]
    assert failed["item"] == "videos/broken-0.mp4" and failed["error"]
    assert {"per_video.csv", "run.json", "failures.json", "eval_results", "scores"} <= {
        p.name for p in out.iterdir()
    }


def test_every_video_failing_exits_1_with_failures_json(tmp_path, capsys):
    videos = tmp_path / "videos"
    videos.mkdir()
    for name in ("one-0.mp4", "two-0.mp4"):
        (videos / name).write_bytes(b"not a video")
    out = tmp_path / "out"
    args = _parse(
        score,
        [
            *("--videos-dir", str(videos), "--output-dir", str(out)),
            *("--scoring-weights", "tiny-random", "--dimensions", "temporal_flickering"),
            "--no-progress",
        ],
    )
    assert score.execute(args) == 1
    failed = json.loads((out / "failures.json").read_text())["failed"]
    assert sorted(f["item"] for f in failed) == ["videos/one-0.mp4", "videos/two-0.mp4"]
    assert "2 item(s) failed" in capsys.readouterr().err
    assert all(r["error"] and r["score"] == "" for r in _rows(out / "per_video.csv"))


def test_dimensions_all_scores_each_standard_prompt_on_its_own_dimensions(tmp_path):
    """`--dimensions all` as in `run`: a stop-sign video (tagged temporal_flickering only) is
    scored on that dimension alone, so `all` costs no model here."""
    videos = tmp_path / "videos"
    write_video(videos / "In a still frame, a stop sign-0.mp4", render_frames("static", 9, 32, 32))
    out = tmp_path / "out"
    args = _parse(
        score,
        [
            *("--videos-dir", str(videos), "--output-dir", str(out)),
            *("--scoring-weights", "tiny-random", "--dimensions", "all", "--no-progress"),
        ],
    )
    assert score.execute(args) == 0
    assert [r["dimension"] for r in _rows(out / "per_video.csv")] == ["temporal_flickering"]
    assert json.loads((out / "run.json").read_text())["dimensions"] == ["temporal_flickering"]


def test_device_default_and_flags_are_runs(tmp_path):
    from repvideo_eval.cli import run

    score_args = _parse(score, ["--videos-dir", "v", "--output-dir", "o"])
    run_args = _parse(run, ["--model", "cogvideox-tiny"])
    assert score_args.device == run_args.device == "auto"
    shared = ("device", "vbench_cache_dir", "detector", "no_progress", "num_gpus", "ray_address")
    assert all(hasattr(score_args, name) and hasattr(run_args, name) for name in shared)
    cache = _parse(score, ["--videos-dir", "v", "--output-dir", "o", "--vbench-cache-dir", "c"])
    assert str(cache.vbench_cache_dir) == "c"
    with pytest.raises(SystemExit):  # the old name is gone: one flag name, as `run` spells it
        _parse(score, ["--videos-dir", "v", "--output-dir", "o", "--cache-dir", "c"])


@pytest.mark.parametrize(
    "override,match",
    [
        ({"--dimensions": "nope"}, "Unknown dimension"),
        ({"--videos-dir": "/definitely/not/here"}, "does not exist"),
        ({"--scoring-weights": "fancy"}, "Unknown scoring weights mode"),
        ({"--weights": "fancy"}, "Unknown scoring weights mode"),  # the flag's old name
    ],
)
def test_user_mistakes_are_user_errors(tmp_path, override, match):
    videos = tmp_path / "v"
    write_video(videos / "x-0.mp4", render_frames("pan", 3, 32, 32))
    options = {
        "--videos-dir": str(videos),
        "--output-dir": str(tmp_path / "o"),
        "--dimensions": "temporal_flickering",
        **override,
    }
    args = _parse(score, [item for pair in options.items() for item in pair])
    with pytest.raises(UserError, match=match):
        score.execute(args)
    assert not (tmp_path / "o" / "per_video.csv").exists()


def test_fetch_weights_offline_names_the_command(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    args = _parse(
        fetch_weights,
        ["--dimensions", "imaging_quality", "--cache-dir", str(tmp_path), "--no-progress"],
    )
    with pytest.raises(
        UserError, match="musiq_spaq_ckpt-358bb6af.pth.*fetch-weights --dimensions imaging_quality"
    ):
        fetch_weights.execute(args)


def test_slow_fast_files_are_fetched_only_on_request(tmp_path, monkeypatch, capsys):
    """A standard-mode prefetch must not pull DINOv2/DreamSim (~1 GB) that only slow-fast uses."""
    from types import SimpleNamespace

    from repvideo_eval.scoring import weights as W

    asked: list[str] = []

    def fake_resolve(name, **kwargs):
        asked.append(name)
        return SimpleNamespace(
            path=tmp_path / name, sha256="0" * 64, spec=SimpleNamespace(checksum_source="test")
        )

    monkeypatch.setattr(W, "resolve", fake_resolve)
    dims = [
        "--dimensions",
        "subject_consistency,background_consistency",
        "--cache-dir",
        str(tmp_path),
        "--no-progress",
    ]
    assert fetch_weights.execute(_parse(fetch_weights, dims)) == 0
    assert asked == ["dino_vitb16", "clip_vit_b32"]
    asked.clear()
    assert fetch_weights.execute(_parse(fetch_weights, [*dims, "--slow-fast"])) == 0
    assert asked[:2] == ["dino_vitb16", "clip_vit_b32"]
    assert {"dinov2_vitb14", "dreamsim_dino_vitb16", "dreamsim_ensemble_lora"} <= set(asked[2:])
    assert "dinov2_vitb14" in capsys.readouterr().out


def test_fetch_weights_reports_existing_files(tmp_path, capsys):
    args = _parse(
        fetch_weights, ["--dimensions", "temporal_flickering", "--cache-dir", str(tmp_path)]
    )
    assert fetch_weights.execute(args) == 0
    assert "nothing to fetch" in capsys.readouterr().out


def test_max_video_pixels_turns_a_larger_video_into_error_rows(tmp_path, capsys):
    """`--max-video-pixels` reaches every worker: a video over it is an error row naming the flag
    (exit 1, failures.json), one within it is scored."""
    videos = tmp_path / "videos"
    write_video(videos / "small-0.mp4", render_frames("square", 9, 32, 32))
    write_video(videos / "large-0.mp4", render_frames("square", 9, 64, 64))
    out = tmp_path / "out"
    args = _parse(
        score,
        [
            *("--videos-dir", str(videos), "--output-dir", str(out)),
            *("--scoring-weights", "tiny-random", "--dimensions", "temporal_flickering"),
            *("--max-video-pixels", str(9 * 32 * 32)),
            "--no-progress",
        ],
    )
    assert score.execute(args) == 1
    rows = {Path(r["video"]).name: r for r in _rows(out / "per_video.csv")}
    assert rows["small-0.mp4"]["score"] and not rows["small-0.mp4"]["error"]
    assert "--max-video-pixels" in rows["large-0.mp4"]["error"]
    assert rows["large-0.mp4"]["score"] == ""
    failed = json.loads((out / "failures.json").read_text())["failed"]
    assert [f["item"] for f in failed] == ["videos/large-0.mp4"]


@pytest.mark.parametrize("value", ["0", "-5", "many"])
def test_max_video_pixels_must_be_a_positive_whole_number(value, capsys):
    with pytest.raises(SystemExit) as stop:
        _parse(score, ["--videos-dir", "v", "--max-video-pixels", value])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "--max-video-pixels" in err and "Traceback" not in err
