"""`study create`: what the database holds, reproducibility, and one-line errors with nothing made."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.study.conftest import MODEL_A, MODEL_B, create, rows, write_runs


def test_create_writes_plan_tokens_and_prints_links(make_study, paired_run, capsys):
    study = make_study("--raters", "4", "--tasks-per-rater", "12", "--repeats", "2", "--seed", "5")
    out = capsys.readouterr().out
    assert [p.name for p in study.iterdir()] == ["study.sqlite3"], "nothing else, no temp files"
    meta = {k: json.loads(v) for k, v in rows(study, "SELECT key, value FROM meta")}
    assert meta["models"] == [MODEL_A, MODEL_B]
    assert meta["criteria"] == [
        "spatial_appearance",
        "temporal_consistency",
        "video_text_alignment",
    ]
    assert (meta["seed"], meta["tasks_per_rater"], meta["repeats_per_rater"]) == (5, 12, 2)
    assert meta["allow_ties"] is False and meta["runs"] == [str(paired_run.resolve())]
    tokens = [t for (t,) in rows(study, "SELECT token FROM raters ORDER BY rater_id")]
    assert len(set(tokens + [meta["admin_token"]])) == 5
    assert all(len(t) >= 32 for t in tokens + [meta["admin_token"]])
    for token in tokens:
        assert f"/r/{token}" in out
    assert f"/admin/{meta['admin_token']}" in out
    assert rows(study, "SELECT COUNT(*) FROM tasks") == [(4 * 14,)]
    # Pairs share prompt, sample and seed; video a is model A's, b model B's, both on disk.
    for prompt, sample, seed, a_model, a_prompt, a_seed, b_model, b_prompt, b_seed, a_path in rows(
        study,
        "SELECT p.prompt, p.sample, p.seed, a.model, a.prompt, a.seed, b.model, b.prompt, b.seed, "
        "a.path FROM pairs p JOIN videos a ON a.video_id = p.video_a "
        "JOIN videos b ON b.video_id = p.video_b",
    ):
        assert (a_model, b_model) == (MODEL_A, MODEL_B)
        assert a_prompt == b_prompt == prompt and a_seed == b_seed == seed
        assert Path(a_path).is_file() and seed % 100000 == sample
    assert rows(study, "SELECT COUNT(*) FROM pairs") == [(8,)]
    # Every task's two videos are the pair's two videos, in one of the two orders.
    assert rows(
        study,
        "SELECT COUNT(*) FROM tasks t JOIN pairs p ON p.pair_id = t.pair_id WHERE NOT "
        "((t.left_video = p.video_a AND t.right_video = p.video_b) OR "
        "(t.left_video = p.video_b AND t.right_video = p.video_a))",
    ) == [(0,)]
    repeats = rows(
        study,
        "SELECT r.pair_id, r.criterion, o.pair_id, o.criterion, r.left_video, o.right_video, "
        "r.position > o.position FROM tasks r JOIN tasks o ON o.task_id = r.repeat_of",
    )
    assert len(repeats) == 8
    assert all(r[0] == r[2] and r[1] == r[3] and r[4] == r[5] and r[6] for r in repeats)


STRUCTURE = (
    "SELECT t.rater_id, t.position, p.prompt, p.seed, t.criterion, l.model, "
    "t.repeat_of IS NOT NULL FROM tasks t JOIN pairs p ON p.pair_id = t.pair_id "
    "JOIN videos l ON l.video_id = t.left_video ORDER BY t.rater_id, t.position"
)


def test_same_seed_same_plan_with_fresh_secrets(make_study):
    first, second = (
        make_study("--seed", "11", "--repeats", "2"),
        make_study("--seed", "11", "--repeats", "2"),
    )
    third = make_study("--seed", "12", "--repeats", "2")
    assert rows(first, STRUCTURE) == rows(second, STRUCTURE) != rows(third, STRUCTURE)
    token_sql = "SELECT token FROM raters"
    assert not set(rows(first, token_sql)) & set(rows(second, token_sql))


def test_default_sizes(make_study):
    study = make_study()
    assert rows(study, "SELECT COUNT(*) FROM raters") == [(3,)]
    # every pair on every criterion for each rater (8 pairs x 3 criteria, under 50 per criterion)
    assert rows(study, "SELECT rater_id, COUNT(*) FROM tasks GROUP BY rater_id") == [
        (0, 24),
        (1, 24),
        (2, 24),
    ]


def _fails(capsys, code: int) -> str:
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err
    return err


def test_unknown_model(paired_run, tmp_path, capsys):
    err = _fails(capsys, create([paired_run], tmp_path / "s", models=f"{MODEL_A},nope"))
    assert "unknown model nope" in err and MODEL_B in err
    assert not (tmp_path / "s").exists()


def test_runs_without_shared_prompts_and_seeds(tmp_path, capsys):
    run_a = write_runs(tmp_path / "a")
    run_b = write_runs(tmp_path / "b", seed_offset=7)
    # keep only model A in run a and model B in run b, so nothing pairs across the runs
    for run, keep in ((run_a, MODEL_A), (run_b, MODEL_B)):
        lines = (run / "per_video.csv").read_text().splitlines()
        (run / "per_video.csv").write_text(
            "\n".join([lines[0]] + [line for line in lines[1:] if line.startswith(keep + ",")])
            + "\n"
        )
    err = _fails(capsys, create([run_a, run_b], tmp_path / "s"))
    assert "share no prompt, sample and seed" in err
    assert not (tmp_path / "s").exists()


def test_missing_video(tmp_path, capsys):
    run = write_runs(tmp_path / "run", prompts=2, samples=1)
    victim = next((run / "videos").rglob("*.mp4"))
    victim.unlink()
    err = _fails(capsys, create([run], tmp_path / "s"))
    assert "1 paired video(s) are missing" in err
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--criteria", "sharpness"), "unknown criterion sharpness"),
        (("--raters", "1", "--tasks-per-rater", "5"), "cannot cover all 24"),
        (("--tasks-per-rater", "99"), "--tasks-per-rater 99"),
    ],
)
def test_bad_settings_leave_existing_folder_untouched(paired_run, tmp_path, capsys, extra, message):
    output = tmp_path / "existing"
    output.mkdir()
    (output / "notes.txt").write_text("mine")
    err = _fails(capsys, create([paired_run], output, *extra))
    assert message in err
    assert sorted(p.name for p in output.iterdir()) == ["notes.txt"]


def test_existing_study_is_never_overwritten(make_study, paired_run, capsys):
    study = make_study()
    before = (study / "study.sqlite3").read_bytes()
    capsys.readouterr()
    err = _fails(capsys, create([paired_run], study))
    assert "already holds a study" in err
    assert (study / "study.sqlite3").read_bytes() == before


def test_models_flag_needs_two_names(paired_run, tmp_path, capsys):
    err = _fails(capsys, create([paired_run], tmp_path / "s", models=MODEL_A))
    assert "exactly two different models" in err


def test_pairs_flag_draws_a_seeded_subset(make_study, paired_run, tmp_path, capsys):
    pair_sql = "SELECT prompt, sample, seed FROM pairs ORDER BY pair_id"
    first = rows(make_study("--pairs", "3", "--seed", "4"), pair_sql)
    assert len(first) == 3 and len(set(first)) == 3
    assert rows(make_study("--pairs", "3", "--seed", "4"), pair_sql) == first
    everything = rows(make_study(), pair_sql)
    assert set(first) < set(everything) and len(everything) == 8
    capsys.readouterr()
    err = _fails(capsys, create([paired_run], tmp_path / "s", "--pairs", "9"))
    assert "--pairs 9 must be between 1 and the 8 pairs" in err


@pytest.mark.parametrize(
    ("base_url", "reason"),
    [
        ("ftp://study.example.org", "http or https"),
        ("study.example.org", "http or https"),
        ("localhost:8765", "http or https"),
        ("http://", "no host"),
        ("https://:8765", "no host"),
        ("http://study.example.org:99999", "port"),
        ("http://study.example.org/?x=1", "query"),
        ("http://study.example.org/#top", "fragment"),
        ("http://study.example.org/study/", "path"),
        ("http://user:secret@study.example.org", "user"),
        ("http://study.example.org\n/x", "space or control"),
        ("http://study example.org", "space or control"),
        ("http://[::1", "IPv6"),
    ],
)
def test_base_url_is_checked(paired_run, tmp_path, capsys, base_url, reason):
    err = _fails(capsys, create([paired_run], tmp_path / "s", "--base-url", base_url))
    assert "--base-url" in err and reason in err and "e.g. --base-url https://" in err
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize(
    ("base_url", "links"),
    [
        ("https://study.example.org", "https://study.example.org/"),
        ("https://study.example.org/", "https://study.example.org/"),
        ("HTTP://[::1]:8765", "http://[::1]:8765/"),
    ],
)
def test_good_base_urls_make_the_links(paired_run, tmp_path, capsys, base_url, links):
    assert create([paired_run], tmp_path / "s", "--raters", "1", "--base-url", base_url) == 0
    (token,) = rows(tmp_path / "s", "SELECT token FROM raters")[0]
    assert f"rater 0: {links}r/{token}\n" in capsys.readouterr().out
