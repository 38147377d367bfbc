"""Paired videos from existing run folders: same prompt, sample index and seed, two models.

Reads only `per_video.csv` and `run.json` (through the reporting loader, which validates them) and
checks that every paired video is on disk; never loads a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from repvideo_eval.errors import UserError
from repvideo_eval.study.paths import is_inside

#: How a video is matched across models: the prompt, its sample index and the seed that made it.
PAIR_KEY = ("prompt", "sample", "seed")


@dataclass(frozen=True)
class VideoPair:
    """One prompt/sample/seed rendered by both models: `video_a` is models[0]'s."""

    prompt: str
    sample: int
    seed: int
    video_a: Path
    video_b: Path


def parse_models(text: str) -> tuple[str, str]:
    """`A,B`: exactly two different model (leaderboard row) names."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if len(names) != 2 or names[0] == names[1]:
        raise UserError(
            f"--models {text!r} must name exactly two different models",
            "Pass the baseline first, e.g. --models cogvideox-2b,repvideo-2b.",
        )
    return names[0], names[1]


def _videos_of(table: pd.DataFrame, model: str) -> dict[tuple[str, int, int], Path]:
    """The model's videos by pair key; a UserError for a `video` that leaves its run folder.

    The study serves these files to anyone with a rater link, so a crafted per_video.csv (an
    absolute path, `..`, a symlink out of the run) must not make it serve another file.
    """
    rows = table[table["row"] == model].drop_duplicates(list(PAIR_KEY))
    videos = {}
    for r in rows.itertuples(index=False):
        video = Path(r.run_dir) / str(r.video)
        if not is_inside(video, Path(r.run_dir)):
            raise UserError(
                f"{Path(r.run_dir) / 'per_video.csv'}: the row of model {model}, prompt "
                f"{str(r.prompt)!r}, sample {int(r.sample)} names video {str(r.video)!r}, which "
                "is outside the run folder",
                "Keep each run's videos inside its folder (as `run` writes them, videos/...) "
                "and fix or regenerate that row.",
            )
        videos[(str(r.prompt), int(r.sample), int(r.seed))] = video
    return videos


def collect_pairs(run_dirs: Sequence[Path], models: tuple[str, str]) -> list[VideoPair]:
    """Every (prompt, sample, seed) both models rendered, sorted; UserError if none or any missing."""
    from repvideo_eval.reporting.records import load_records

    records = load_records(list(run_dirs))
    unknown = [model for model in models if model not in records.rows]
    if unknown:
        raise UserError(
            f"unknown model {', '.join(unknown)} in the given runs",
            f"Use the names the runs hold: {', '.join(records.rows)}.",
        )
    videos_a, videos_b = (_videos_of(records.table, model) for model in models)
    shared = sorted(set(videos_a) & set(videos_b))
    if not shared:
        raise UserError(
            f"{models[0]} and {models[1]} share no prompt, sample and seed in the given runs",
            "Generate both models with the same suite and seeds (e.g. one run with both models).",
        )
    pairs = [
        VideoPair(p, s, seed, videos_a[(p, s, seed)], videos_b[(p, s, seed)])
        for p, s, seed in shared
    ]
    missing = [v for pair in pairs for v in (pair.video_a, pair.video_b) if not v.is_file()]
    if missing:
        raise UserError(
            f"{len(missing)} paired video(s) are missing on disk, e.g. {missing[0]}",
            "Rerun the run command to regenerate them, or pass the run folders that hold them.",
        )
    return pairs
