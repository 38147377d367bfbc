"""Run vbench2_beta_long's own splitting and aggregation functions (reference side), in a subprocess.

vbench2_beta_long.utils imports `moviepy.editor` (moviepy 1.x) at module level but none of the
functions used here touch it, so a stub module stands in (PySceneDetect too, when it is not
installed, except for the `scenes` mode, which needs the real one). torchvision's `write_video` (removed in
torchvision 0.29, and it needed PyAV) is replaced by a recorder, so vbench's splitting runs unchanged and we
capture exactly which frames it would write to which file.

    python vbench_long_reference.py split VIDEOS_JSON SECONDS OUT_JSON
    python vbench_long_reference.py scenes VIDEOS_JSON THRESHOLD OUT_JSON
    python vbench_long_reference.py aggregate IN_JSON OUT_JSON
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path


def _stub(name: str, **attrs: object) -> None:
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    sys.modules[name] = module


if len(sys.argv) > 1 and sys.argv[1] != "scenes":
    try:  # split/aggregate never call PySceneDetect; stub it only where it is not installed
        import scenedetect  # noqa: F401
    except ImportError:
        _stub("scenedetect", open_video=None, SceneManager=None, split_video_ffmpeg=None)
        _stub("scenedetect.detectors", ContentDetector=None)
        _stub("scenedetect.video_splitter", split_video_ffmpeg=None)
sys.modules.setdefault("moviepy", types.ModuleType("moviepy"))
_editor = types.ModuleType("moviepy.editor")
_editor.VideoFileClip = None
sys.modules.setdefault("moviepy.editor", _editor)

WRITTEN: list[dict] = []


def _record_write(filename, video_array, fps, **kwargs):
    frames = video_array.numpy() if hasattr(video_array, "numpy") else video_array
    WRITTEN.append(
        {
            "name": Path(filename).name,
            "folder": Path(filename).parent.name,
            "fps": fps,
            "num_frames": int(frames.shape[0]),
            "frame_sums": [float(f.sum()) for f in frames],
        }
    )


import torchvision.io  # noqa: E402

torchvision.io.write_video = _record_write  # gone from torchvision 0.29; vbench imports the name

import vbench2_beta_long.utils as vlu  # noqa: E402

vlu.write_video = _record_write


def split(videos_json: str, seconds: str, out_json: str) -> None:
    out = {}
    for video in json.loads(Path(videos_json).read_text()):
        WRITTEN.clear()
        vlu.split_video_into_clips(
            video, str(Path(out_json).parent / "split_clip"), int(seconds), fps=8
        )
        out[video] = list(WRITTEN)
    Path(out_json).write_text(json.dumps(out))


def scenes(videos_json: str, threshold: str, out_json: str) -> None:
    out = {}
    for video in json.loads(Path(videos_json).read_text()):
        WRITTEN.clear()
        found = vlu.split_video_into_scenes(video, str(Path(out_json).parent), float(threshold))
        out[video] = {"found": found, "written": list(WRITTEN)}
    Path(out_json).write_text(json.dumps(out))


def aggregate(in_json: str, out_json: str) -> None:
    """{"reorganize": [[dimension, detailed_results]], "fuse": [{...fuse_inclip_clip2clip args}]}"""
    spec = json.loads(Path(in_json).read_text())
    out = {"reorganize": [], "fuse": []}
    for dimension, detailed in spec["reorganize"]:
        all_results, _, per_video = vlu.reorganize_clips_results(detailed, dimension=dimension)
        out["reorganize"].append({"all_results": all_results, "per_video": per_video})
    for case in spec["fuse"]:
        fused, detailed = vlu.fuse_inclip_clip2clip(
            case["inclip_all"],
            case["clip2clip_all"],
            case["inclip_dict"],
            case["clip2clip_dict"],
            case["dimension"],
            **case["kwargs"],
        )
        out["fuse"].append({"all_results": fused, "detailed": detailed})
    Path(out_json).write_text(json.dumps(out))


if __name__ == "__main__":
    mode, *rest = sys.argv[1:]
    {"split": split, "scenes": scenes, "aggregate": aggregate}[mode](*rest)
