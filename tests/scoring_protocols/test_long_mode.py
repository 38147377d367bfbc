"""VBench-Long: clip plan, scene cuts, aggregation (parity with vbench2_beta_long) and the session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from repvideo_eval.registry import vbench_full_info as load_full_info
from repvideo_eval.scoring.long_mode import (
    LongModeSession,
    clip_ranges,
    clip_seconds_for_prompt,
    default_vbench_mode,
    detect_scenes,
    fuse_slow_fast,
    long_flicker_clips,
    map_clip2clip,
)
from repvideo_eval.scoring.long_mode.slow_fast_tables import MAPPING_TABLES, SLOW_FAST_WEIGHTS
from repvideo_eval.scoring.records import VideoToScore
from repvideo_eval.scoring.session import ScoringSession
from repvideo_eval.scoring.static_filter import StaticDecision, select_flicker_videos, vbench_order

from .conftest import HERE, REPO_ROOT, load_json, render, write_video

COLOURS = [(20, 20, 20), (230, 230, 230), (200, 30, 30)]


def three_segments(lengths=(16, 16, 17), height=32, width=64) -> np.ndarray:
    """Solid-colour segments (dark, white, red): two hard cuts at known frames."""
    return np.concatenate(
        [np.tile(np.array(c, np.uint8), (n, height, width, 1)) for c, n in zip(COLOURS, lengths)]
    )


def run_long_reference(*args: str) -> None:
    proc = subprocess.run(
        [sys.executable, str(HERE / "vbench_long_reference.py"), *args],
        cwd=REPO_ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]


def decord_frames(path: Path) -> np.ndarray:
    import decord

    reader = decord.VideoReader(str(path), num_threads=1)
    return reader.get_batch(list(range(len(reader)))).asnumpy()


def test_default_mode_follows_the_faq():
    assert default_vbench_mode(49, 8) == "long"  # CogVideoX: 6.1 s
    assert default_vbench_mode(40, 8) == "long"  # exactly 5.0 s
    assert default_vbench_mode(39, 8) == "standard"
    assert default_vbench_mode(81, 16) == "long" and default_vbench_mode(16, 8) == "standard"


def test_clip_length_is_the_max_over_the_prompt_dimensions():
    info = load_full_info()

    def prompt_of(dim: str, also: str | None = None) -> str:
        return next(
            e["prompt_en"]
            for e in info
            if dim in e["dimension"] and (also is None or also in e["dimension"])
        )

    assert clip_seconds_for_prompt(prompt_of("subject_consistency"), info) == 2
    assert (
        clip_seconds_for_prompt(prompt_of("aesthetic_quality"), info) == 10
    )  # tagged with overall_consistency too
    assert clip_seconds_for_prompt(prompt_of("human_action"), info) == 10
    assert clip_seconds_for_prompt(prompt_of("scene", "background_consistency"), info) == 2
    assert clip_seconds_for_prompt(prompt_of("human_action"), info, config="short") == 2
    assert clip_seconds_for_prompt("a prompt outside the suite", info) == 2


def test_clip_ranges_by_hand():
    assert [(c.start, c.end, c.name) for c in clip_ranges(49, 8, 2, stem="v")] == [
        (0, 16, "v_000"),
        (16, 32, "v_001"),
        (32, 48, "v_002"),
        (33, 49, "v_003"),
    ]
    assert [(c.start, c.end) for c in clip_ranges(32, 8, 2)] == [(0, 16), (16, 32)]
    assert [(c.start, c.end, c.name) for c in clip_ranges(49, 8, 10, stem="v")] == [
        (0, 49, "v_full")
    ]


def _split_videos(folder: Path) -> list[Path]:
    return [
        write_video(folder / "long-0.mp4", render("square", 49, 64, 64, seed=1)),
        write_video(folder / "exact-0.mp4", render("pan", 32, 64, 64, seed=2)),
        write_video(folder / "short-0.mp4", render("pan", 10, 64, 64, seed=3)),
        write_video(folder / "fast-0.mp4", render("square", 50, 64, 64, seed=4), fps=12),
        write_video(folder / "cuts-0.mp4", three_segments(height=64)),
        write_video(folder / "cuts-1.mp4", three_segments((20, 15, 30), height=64)),
    ]


def _long_reference(tmp_path: Path, task: str, videos: list[Path], argument: str) -> dict:
    """vbench2_beta_long's `task` ("split" or "scenes") on `videos`, via the reference subprocess."""
    listing = tmp_path / "videos.json"
    listing.write_text(json.dumps([str(v) for v in videos]))
    run_long_reference(task, str(listing), argument, str(tmp_path / f"{task}.json"))
    return load_json(tmp_path / f"{task}.json")


def test_clip_split_matches_vbench_long(tmp_path):
    videos = _split_videos(tmp_path)
    split_ref = _long_reference(tmp_path, "split", videos, "2")
    for video in videos:
        frames = decord_frames(video)
        fps = 12 if video.name.startswith("fast") else 8
        ours = clip_ranges(len(frames), fps, 2, stem=video.stem)
        ref = split_ref[str(video)]
        assert [c.name + ".mp4" for c in ours] == [w["name"] for w in ref]
        for clip, written in zip(ours, ref):
            assert written["fps"] == fps and written["num_frames"] == clip.end - clip.start
            assert [
                float(f.sum()) for f in frames[clip.start : clip.end].astype(np.float32)
            ] == written["frame_sums"]


def test_scene_cuts_match_vbench_long(tmp_path):
    videos = _split_videos(tmp_path)
    scene_ref = _long_reference(tmp_path, "scenes", videos, "35.0")
    for video in videos:
        scenes = detect_scenes(video)
        ref_scenes = scene_ref[str(video)]
        assert bool(scenes) == ref_scenes["found"]
        assert [e - s for s, e in scenes] == [w["num_frames"] for w in ref_scenes["written"]]
    assert detect_scenes(videos[4]) == [(0, 16), (16, 32), (32, 49)]
    assert detect_scenes(videos[5]) == [(0, 20), (20, 35), (35, 65)]
    assert detect_scenes(videos[0]) == []


def test_aggregation_and_fusion_match_vbench_long(tmp_path):
    rng = np.random.default_rng(0)
    base = "/v/split_clip"
    videos = {"p-0": 4, "p-1": 1, "q-0": 3}
    clip_scores = {v: list(rng.uniform(0.8, 1.0, n)) for v, n in videos.items()}
    detailed = [
        {"video_path": f"{base}/{v}/{v}_{k:03d}.mp4", "video_results": s}
        for v, scores in clip_scores.items()
        for k, s in enumerate(scores)
    ]
    flick_root = "/v/temporal_filtered_cilps/filtered_videos/filtered_clips"
    flick = [
        {"video_path": f"{flick_root}/{v}_{k:03d}.mp4", "video_results": s}
        for v, scores in clip_scores.items()
        for k, s in enumerate(scores[:2])
    ]
    # vbench's fusion inputs: in-clip rows keyed as reorganize_clips_results builds them.
    inclip_rows = [
        {"video_path": f"{base}/{v}/{v}_{k:03d}.mp4/{v}.mp4", "video_results": s}
        for v, scores in clip_scores.items()
        for k, s in enumerate(scores)
    ]
    fast = {
        "p-0": 0.4137,
        "q-0": 1.2,
    }  # p-1 has one clip, so no fast video; 1.2 clamps to the table's end
    fast_rows = [{"video_path": f"/v/cat/{v}.mp4", "video_results": s} for v, s in fast.items()]
    tables = {}
    for dim, short in (("subject_consistency", "sb"), ("background_consistency", "bg")):
        tables[short] = tmp_path / f"{short}.yaml"
        tables[short].write_text(yaml.safe_dump(MAPPING_TABLES[dim]))
    params = tmp_path / "slow_fast_params.yaml"
    params.write_text(
        yaml.safe_dump(
            {
                f"w_{w}_{s}": SLOW_FAST_WEIGHTS[d][i]
                for d, s in (("subject_consistency", "sb"), ("background_consistency", "bg"))
                for i, w in enumerate(("inclip", "clip2clip"))
            }
        )
    )
    kwargs = {
        "slow_fast_eval_config": str(params),
        "dev_flag": True,
        "sb_mapping_file_path": str(tables["sb"]),
        "bg_mapping_file_path": str(tables["bg"]),
    }
    fuse_cases = [
        {
            "inclip_all": 0.0,
            "clip2clip_all": 0.5,
            "inclip_dict": inclip_rows,
            "clip2clip_dict": fast_rows,
            "dimension": dim,
            "kwargs": kwargs,
        }
        for dim in ("subject_consistency", "background_consistency")
    ]
    spec = {
        "reorganize": [
            ["aesthetic_quality", detailed],
            ["temporal_flickering", flick],
            ["imaging_quality", detailed],
        ],
        "fuse": fuse_cases,
    }
    (tmp_path / "in.json").write_text(json.dumps(spec))
    run_long_reference("aggregate", str(tmp_path / "in.json"), str(tmp_path / "out.json"))
    ref = load_json(tmp_path / "out.json")

    def engine_mean(rows):  # what the engine does with our records: sum(score*weight)/sum(weight)
        return sum(s * w for s, w in rows) / sum(w for _, w in rows)

    per_video = [(float(np.mean(s)), len(s)) for s in clip_scores.values()]
    assert engine_mean(per_video) == pytest.approx(ref["reorganize"][0]["all_results"], abs=1e-12)
    assert (
        len(ref["reorganize"][0]["per_video"]) == 8
    )  # one group per clip: vbench's per-clip quirk
    flicker_per_video = [(float(np.mean(s[:2])), 1.0) for s in clip_scores.values()]
    assert engine_mean(flicker_per_video) == pytest.approx(
        ref["reorganize"][1]["all_results"], abs=1e-12
    )
    assert engine_mean(per_video) / 100 == pytest.approx(
        ref["reorganize"][2]["all_results"], abs=1e-12
    )

    for case, dim in zip(ref["fuse"], ("subject_consistency", "background_consistency")):
        ours = [
            (fuse_slow_fast(clip_scores[v], fast.get(v), dim).video_score, len(clip_scores[v]))
            for v in videos
        ]
        assert engine_mean(ours) == pytest.approx(case["all_results"], abs=1e-12)
        mapped = {Path(r["video_path"]).name: r["mapped_clip2clip_score"] for r in case["detailed"]}
        assert map_clip2clip(fast["p-0"], MAPPING_TABLES[dim]) == pytest.approx(
            mapped["p-0.mp4"], abs=1e-12
        )
    # by hand: 0.4137 lies between keys 0.41 and 0.42
    table = MAPPING_TABLES["subject_consistency"]
    assert map_clip2clip(0.4137, table) == pytest.approx(
        table[0.41] + (table[0.42] - table[0.41]) * 0.37, abs=1e-9
    )
    assert fuse_slow_fast([0.9], None, "subject_consistency").video_score == 0.9


def test_session_splits_at_cuts_and_averages_clip_scores(tmp_path):
    video = write_video(tmp_path / "three colours-0.mp4", three_segments())
    item = VideoToScore(video, prompt="three colours", key={"sample": 0})
    dims = ["temporal_flickering", "subject_consistency"]
    with LongModeSession(
        dims, scoring_weights="tiny-random", scene_split=True, work_dir=tmp_path / "work"
    ) as session:
        records = session.score(item)
        split = session.split(item)
    assert (
        split.scenes == [(0, 16), (16, 32), (32, 49)] and split.clip_seconds == 2 and split.fps == 8
    )
    assert [(c.start, c.end, c.scene) for c in split.clips] == [
        (0, 16, 0),
        (16, 32, 1),
        (32, 48, 2),
        (33, 49, 2),
    ]
    assert [c.path.parent.name for c in split.clips] == [
        "three colours-0-Scene-0",
        "three colours-0-Scene-1",
    ] + ["three colours-0-Scene-2"] * 2

    plain = ScoringSession(dims, scoring_weights="tiny-random")
    by_hand = {d: [] for d in dims}
    for clip in split.clips:
        for rec in plain.score(VideoToScore(clip.path, prompt="three colours")):
            by_hand[rec.dimension].append(rec.score)
    for rec in records:
        assert rec.ok and rec.details["vbench_mode"] == "long-inclip" and rec.key == {"sample": 0}
        assert rec.video == str(video) and rec.aggregation_weight == 4.0
        assert [c["score"] for c in rec.details["clips"]] == by_hand[rec.dimension]
        assert rec.score == pytest.approx(sum(by_hand[rec.dimension]) / 4, abs=1e-12)
    json.dumps([r.details for r in records])
    # each clip lies inside one solid-colour scene, so nothing flickers
    assert by_hand["temporal_flickering"] == [1.0, 1.0, 1.0, 1.0]


def test_session_without_cuts_and_with_static_filtered_flicker_clips(tmp_path):
    frames = render("square", 49, 32, 64, seed=5)
    video = write_video(tmp_path / "p-0.mp4", frames)
    with LongModeSession(
        ["temporal_flickering"], scoring_weights="tiny-random", work_dir=tmp_path / "w"
    ) as session:
        split = session.split(VideoToScore(video, prompt="p"))
        assert [(c.start, c.end) for c in split.clips] == [(0, 16), (16, 32), (32, 48), (33, 49)]
        (full,) = session.score(VideoToScore(video, prompt="p"))
        kept = [str(split.clips[1].path), str(split.clips[3].path)]
        (filtered,) = session.score(VideoToScore(video, prompt="p"), flicker_clips=kept)
        (none_kept,) = session.score(VideoToScore(video, prompt="p"), flicker_clips=[])
    clip_scores = [c["score"] for c in full.details["clips"]]
    assert len(set(clip_scores)) > 1 and full.aggregation_weight == 4.0
    assert full.score == pytest.approx(np.mean(clip_scores), abs=1e-12)
    assert filtered.aggregation_weight == 1.0 and filtered.details["static_filtered"]
    assert filtered.score == pytest.approx((clip_scores[1] + clip_scores[3]) / 2, abs=1e-12)
    assert not none_kept.ok and "no static clip" in none_kept.error


def test_long_flicker_clips_follow_vbench_path_order(tmp_path):
    import glob

    videos = [
        VideoToScore(
            write_video(tmp_path / f"p-{i}.mp4", render("pan", 33, 32, 64, seed=i)), prompt="p"
        )
        for i in (0, 1, 2, 10)
    ]
    with LongModeSession(
        ["temporal_flickering"], scoring_weights="tiny-random", work_dir=tmp_path / "w"
    ) as session:
        clips = long_flicker_clips(session, {"p": videos})
        root = session.clip_root(videos[0].path)
    ordered = vbench_order(clips["p"])
    assert ordered == sorted(
        glob.glob(str(root / "*" / "*.mp4"))
    )  # vbench: sorted(glob(split_clip/*/*.mp4))
    assert [Path(p).parent.name for p in ordered][::3] == ["p-0", "p-1", "p-10", "p-2"]
    kept, _ = select_flicker_videos(
        clips, lambda p: StaticDecision(video=p, static=not p.endswith("_001.mp4"))
    )
    assert [Path(p).name for p in kept["p"]] == [
        "p-0_000.mp4",
        "p-0_002.mp4",
        "p-1_000.mp4",
        "p-1_002.mp4",
        "p-10_000.mp4",
    ]


def test_slow_fast_session_fuses_with_the_first_frames_video(tmp_path):
    from repvideo_eval.scoring.long_mode.session import write_clip

    video = write_video(tmp_path / "p-0.mp4", render("square", 49, 32, 64, seed=6))
    item = VideoToScore(video, prompt="p")
    with LongModeSession(
        ["subject_consistency"],
        scoring_weights="tiny-random",
        consistency="slow-fast",
        work_dir=tmp_path / "w",
    ) as session:
        (record,) = session.score(item)
        clips = session.split(item).clips
    plain = ScoringSession(["subject_consistency"], scoring_weights="tiny-random")
    inclip = [plain.score(VideoToScore(c.path, prompt="p"))[0].score for c in clips]
    firsts = np.stack([decord_frames(c.path)[0] for c in clips])
    write_clip(tmp_path / "fast" / "p-0.mp4", firsts, 8)
    with LongModeSession(
        ["subject_consistency"], scoring_weights="tiny-random", consistency="slow-fast"
    ) as other:
        fast = other.fast_model("subject_consistency").score(
            decord_frames(tmp_path / "fast" / "p-0.mp4")
        )
    assert record.details["clip2clip_extractor"] == "dinov2_vitb14"
    (info,) = record.details["slow_fast"]
    assert info["clip2clip_score"] == pytest.approx(fast, abs=1e-6)
    w_in, w_fast = SLOW_FAST_WEIGHTS["subject_consistency"]
    mapped = map_clip2clip(fast, MAPPING_TABLES["subject_consistency"])
    assert mapped != 0.0 and record.aggregation_weight == 4.0
    assert record.score == pytest.approx(w_in * float(np.mean(inclip)) + w_fast * mapped, abs=1e-6)
    assert record.details["inclip_mean"] == pytest.approx(float(np.mean(inclip)), abs=1e-12)


def test_bad_videos_become_error_records(tmp_path):
    import imageio.v2 as imageio

    odd = (
        tmp_path / "odd-0.mp4"
    )  # 33x63 px in yuv444p: decodable, but x264 cannot write it as yuv420p
    imageio.mimwrite(
        str(odd),
        list(render("pan", 20, 33, 63, seed=1)),
        fps=8,
        codec="libx264",
        pixelformat="yuv444p",
        macro_block_size=1,
    )
    fine = write_video(tmp_path / "fine-0.mp4", render("pan", 20, 32, 64, seed=1))
    with LongModeSession(
        ["temporal_flickering"], scoring_weights="tiny-random", work_dir=tmp_path / "w"
    ) as session:
        (gone,) = session.score(VideoToScore(tmp_path / "missing-0.mp4", prompt="missing"))
        (bad,) = session.score(VideoToScore(odd, prompt="odd"))
        (good,) = session.score(VideoToScore(fine, prompt="fine"))
    assert (
        not gone.ok
        and gone.error.startswith("cannot split into clips")
        and "not found" in gone.error
    )
    assert not bad.ok and bad.error.startswith("cannot split into clips")
    assert (
        good.ok and good.aggregation_weight == 2.0
    )  # 20 frames at 8 fps, 2-s clips: [0,16) and [4,20)
    assert [(c["start"], c["end"]) for c in good.details["clips"]] == [(0, 16), (4, 20)]
