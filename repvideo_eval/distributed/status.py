"""How far a stage has got, read from its manifest: `python -m repvideo_eval.distributed.status`.

Safe to run from another shell (or another node) while the stage runs: the manifest is only
read. Shows counts, remaining items, per-item timings and throughput per node, and failures.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from .manifest import DONE, FAILED, RETRYING, STARTED, ItemState, iter_events, read_manifest


@dataclass
class StageStatus:
    """Counts of one stage's items by status, with timings of the finished ones."""

    stage: str
    total: int | None  # items in the latest run of the stage (None: no run event recorded)
    counts: dict[str, int]
    seconds: list[float] = field(default_factory=list)
    per_node: dict[str, list[float]] = field(default_factory=dict)
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def remaining(self) -> int | None:
        if self.total is None:
            return None
        return max(0, self.total - self.counts.get(DONE, 0) - self.counts.get(FAILED, 0))


def stage_status(path: Path, stage: str | None = None) -> StageStatus:
    """Summarise `stage` (or the manifest's only stage) of the manifest at `path`."""
    states = read_manifest(path, stage)
    names = {s.stage for s in states.values()}
    name = stage if stage is not None else (names.pop() if names else "")
    total = None
    for record in iter_events(Path(path)):
        if record.get("event") == "run" and record.get("stage") == name:
            total = int(record.get("total", 0))
    return _summarise(name, total, states)


def _summarise(stage: str, total: int | None, states: dict[str, ItemState]) -> StageStatus:
    counts: dict[str, int] = defaultdict(int)
    status = StageStatus(stage=stage, total=total, counts=counts)
    per_node: dict[str, list[float]] = defaultdict(list)
    for state in states.values():
        counts[state.status] += 1
        if state.status == DONE and state.seconds is not None:
            status.seconds.append(state.seconds)
            per_node[state.node or "?"].append(state.seconds)
        elif state.status == FAILED:
            status.failed.append((state.key, state.error or ""))
    status.per_node = dict(per_node)
    return status


def format_status(status: StageStatus, max_failures: int = 10) -> str:
    """A few human-readable lines (what the command prints)."""
    c = status.counts
    lines = [
        f"stage {status.stage}: {c.get(DONE, 0)} done, {c.get(FAILED, 0)} failed, "
        f"{c.get(RETRYING, 0)} waiting for a retry, {c.get(STARTED, 0)} started "
        f"(running, or interrupted)"
        + ("" if status.remaining is None else f"; {status.remaining} of {status.total} left")
    ]
    if status.seconds:
        ordered = sorted(status.seconds)
        p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
        lines.append(
            f"seconds per item: median {statistics.median(ordered):.2f}, p90 {p90:.2f}, "
            f"mean {statistics.fmean(ordered):.2f}"
        )
        for node, secs in sorted(status.per_node.items(), key=lambda kv: -len(kv[1])):
            lines.append(
                f"  node {node[:12]}: {len(secs)} items, median {statistics.median(secs):.2f} s"
            )
    for key, error in status.failed[:max_failures]:
        lines.append(f"failed {key}: {error}")
    if len(status.failed) > max_failures:
        lines.append(f"... and {len(status.failed) - max_failures} more failed")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m repvideo_eval.distributed.status", description=__doc__.splitlines()[0]
    )
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--stage", default=None, help="needed when the file holds several stages")
    args = parser.parse_args(argv)
    if not args.manifest.is_file():
        print(f"error: no manifest at {args.manifest}", file=sys.stderr)
        return 2
    try:
        status = stage_status(args.manifest, args.stage)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_status(status))
    return 1 if status.failed else 0


if __name__ == "__main__":
    sys.exit(main())
