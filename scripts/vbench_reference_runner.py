"""Run vbench 0.1.5's OWN code for one dimension on given videos; write per-video JSON.

    VBENCH_CACHE_DIR=<cache with the weight files> python scripts/vbench_reference_runner.py \
        DIMENSION SPEC_JSON OUT_JSON

SPEC_JSON: a list of {"video": path, "prompt": str, "auxiliary_info": {dimension: entry}}, i.e.
what VBench_full_info.json says about each video. The runner writes vbench's full-info JSON for
them and calls `vbench.<dimension>.compute_<dimension>(json, "cpu", init_submodules([dim],
local=True)[dim])`, exactly as `VBench.evaluate` does, then writes OUT_JSON: a list of
{"video", "value", ...extra} with vbench's per-video `video_results`.

Runs in the project venv (appearance_style, temporal_style, overall_consistency import there)
or in the reference venv made by scripts/vbench_reference_env.sh (human_action needs numpy<2,
scene needs transformers 4.33). It never downloads: socket connections raise, and vbench's own
downloaders (`wget` subprocesses) fail when the caller puts failing stubs first on PATH.
For human_action, vbench's `torch.topk` results are recorded too (top-5 indices and sigmoid
probabilities), since its per-video result is only a boolean.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import tempfile


def _block_network() -> None:
    def refuse(*args, **kwargs):
        raise OSError("network disabled in the vbench reference runner")

    socket.socket.connect = refuse  # type: ignore[method-assign]


def _full_info_json(dimension: str, spec: list[dict]) -> str:
    entries = []
    for row in spec:
        entry = {"prompt_en": row["prompt"], "dimension": [dimension], "video_list": [row["video"]]}
        if row.get("auxiliary_info"):
            entry["auxiliary_info"] = row["auxiliary_info"]
        entries.append(entry)
    handle = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    json.dump(entries, handle)
    handle.close()
    return handle.name


def _record_topk() -> list[dict]:
    import torch

    recorded: list[dict] = []
    original = torch.topk

    def topk(*args, **kwargs):
        values, indices = original(*args, **kwargs)
        recorded.append(
            {"top_probs": values.flatten().tolist(), "top_index": indices.flatten().tolist()}
        )
        return values, indices

    torch.topk = topk
    return recorded


def run(dimension: str, spec: list[dict]) -> list[dict]:
    import vbench  # noqa: F401  (reads VBENCH_CACHE_DIR once, now)
    from vbench.utils import init_submodules

    recorded = _record_topk() if dimension == "human_action" else []
    module = __import__(f"vbench.{dimension}", fromlist=["compute"])
    submodules = init_submodules([dimension], local=True)[dimension]
    _, per_video = getattr(module, f"compute_{dimension}")(
        _full_info_json(dimension, spec), "cpu", submodules
    )
    rows = []
    for i, result in enumerate(per_video):
        row = {"video": result["video_path"], "value": float(result["video_results"])}
        for key in ("frame_results", "success_frame_count", "frame_count"):
            if key in result:
                row[key] = result[key]
        if recorded:
            row.update(recorded[i])
        rows.append(row)
    return rows


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    if not os.environ.get("VBENCH_CACHE_DIR"):
        print("set VBENCH_CACHE_DIR to the folder holding the weight files", file=sys.stderr)
        return 2
    _block_network()
    dimension, spec_path, out_path = argv[1:]
    with open(spec_path) as handle:
        spec = json.load(handle)
    rows = run(dimension, spec)
    with open(out_path, "w") as handle:
        json.dump(rows, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
