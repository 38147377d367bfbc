"""vbench's own four detection loops, scored with the port and with vbench's GRiT answers.

`object_class`, `multiple_objects`, `spatial_relationship` and `color` from vbench run twice on
the same "videos" (lists of golden frames, delivered by a patched `load_video`): once with the
port behind vbench's `DenseCaptioning.run_caption_tensor` interface, once with a replay of what
vbench's detectron2 GRiT returned on those frames in the same task mode (golden_grit_b.json:
region texts, integer boxes and ObjectDet texts of its DenseCap and of its ObjectDet run).
Per-video scores must agree within 1e-6, and no dimension may score all 0 or all 1 over its
videos. The cases (objects, colours, relation) are picked from the golden answers so that each
dimension has something to find. color scores a video only where the frames' first ObjectDet
text is the prompt's object, and no two golden frames share one, so it gets two prompts on
one frame: a colour its captions name (scores 1) and one they do not (scores 0). No
detectron2 needed: test_grit_torch_vs_detectron2.py (side venv) checks the golden file against
live vbench.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import sys
import types
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from .golden import FAST_FRAMES, GOLDEN
from .grit_frames import golden_frames

SCORE_TOLERANCE = 1e-6
COLOURS = ("white", "red", "pink", "blue", "silver", "purple", "orange", "green", "gray",
           "yellow", "black", "grey")  # fmt: skip
DIMENSIONS = ("object_class", "multiple_objects", "spatial_relationship", "color")


def _golden_answer(frame: np.ndarray, task: str) -> list[tuple]:
    """vbench's `run_caption_tensor(frame)[0]` in `task` mode, from the golden file."""
    digest = hashlib.sha256(np.ascontiguousarray(frame).astype(np.uint8).tobytes()).hexdigest()
    (entry,) = [e for e in GOLDEN["frames"].values() if e["sha256"] == digest]
    run = entry[task]
    return [
        (t, b, run["object_texts"]) for t, b in zip(run["texts"], run["int_boxes"], strict=True)
    ]


class _Replay:
    def __init__(self, task: str) -> None:
        self.task = task

    def run_caption_tensor(self, frame):
        return _golden_answer(np.asarray(frame), self.task), None


class _Port:
    """The port behind `run_caption_tensor` (`detect`: the session's memoised port)."""

    def __init__(self, detect, task: str) -> None:
        self.detect, self.task = detect, task

    def run_caption_tensor(self, frame):
        out = self.detect(frame, self.task)
        boxes = [[int(v) for v in box] for box in out.boxes.tolist()]
        objects = list(out.object_texts)
        return [(t, b, objects) for t, b in zip(out.texts, boxes, strict=True)], None


def _videos() -> dict[str, str]:
    """One video per fast golden frame, plus the frame the color case needs (vbench's loops
    need one frame size per video; the loader pads it to 16 frames, as vbench pads short videos
    by repeating the last frame)."""
    names = set(FAST_FRAMES) | {_colour_case()[0]}
    return {f"{name}.mp4": name for name in sorted(names)}


def _parses(colour: str, obj: str) -> bool:
    """vbench's color() gets `obj` back from the prompt "a <colour> <obj>" (it strips "a ",
    "an " and the colour from the prompt)."""
    prompt = f"a {colour} {obj}".strip()
    return prompt.replace("a ", "").replace("an ", "").replace(colour, "").strip() == obj


def _colour_case() -> tuple[str, str, str, str]:
    """(frame, object, hit colour, missed colour) for vbench's color(): on `frame` the first
    ObjectDet text is `object` and the captions name the hit colour but not the missed one, so
    the prompts "a <hit> <object>" and "a <missed> <object>" score it 1 and 0 (the first golden
    frame, by name, where both prompts parse back to the object)."""
    for name in sorted(GOLDEN["frames"]):
        run = GOLDEN["frames"][name]["DenseCap"]
        if not run["object_texts"]:
            continue
        obj = run["object_texts"][0]
        said = [c for c in COLOURS if any(c in caption for caption in run["texts"])]
        hits = [c for c in said if _parses(c, obj)]
        misses = [c for c in COLOURS if c not in said and _parses(c, obj)]
        if hits and misses:
            return name, obj, hits[0], misses[0]
    pytest.fail("no golden frame gives vbench's color() an object and colours it can parse")


def _cases(videos: dict[str, str], get_position_score) -> dict[str, list[tuple[str, dict]]]:
    """dimension -> [(prompt, auxiliary_info)], from the golden answers on these frames."""

    runs = [GOLDEN["frames"][name]["DenseCap"] for name in videos.values()]
    objects = Counter(obj for run in runs for obj in run["object_texts"][:1] if obj)
    first = objects.most_common(1)[0][0]
    pairs = [
        (run["object_texts"][i], run["object_texts"][j], run["int_boxes"][i], run["int_boxes"][j])
        for run in runs
        for i in range(len(run["object_texts"]))
        for j in range(i + 1, len(run["object_texts"]))
    ]
    a, b, relation = first, first, "on the left of"
    for text_a, text_b, box_a, box_b in pairs:
        for candidate in ("on the left of", "on the top of"):
            if get_position_score(candidate, box_a, box_b) > 0:
                a, b, relation = text_a, text_b, candidate
                break
        else:
            continue
        break
    _, colour_object, hit, missed = _colour_case()
    return {
        "object_class": [(f"a {first}", {"object": first})],
        "multiple_objects": [(f"a {a} and a {b}", {"object": f"{a} and {b}"})],
        "spatial_relationship": [
            (
                f"a {a} {relation} a {b}",
                {"spatial_relationship": {"object_a": a, "object_b": b, "relationship": relation}},
            )
        ],
        "color": [
            (f"a {colour} {colour_object}".strip(), {"color": colour}) for colour in (hit, missed)
        ],
    }


@pytest.fixture
def dimension_modules() -> Iterator[dict]:
    """vbench's four dimension modules. They import `vbench.third_party.grit_model` (hence
    detectron2) only to name `DenseCaptioning` in their compute_* entry points, which are not
    called here; where detectron2 is missing a stand-in module takes that import for this test
    (it and the modules imported through it are removed again afterwards)."""
    names = ["vbench.third_party.grit_model", *(f"vbench.{d}" for d in DIMENSIONS)]
    before = {name: sys.modules[name] for name in names if name in sys.modules}
    if importlib.util.find_spec("detectron2") is None and names[0] not in sys.modules:
        stand_in = types.ModuleType(names[0])
        stand_in.DenseCaptioning = None  # type: ignore[attr-defined]
        sys.modules[names[0]] = stand_in
    try:
        yield {d: importlib.import_module(f"vbench.{d}") for d in DIMENSIONS}
    finally:
        for name in names:
            sys.modules.pop(name, None)
        sys.modules.update(before)


@pytest.fixture
def videos(monkeypatch, dimension_modules) -> dict[str, str]:
    """Patch vbench's loaders so each video path yields its golden frames (as vbench would:
    float (T, C, H, W) tensors, or uint8 (T, H, W, C) arrays with return_tensor=False)."""
    import torch

    frames = golden_frames()
    videos = _videos()

    def load_video(path, num_frames=None, return_tensor=True, **_):
        frame = frames[videos[Path(path).name]]
        clip = np.stack([frame] * (num_frames or 1))
        return torch.from_numpy(clip).permute(0, 3, 1, 2).float() if return_tensor else clip

    for module in dimension_modules.values():
        monkeypatch.setattr(module, "load_video", load_video)
    return videos


@pytest.mark.parametrize("dimension", DIMENSIONS)
def test_vbench_loops_score_the_port_as_vbench_grit(
    golden_detect, videos, dimension_modules, dimension
):
    modules = dimension_modules
    position_score = modules["spatial_relationship"].get_position_score
    cases = _cases(videos, position_score)[dimension]
    task = "DenseCap" if dimension == "color" else "ObjectDet"
    video_dict = [
        {"prompt": prompt, "video_list": sorted(videos), "auxiliary_info": entry}
        for prompt, entry in cases
    ]
    loop = getattr(modules[dimension], dimension)
    _, want = loop(_Replay(task), video_dict, "cpu")
    _, got = loop(_Port(golden_detect, task), video_dict, "cpu")
    want_scores = [(row["video_path"], float(row["video_results"])) for row in want]
    got_scores = [(row["video_path"], float(row["video_results"])) for row in got]
    print(dimension, json.dumps(cases), want_scores)
    assert [path for path, _ in got_scores] == [path for path, _ in want_scores]
    for (video, score), (_, port_score) in zip(want_scores, got_scores, strict=True):
        assert port_score == pytest.approx(score, abs=SCORE_TOLERANCE), video
    values = {score for _, score in want_scores}
    assert values, f"{dimension} scored no video"
    assert values - {0.0} and values - {1.0}, f"{dimension} scores all 0 or all 1: {values}"
