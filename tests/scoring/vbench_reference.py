"""Run vbench 0.1.5's own code for one dimension on a list of videos; write per-video JSON.

Used by the parity tests as a subprocess (one per dimension, so vbench's import-time state and
module caches never leak between dimensions or into the pytest process):
    python tests/scoring/vbench_reference.py DIMENSION VIDEOS_JSON OUT_JSON [--dino ours|timm]
VBENCH_CACHE_DIR must point at the fixture cache before vbench is imported (it is read once).
Network access is blocked in-process (socket.connect raises) and the parent puts failing
wget/git/curl/unzip stubs first on PATH, so a missing file fails loudly instead of downloading.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import tempfile


def _block_network() -> None:
    def refuse(*args, **kwargs):
        raise OSError("network disabled in the vbench parity subprocess")

    socket.socket.connect = refuse  # type: ignore[method-assign]


def _full_info_json(dimension: str, videos: list[str]) -> str:
    entries = [{"prompt_en": "parity", "dimension": [dimension], "video_list": videos}]
    handle = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    json.dump(entries, handle)
    handle.close()
    return handle.name


def run_compute(dimension: str, videos: list[str]) -> list[dict]:
    from vbench.utils import init_submodules

    module = __import__(f"vbench.{dimension}", fromlist=["x"])
    submodules = init_submodules([dimension], local=True)[dimension]
    _, per_video = getattr(module, f"compute_{dimension}")(
        _full_info_json(dimension, videos), "cpu", submodules
    )
    return [{"video": r["video_path"], "value": float(r["video_results"])} for r in per_video]


def run_dynamic_degree(videos: list[str]) -> list[dict]:
    from easydict import EasyDict
    from vbench.dynamic_degree import DynamicDegree, dynamic_degree
    from vbench.utils import CACHE_DIR

    class Recording(DynamicDegree):
        def check_move(self, score_list):
            self.recorded.append({"pair_scores": [float(s) for s in score_list], **self.params})
            return super().check_move(score_list)

    args = EasyDict(
        model=f"{CACHE_DIR}/raft_model/models/raft-things.pth",
        small=False,
        mixed_precision=False,
        alternate_corr=False,
    )
    model = Recording(args, "cpu")
    model.recorded = []
    _, per_video = dynamic_degree(model, videos)
    return [
        {"video": r["video_path"], "value": float(bool(r["video_results"])), **extra}
        for r, extra in zip(per_video, model.recorded)
    ]


def run_subject_consistency(videos: list[str], dino: str) -> list[dict]:
    import torch
    from vbench.subject_consistency import subject_consistency
    from vbench.utils import CACHE_DIR

    state = torch.load(
        f"{CACHE_DIR}/dino_model/dino_vitbase16_pretrain.pth", map_location="cpu", weights_only=True
    )
    if dino == "timm":
        import timm

        model = timm.models.vision_transformer.VisionTransformer(
            patch_size=16,
            embed_dim=768,
            depth=12,
            num_heads=12,
            qkv_bias=True,
            num_classes=0,
            global_pool="token",
        )
    else:
        from repvideo_eval.scoring.models.dino_vit import DinoViT

        model = DinoViT()
    model.load_state_dict(state, strict=True)
    _, per_video = subject_consistency(model, videos, "cpu", read_frame=False)
    return [{"video": r["video_path"], "value": float(r["video_results"])} for r in per_video]


def main() -> None:
    dimension, videos_json, out_json = sys.argv[1:4]
    dino = sys.argv[5] if len(sys.argv) > 5 and sys.argv[4] == "--dino" else "ours"
    assert os.environ.get("VBENCH_CACHE_DIR"), "set VBENCH_CACHE_DIR before running"
    _block_network()
    videos = json.loads(open(videos_json).read())
    if dimension == "dynamic_degree":
        results = run_dynamic_degree(videos)
    elif dimension == "subject_consistency":
        results = run_subject_consistency(videos, dino)
    else:
        results = run_compute(dimension, videos)
    with open(out_json, "w") as handle:
        json.dump(results, handle)


if __name__ == "__main__":
    main()
