"""Write the GRiT golden file: vbench's detectron2 GRiT on the golden frames, with margins.

Runs in the grit-check venv (detectron2; `scripts/grit_check.sh` builds it):
    PYTHONPATH=. ~/.cache/repvideo-eval/venv-grit/bin/python scripts/grit_golden.py --seed 0

Builds the seeded checkpoint (tests/scoring_grit/grit_recipe.py) after checking that the recipe's
key/shape list is vbench's model's, loads it into vbench's DenseCaptioning in both task modes,
runs the golden frames (tests/scoring_grit/grit_frames.py) and writes
tests/scoring_grit/golden_grit_b.json: the recipe, a digest of its weights and of each frame,
per frame and task what vbench reads (texts, integer boxes, ObjectDet texts) plus float boxes,
scores and token ids, each decision's smallest margin, and which frames cover which case.
A seed whose smallest margin is under --margin-floor (1e-4) is rejected (exit 1, nothing
written) so another machine's rounding cannot flip a decision; so is one that leaves a case
uncovered, unless --allow-uncovered names it (the file then lists it under "uncovered").
--progress dumps the results after each frame and --from-progress assembles the file from such
a dump (the reference run takes tens of minutes on a busy 2-core machine).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from scoring_grit.golden import CASES, GOLDEN_FILE, TASKS  # noqa: E402  (tests/ is on the path)


def coverage(frames: dict, results: dict, sep: int, wordpiece_ids: set[int]) -> dict[str, list]:
    """case -> the frames (name/task) that cover it."""
    found: dict[str, list] = {case: [] for case in CASES}
    for name, frame in frames.items():
        height, width = frame.shape[:2]
        if height < 224 and width < 224:
            found["smaller_than_a_window"].append(name)
        if height % 32 or width % 32:
            found["not_a_multiple_of_32"].append(name)
        if max(height, width) > 1024:
            found["side_over_1024"].append(name)
        for task, (out, trace) in results[name].items():
            where = f"{name}/{task}"
            ids = out["token_ids"] + out["object_token_ids"]
            if not out["texts"]:
                found["no_detection"].append(where)
            if len(out["texts"]) >= 2:
                found["several_boxes"].append(where)
            if trace["suppressed_by_final_nms"] > 0:
                found["final_nms_suppresses"].append(where)
            if any(
                x0 < 0 or y0 < 0 or x1 > width or y1 > height
                for x0, y0, x1, y1 in trace["kept_boxes_unclipped"]
            ):
                found["box_crosses_border"].append(where)
            if any(t[1:2] == [sep] or t == [sep] for t in ids):  # [sep]: every box ended first
                found["end_token_first"].append(where)
            if any(len(t) == 40 and sep not in t for t in ids):
                found["caption_reaches_40_tokens"].append(where)
            if any(wordpiece_ids & set(t[1:]) for t in ids):
                found["wordpiece_caption"].append(where)
    return found


def _saver(payload: dict):
    """A writer for repvideo_eval.atomic: torch.save(payload) to the temporary path."""
    import torch

    return lambda path: torch.save(payload, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", action="append", default=[], metavar="KNOB=VALUE",
                        help="override a Recipe knob (floats), e.g. heatmap_bias=-1.2")  # fmt: skip
    parser.add_argument("--frames", nargs="*", help="only these frames (no file is written)")
    parser.add_argument("--margin-floor", type=float, default=1e-4)
    parser.add_argument("--out", type=Path, default=GOLDEN_FILE)
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=TASKS)
    parser.add_argument("--progress", type=Path, help="also dump results here after each frame")
    parser.add_argument("--dry-run", action="store_true", help="report only, write nothing")
    parser.add_argument("--from-progress", type=Path,
                        help="assemble the file from an earlier run's --progress dump (same seed)")  # fmt: skip
    parser.add_argument("--irrelevant", nargs=2, action="append", default=[],
                        metavar=("MARGIN", "WHY"),
                        help="with --from-progress: a dump's margin that an older reference "
                        "recorded although it cannot change a detection (the reason is kept "
                        "in the file)")  # fmt: skip
    parser.add_argument("--allow-uncovered", nargs="*", default=[], choices=CASES,
                        help="accept these cases uncovered (listed in the file as uncovered)")  # fmt: skip
    args = parser.parse_args(argv)

    import torch
    from scoring_grit.grit_checkpoint import offline_bert_tokenizer
    from scoring_grit.grit_frames import golden_frames
    from scoring_grit.grit_recipe import (
        Recipe,
        grit_b_shapes,
        seeded_grit_state_dict,
        state_dict_digest,
    )
    from scoring_grit.grit_reference import ReferenceGrit
    from transformers import BertTokenizer

    from repvideo_eval.atomic import write_with_atomic

    knobs = {k: float(v) for k, v in (item.split("=", 1) for item in args.set)}
    recipe = Recipe(seed=args.seed, **knobs)
    frames = golden_frames()
    if args.frames:
        frames = {name: frames[name] for name in args.frames}
    results: dict[str, dict] = {name: {} for name in frames}
    if args.from_progress:
        results = {name: {t: tuple(v) for t, v in per.items()} for name, per in
                   json.loads(args.from_progress.read_text()).items()}  # fmt: skip
        frames = {name: frames[name] for name in results}
    with (
        tempfile.TemporaryDirectory(prefix="grit-golden-") as tmp,
        offline_bert_tokenizer(Path(tmp) / "bert"),
    ):
        tokenizer = BertTokenizer.from_pretrained("bert-base-uncased", do_lower_case=True)
        state = seeded_grit_state_dict(recipe, tokenizer)
        checkpoint = Path(tmp) / "grit_b_densecap_objectdet.pth"
        write_with_atomic(checkpoint, _saver({"model": state, "iteration": 0}))
        digest = state_dict_digest(state)
        del state
        for task in [] if args.from_progress else args.tasks:
            reference = ReferenceGrit(str(checkpoint), task)
            model_shapes = {
                k: tuple(v.shape) for k, v in reference.torch_model.state_dict().items()
            }
            if model_shapes != grit_b_shapes():
                raise SystemExit(
                    "vbench's GRiT keys/shapes differ from tests/scoring_grit/grit_b_keys.txt"
                )
            for name, frame in frames.items():
                start = time.perf_counter()
                out, trace = reference.run(frame)
                results[name][task] = (out, vars(trace))
                if args.progress:
                    args.progress.write_text(json.dumps(results))
                print(
                    f"{task:9s} {name:16s} {time.perf_counter() - start:6.1f}s boxes={len(out['texts'])} "
                    f"texts={out['texts'][:4]} objects={out['object_texts'][:4]} "
                    f"margins={ {k: round(v, 5) for k, v in trace.margins.items()} }",
                    flush=True,
                )
            del reference
        sep = tokenizer.sep_token_id
        wordpieces = {i for t, i in tokenizer.get_vocab().items() if t.startswith("##")}
    found = coverage(frames, results, sep, wordpieces)
    margins: dict[str, float] = {}
    for per_task in results.values():
        for _, trace in per_task.values():
            for key, value in trace["margins"].items():
                margins[key] = min(margins.get(key, math.inf), value)
    notes = {}
    for name, why in args.irrelevant:
        if not args.from_progress:
            raise SystemExit("--irrelevant applies to --from-progress dumps only")
        notes[name] = f"recorded {margins.pop(name):.3g}, not gating: {why}"
    print("coverage:", json.dumps(found, indent=1))
    print("smallest margins:", margins)
    problems = [
        f"margin {k}={v:.2e} < {args.margin_floor}"
        for k, v in margins.items()
        if v < args.margin_floor
    ]
    uncovered = [case for case, where in found.items() if not where]
    problems += [
        f"case not covered: {case}" for case in uncovered if case not in args.allow_uncovered
    ]
    if problems:
        print("REJECTED seed", args.seed, "\n  " + "\n  ".join(problems))
        return 1
    if args.dry_run or args.frames:
        print("accepted (not written: --dry-run/--frames)")
        return 0
    golden = {
        "about": "tests/scoring_grit/golden_grit_b.json: written by scripts/grit_golden.py",
        "recipe": recipe.as_json(),
        "weights_digest": digest,
        "torch": torch.__version__,
        "margin_floor": args.margin_floor,
        "smallest_margins": margins,
        "margin_notes": notes,
        "coverage": {case: where for case, where in found.items() if where},
        "uncovered": uncovered,
        "frames": {
            name: {
                "shape": list(frame.shape),
                "sha256": hashlib.sha256(frame.tobytes()).hexdigest(),
                **{task: out for task, (out, _) in results[name].items()},
                "margins": {task: trace["margins"] for task, (_, trace) in results[name].items()},
            }
            for name, frame in frames.items()
        },
    }
    from repvideo_eval.atomic import write_text_atomic

    write_text_atomic(args.out, json.dumps(golden, indent=1) + "\n")
    print("wrote", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
