"""Run vbench's own static-filter code (reference side of the parity tests), in a subprocess.

python vbench_static_reference.py scores RAFT_PTH VIDEOS_JSON OUT_JSON
    vbench.cli.static_filter.StaticFilter(args, 'cpu').infer(path) per video; records the
    per-pair scores and params it computed (check_static is wrapped, not replaced).
python vbench_static_reference.py select VIDEOS_DIR VERDICTS_JSON OUT_DIR
    vbench.cli.static_filter.static_filter(args) with --filter_scope temporal_flickering and
    RAFT replaced by a stub that answers from VERDICTS_JSON {filename: bool}; writes vbench's
    own result JSON into OUT_DIR and records the order in which vbench inspected the files.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def run_scores(raft_pth: str, videos_json: str, out_json: str) -> None:
    import vbench.cli.static_filter as vsf
    from easydict import EasyDict

    vsf.DEVICE = "cpu"  # vbench hard-codes 'cuda' for the frames
    args = EasyDict(model=raft_pth, small=False, mixed_precision=False, alternate_corr=False)
    flt = vsf.StaticFilter(args, device="cpu")
    seen: dict = {}
    original = flt.check_static

    def recording_check(score_list):
        verdict = original(score_list)
        seen.update(scores=[float(s) for s in score_list], params=dict(flt.params), check=verdict)
        return verdict

    flt.check_static = recording_check
    rows = []
    for path in json.loads(Path(videos_json).read_text()):
        seen.clear()
        static = flt.infer(path)
        rows.append(
            {
                "video": path,
                "static": bool(static),
                "scores": seen["scores"],
                "thres": float(seen["params"]["thres"]),
                "count_num": int(seen["params"]["count_num"]),
            }
        )
    Path(out_json).write_text(json.dumps(rows))


def run_select(videos_dir: str, verdicts_json: str, out_dir: str) -> None:
    import vbench.cli.static_filter as vsf
    from easydict import EasyDict

    verdicts = json.loads(Path(verdicts_json).read_text())
    inspected: list[str] = []

    class StubFilter:
        def __init__(self, args, device):
            pass

        def infer(self, path):
            inspected.append(Path(path).name)
            return verdicts[Path(path).name]

    vsf.StaticFilter = StubFilter
    args = EasyDict(
        videos_path=videos_dir,
        result_path=out_dir,
        store_name="filtered_static_video.json",
        filter_scope="temporal_flickering",
    )
    vsf.static_filter(args)
    Path(out_dir, "inspected.json").write_text(json.dumps(inspected))


if __name__ == "__main__":
    mode, *rest = sys.argv[1:]
    {"scores": run_scores, "select": run_select}[mode](*rest)
