"""The one map of a run folder: every path in it, and every "is it done" check on its files.

`run` and `score` both write a run folder; `report`, `study` and the resume logic read one. They
all ask this module where a file goes and whether an item is finished, so a folder has exactly
one layout:

    run.json                                    what the run is (written by `evaluation.write_run_json`)
    videos/<card hash>/{prompt}-{i}.mp4         generated videos (content-addressed by the card)
    sidecars/<card hash>/{prompt}-{i}.json      one per video, written last: the video is finished
    static_filter/<owner>/<prompt stem>.json    VBench's flicker selection of one (model, prompt)
    long_clips/                                 VBench-Long clips
    scores/<weights tag>/<owner>/<dimension>/<video>.json   one score record per (video, dimension)
    manifests/<stage>.jsonl                     logs of each stage's attempts (never needed to skip work)
    per_video.csv                               every record in one table
    eval_results/<model>_eval_results.json      VBench's own results format, per model
    leaderboard.{csv,md,json}                   reports rebuilt from per_video.csv
    failures.json                               items that failed (absent when none did)

<owner> is the card hash, or for a video of a plain folder (no sidecar, no card) its model label
made safe as a folder name. Completion is a fact about these files, never about a manifest.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from repvideo_eval.vocabulary import weights_tag

RUN_FILE = "run.json"
RECORDS_FILE = "per_video.csv"
FAILURES_FILE = "failures.json"
VIDEO_SUFFIX = ".mp4"
LEADERBOARD_FORMATS = ("csv", "md", "json")

_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]")


def safe_name(label: str) -> str:
    """A label (e.g. a model name typed by the user) as one safe folder name: no separator, no `..`."""
    name = _UNSAFE.sub("_", label).strip(".") or "_"
    return name


class VideoItem(Protocol):
    """What the layout needs of a video's work item (`generation.items.GenerationItem`)."""

    @property
    def card_name(self) -> str: ...
    @property
    def card_hash(self) -> str: ...
    @property
    def prompt(self) -> str: ...
    @property
    def seed(self) -> int: ...
    @property
    def video_path(self) -> str: ...
    @property
    def sidecar_path(self) -> str: ...
    @property
    def text_for_model(self) -> str: ...


@dataclass(frozen=True)
class RunLayout:
    """The paths of one run folder (`root`)."""

    root: Path

    # ------------------------------------------------------------------ files at the top
    @property
    def run_json(self) -> Path:
        return self.root / RUN_FILE

    @property
    def per_video_csv(self) -> Path:
        return self.root / RECORDS_FILE

    @property
    def failures_json(self) -> Path:
        return self.root / FAILURES_FILE

    def leaderboard(self, fmt: str) -> Path:
        return self.root / f"leaderboard.{fmt}"

    def eval_results(self, model: str) -> Path:
        """VBench's results file of one model (`<model>_eval_results.json`, as VBench names it)."""
        return self.root / "eval_results" / f"{safe_name(model)}_eval_results.json"

    def manifest(self, stage: str) -> Path:
        return self.root / "manifests" / f"{stage}.jsonl"

    # ------------------------------------------------------------------ videos and sidecars
    @property
    def videos_root(self) -> Path:
        return self.root / "videos"

    def videos_dir(self, card_hash: str) -> Path:
        """Content-addressed: every card with the same generation settings shares one folder."""
        return self.videos_root / card_hash

    def sidecars_dir(self, card_hash: str) -> Path:
        """Kept apart from the videos: VBench's standard mode wants a folder of videos only."""
        return self.root / "sidecars" / card_hash

    def video_path(self, card_hash: str, stem: str) -> Path:
        return self.videos_dir(card_hash) / f"{stem}{VIDEO_SUFFIX}"

    def sidecar_path(self, card_hash: str, stem: str) -> Path:
        return self.sidecars_dir(card_hash) / f"{stem}.json"

    @staticmethod
    def sidecar_of_video(video_path: Path) -> Path:
        """The sidecar of a video in some run's `videos/<card hash>/` folder (it may not exist)."""
        video_path = Path(video_path)
        layout = RunLayout(video_path.parent.parent.parent)
        return layout.sidecar_path(video_path.parent.name, video_path.stem)

    # ------------------------------------------------------------------ scoring outputs
    @property
    def clip_dir(self) -> Path:
        """Where VBench-Long clips live; stable, so the filter and the scorer see the same clip paths."""
        return self.root / "long_clips"

    @staticmethod
    def owner(item: VideoItem) -> str:
        """The folder name of a video's model: its card hash, else its label made safe."""
        return item.card_hash or f"model-{safe_name(item.card_name)}"

    def filter_selection(self, item: VideoItem, prompt_stem: str) -> Path:
        return self.root / "static_filter" / self.owner(item) / f"{prompt_stem}.json"

    def score_record(self, scoring_weights: str, item: VideoItem, dimension: str) -> Path:
        video = Path(item.video_path)
        # A run's videos are all .mp4 (named by their stem, as ever); a folder may hold a.mp4
        # and a.avi, which must not share a record.
        name = video.stem if video.suffix == VIDEO_SUFFIX else video.name
        return (
            self.root
            / "scores"
            / weights_tag(scoring_weights)
            / self.owner(item)
            / dimension
            / f"{name}.json"
        )

    # ------------------------------------------------------------------ is it done
    @staticmethod
    def video_done(item: VideoItem) -> bool:
        """Done iff the video exists and its sidecar (written last) names the same card, seed,
        prompt and text given to the model (sidecars from before prompt sets: the prompt itself)."""
        video, sidecar = Path(item.video_path), Path(item.sidecar_path)
        if not (video.is_file() and video.stat().st_size > 0 and sidecar.is_file()):
            return False
        try:
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return (
            isinstance(meta, dict)
            and meta.get("card_hash") == item.card_hash
            and meta.get("seed") == item.seed
            and meta.get("prompt") == item.prompt
            and meta.get("generation_prompt", meta.get("prompt")) == item.text_for_model
        )

    @staticmethod
    def files_done(paths: tuple[str, ...] | list[str]) -> bool:
        """Done iff every output file exists (score records, filter selections: written atomically)."""
        return all(Path(path).is_file() for path in paths)
