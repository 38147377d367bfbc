"""Stop a run dead at a named point, for resume tests: `REPVIDEO_EVAL_CRASH_AT=<point>[:<n>]`.

Crash injection without timing. When a process reaches `point` for the n-th time (default 1), it
sends SIGKILL to the run's driver and then to itself: what `kill -9` of the driver does to a run,
at an exact place. Points:

- `video-written`: a generation worker moved a video into place; its sidecar is not written yet.
- `sidecar-written`: a generation worker wrote a sidecar: the item is finished on disk, but the
  driver has not logged it in the manifest.
- `score-written`: a scoring worker wrote one score record (count them with `:<n>`).

Workers are Ray actors, other processes: they learn the driver's pid from the environment
(`REPVIDEO_EVAL_DRIVER_PID`, set by `mark_driver` before the driver starts its local Ray, whose
workers inherit it), so the hook works for runs that start their own Ray, not for runs that join
a running cluster. Unset, as in every real run, `crash_point` is one environment lookup.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

from repvideo_eval.errors import UserError

CRASH_AT_ENV = "REPVIDEO_EVAL_CRASH_AT"
DRIVER_PID_ENV = "REPVIDEO_EVAL_DRIVER_PID"
POINTS = ("video-written", "sidecar-written", "score-written")

_reached: Counter[str] = Counter()


def _parse(spec: str) -> tuple[str, int]:
    point, _, nth = spec.partition(":")
    if point not in POINTS or not (nth == "" or (nth.isdigit() and int(nth) >= 1)):
        raise UserError(
            f"{CRASH_AT_ENV}={spec!r} is not a crash point",
            f"Use one of {', '.join(POINTS)}, optionally with :N (the N-th time), or unset it.",
        )
    return point, int(nth or 1)


def mark_driver() -> None:
    """In the driver, before Ray starts: check the request and tell the workers whom to kill."""
    spec = os.environ.get(CRASH_AT_ENV)
    if spec:
        _parse(spec)
        os.environ[DRIVER_PID_ENV] = str(os.getpid())


def crash_point(point: str) -> None:
    """SIGKILL the driver and this process if `REPVIDEO_EVAL_CRASH_AT` names this point now."""
    spec = os.environ.get(CRASH_AT_ENV)
    if not spec:
        return
    wanted, nth = _parse(spec)
    if wanted != point:
        return
    _reached[point] += 1
    if _reached[point] != nth:
        return
    driver = int(os.environ.get(DRIVER_PID_ENV, os.getpid()))
    if driver != os.getpid():
        os.kill(driver, signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)
