"""The temporal_flickering static filter against vbench's own static-filter code."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from repvideo_eval.scoring.static_filter import (
    StaticDecision,
    StaticFilter,
    decisions_to_json,
    filter_pairs,
    is_static,
    select_flicker_videos,
    static_params,
    top_fraction_score,
    vbench_order,
)

from .conftest import build_raft_cache, load_json, render, run_reference, write_video


def test_params_and_pair_order_follow_vbench():
    assert static_params(480, 720, 49) == (3.0 * 480 / 256, 6)  # round(6.125)
    assert static_params(128, 96, 8) == (3.0 * 96 / 256, 1)
    assert static_params(64, 64, 4)[1] == 0  # round(0.5) == 0: Python rounds half to even
    assert static_params(64, 64, 12)[1] == 2  # round(1.5) == 2
    assert filter_pairs(4) == [(0, 1), (1, 2), (2, 3), (0, 3), (3, 0)]


def test_decision_rule_matches_vbench_check_static():
    from vbench.cli.static_filter import StaticFilter as VbenchFilter

    rng = random.Random(0)
    checked = {True: 0, False: 0}
    for _ in range(3000):
        n = rng.randint(3, 30)
        thres = rng.choice([0.75, 1.5, 5.625])
        count_num = round(2 * (n / 16.0))
        scores = [
            rng.choice([0.0, rng.uniform(0, 3 * thres), rng.uniform(0, thres)])
            for _ in range(n + 1)
        ]
        if rng.random() < 0.05:
            scores[rng.randrange(len(scores))] = math.nan
        fake_self = SimpleNamespace(params={"thres": thres, "count_num": count_num})
        expected = VbenchFilter.check_static(fake_self, scores)
        assert is_static(scores, thres, count_num) == expected, (scores, thres, count_num)
        checked[expected] += 1
    assert min(checked.values()) > 300  # both verdicts exercised
    # Hand cases: the wrap-around limit is thres*count_num*2, and 0 when count_num == 0.
    assert is_static([2.0, 0.0, 0.0, 1.9, 2.0], thres=1.0, count_num=1)
    assert not is_static([2.0, 0.0, 0.0, 1.9, 2.1], thres=1.0, count_num=1)
    assert not is_static([2.0, 2.0, 0.0, 0.0, 0.0], thres=1.0, count_num=1)
    assert not is_static([0.0, 0.0, 0.0, 0.1, 0.0], thres=1.0, count_num=0)


def test_pair_score_matches_vbench_get_score():
    import torch
    from vbench.cli.static_filter import StaticFilter as VbenchFilter

    rng = np.random.default_rng(0)
    for h, w in [(136, 136), (64, 96), (17, 33)]:
        flow = (rng.standard_normal((2, h, w)) * 5).astype(np.float32)
        image = torch.zeros(1, 3, h, w)
        expected = VbenchFilter.get_score(None, image, torch.from_numpy(flow)[None])
        assert top_fraction_score(flow) == pytest.approx(float(expected), rel=0, abs=0)


def _names(prompt: str, n: int) -> list[str]:
    return [f"{prompt}-{i}.mp4" for i in range(n)]


def test_selection_keeps_first_five_static_in_lexicographic_order():
    paths = [f"/v/p-{i}.mp4" for i in range(25)]
    static = {1, 10, 12, 14, 2, 3, 21}
    calls: list[str] = []

    def decide(path: str) -> StaticDecision:
        calls.append(path)
        return StaticDecision(video=path, static=int(Path(path).stem.split("-")[1]) in static)

    kept, decisions = select_flicker_videos({"p": list(reversed(paths))}, decide)
    # order -0, -1, -10, -11, -12, -13, -14: the fifth static video is -14, then inspection stops
    assert kept["p"] == ["/v/p-1.mp4", "/v/p-10.mp4", "/v/p-12.mp4", "/v/p-14.mp4", "/v/p-2.mp4"]
    assert calls[:4] == ["/v/p-0.mp4", "/v/p-1.mp4", "/v/p-10.mp4", "/v/p-11.mp4"]
    assert calls[-1] == "/v/p-2.mp4" and len(calls) == 13
    assert [d.video for d in decisions["p"]] == calls

    few, decisions = select_flicker_videos(
        {"q": [f"/v/q-{i}.mp4" for i in range(12)]},
        lambda p: StaticDecision(video=p, static=p.endswith("-7.mp4")),
    )
    assert few["q"] == ["/v/q-7.mp4"] and len(decisions["q"]) == 12
    assert vbench_order(["a-2.mp4", "a-10.mp4", "a-1.mp4"]) == ["a-1.mp4", "a-10.mp4", "a-2.mp4"]


def test_selection_matches_vbench_static_filter_order(tmp_path, flicker_prompt):
    """vbench's own `static_filter()` (RAFT stubbed) picks the same files in the same order."""
    videos = tmp_path / "videos"
    videos.mkdir()
    other = "a toilet, frozen in time"
    rng = random.Random(3)
    verdicts = {}
    for prompt, n in ((flicker_prompt, 25), (other, 9)):
        for name in _names(prompt, n):
            (videos / name).write_bytes(b"")
            verdicts[name] = rng.random() < 0.4
    (videos / "not a flicker prompt-0.mp4").write_bytes(
        b""
    )  # vbench ignores prompts outside the suite
    verdict_file = tmp_path / "verdicts.json"
    verdict_file.write_text(json.dumps(verdicts))
    run_reference("select", str(videos), str(verdict_file), str(tmp_path / "out"))
    reference = load_json(tmp_path / "out" / "filtered_static_video.json")
    inspected = load_json(tmp_path / "out" / "inspected.json")

    by_prompt = {
        p: [str(videos / n) for n in _names(p, n)] for p, n in ((flicker_prompt, 25), (other, 9))
    }
    kept, decisions = select_flicker_videos(
        by_prompt, lambda p: StaticDecision(video=p, static=verdicts[Path(p).name])
    )
    for prompt in by_prompt:
        assert kept[prompt] == reference[prompt]["static_path"]
        assert len(kept[prompt]) == reference[prompt]["static_count"]
    ours_inspected = sorted(d.video for ds in decisions.values() for d in ds)
    assert [Path(p).name for p in ours_inspected] == inspected
    assert len(kept[flicker_prompt]) == 5
    assert sum(verdicts[n] for n in _names(flicker_prompt, 25)) > 5  # the cut-off was exercised


def test_tiny_random_filter_records_json_decisions(tmp_path):
    flt = StaticFilter(scoring_weights="tiny-random")
    video = write_video(tmp_path / "p-0.mp4", render("square", 6, 64, 64, seed=1))
    decision = flt.decide(video)
    assert decision.error is None and decision.weights_id == "tiny-random:seed=0"
    assert decision.pairs == filter_pairs(6) and len(decision.pair_scores) == 7
    assert all(math.isfinite(s) for s in decision.pair_scores)
    assert decision.static == is_static(decision.pair_scores, decision.thres, decision.count_num)
    assert (decision.thres, decision.count_num) == static_params(64, 64, 6)
    assert json.loads(json.dumps(decision.to_json()))["pairs"][-1] == [5, 0]

    small = flt.decide(write_video(tmp_path / "p-1.mp4", render("square", 6, 16, 16, seed=1)))
    assert not small.static and "too small" in small.error
    missing = flt.decide(tmp_path / "p-2.mp4")
    assert not missing.static and "not found" in missing.error
    kept, decisions = flt.select({"p": [str(video), str(tmp_path / "p-1.mp4")]})
    assert [d.video for d in decisions["p"]] == [str(video), str(tmp_path / "p-1.mp4")]
    assert kept["p"] == ([str(video)] if decision.static else [])
    stored = json.loads(json.dumps(decisions_to_json(decisions)))
    assert [row["video"] for row in stored["p"]] == [str(video), str(tmp_path / "p-1.mp4")]
    assert (
        stored["p"][0]["pair_scores"] == decision.pair_scores
        and stored["p"][1]["error"] == small.error
    )


@pytest.mark.slow
@pytest.mark.parametrize("damp, verdict", [(1.0, False), (0.03, True)])
def test_raft_scores_and_verdicts_match_vbench(tmp_path_factory, damp, verdict):
    """Random RAFT-large in the official format; vbench's StaticFilter.infer vs ours, per pair."""
    cache = tmp_path_factory.mktemp(f"raft-{damp}")
    raft = build_raft_cache(cache, damp)
    folder = tmp_path_factory.mktemp("static-videos")
    videos = [
        write_video(folder / "still-0.mp4", render("static", 5, 128, 128, seed=1)),
        write_video(folder / "pan-0.mp4", render("pan", 5, 136, 128, seed=2)),
    ]
    listing = folder / "videos.json"
    listing.write_text(json.dumps([str(v) for v in videos]))
    run_reference("scores", str(raft), str(listing), str(folder / "ref.json"))
    reference = {row["video"]: row for row in load_json(folder / "ref.json")}

    flt = StaticFilter(scoring_weights="local", cache_dir=cache)
    for video in videos:
        ours, ref = flt.decide(video), reference[str(video)]
        assert ours.error is None
        assert len(ours.pair_scores) == len(ref["scores"]) == 6
        np.testing.assert_allclose(ours.pair_scores, ref["scores"], rtol=0, atol=1e-4)
        assert (ours.thres, ours.count_num) == (ref["thres"], ref["count_num"])
        assert ours.static == ref["static"] == verdict
