"""Run vbench 0.1.5's own `compute_scene` (in the reference venv) and record every caption.

    VBENCH_CACHE_DIR=<fixture> HF_HOME=<fixture>/hf_home HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
        .venv-vbench-ref/bin/python tests/scoring_scene/scene_reference_runner.py SPEC_JSON MED_CONFIG OUT_JSON

SPEC_JSON: a list of {"video", "prompt", "auxiliary_info": {"scene": <VBench_full_info entry>}}.
The runner writes vbench's full-info JSON for them and calls
`vbench.scene.compute_scene(json, "cpu", init_submodules(["scene"], local=True)["scene"])` as
`VBench.evaluate` does, with one addition to the submodule kwargs: `med_config=MED_CONFIG`
(an argument of vbench's own `Tag2Text_Caption`), so the BERT parts can be cut to 2 layers
and a parity run stays within minutes. Autograd is switched off (memory only, values unchanged). `vbench.scene.get_caption` is wrapped to record each
video's captions and tags. Sockets are refused; nothing is downloaded.
(scripts/vbench_reference_runner.py has no hook for either, hence this file.)
"""

from __future__ import annotations

import json
import socket
import sys
import tempfile


def main(argv: list[str]) -> int:
    spec_path, med_config, out_path = argv[1:4]

    def refuse(*args, **kwargs):
        raise OSError("network disabled in the scene reference runner")

    socket.socket.connect = refuse  # type: ignore[method-assign]
    import torch

    torch.set_num_threads(2)
    # vbench's scene() runs without no_grad: on CPU the autograd graph of Swin-B over 16 frames
    # (kept alive through generation) needs >14 GB. Grad mode does not change forward values.
    torch.set_grad_enabled(False)
    import vbench.scene as scene
    from vbench.utils import init_submodules

    recorded: list[dict] = []

    def get_caption(model, image_arrays):  # vbench's get_caption, plus the record
        caption, tag_predict = model.generate(image_arrays, tag_input=None, return_tag_predict=True)
        recorded.append({"captions": list(caption), "tags": list(tag_predict)})
        return caption

    scene.get_caption = get_caption
    spec = json.load(open(spec_path))
    entries = [
        {
            "prompt_en": row["prompt"],
            "dimension": ["scene"],
            "video_list": [row["video"]],
            "auxiliary_info": row["auxiliary_info"],
        }
        for row in spec
    ]
    handle = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    json.dump(entries, handle)
    handle.close()
    submodules = dict(init_submodules(["scene"], local=True)["scene"], med_config=med_config)
    total, per_video = scene.compute_scene(handle.name, "cpu", submodules)
    rows = [
        dict(
            video=r["video_path"],
            value=float(r["video_results"]),
            success_frame_count=r["success_frame_count"],
            frame_count=r["frame_count"],
            **recorded[i],
        )
        for i, r in enumerate(per_video)
    ]
    json.dump({"total": total, "videos": rows}, open(out_path, "w"), indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
