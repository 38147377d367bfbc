"""REPVIDEO_EVAL_CRASH_AT: the n-th time a process reaches the named point, it and the driver die."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from repvideo_eval.crashpoints import CRASH_AT_ENV, DRIVER_PID_ENV, mark_driver
from repvideo_eval.errors import UserError

REPO = Path(__file__).resolve().parents[1]
# Reaches "score-written" three times, printing before each; video-written is never the target.
WORKER = (
    "for n in (1, 2, 3):\n"
    "    crash_point('video-written')\n"
    "    print(n, flush=True)\n"
    "    crash_point('score-written')\n"
)


def _worker(crash_at: str, driver_pid: int | None) -> subprocess.CompletedProcess:
    return _worker_code(crash_at, WORKER, driver_pid)


def _worker_code(
    crash_at: str | None, body: str, driver_pid: int | None = None
) -> subprocess.CompletedProcess:
    """Run `body` (with crash_point imported) in a fresh process under the given crash setting."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for name in (CRASH_AT_ENV, DRIVER_PID_ENV):
        env.pop(name, None)
    if crash_at is not None:
        env[CRASH_AT_ENV] = crash_at
    if driver_pid is not None:
        env[DRIVER_PID_ENV] = str(driver_pid)
    code = "from repvideo_eval.crashpoints import crash_point\n" + body
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )


def test_the_nth_time_kills_the_driver_then_the_worker() -> None:
    driver = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        worker = _worker("score-written:2", driver.pid)
        assert worker.returncode == -signal.SIGKILL
        assert worker.stdout.split() == ["1", "2"]  # died at the second score, not before
        assert driver.wait(timeout=30) == -signal.SIGKILL
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()


def test_without_a_driver_only_the_process_itself_dies() -> None:
    worker = _worker("score-written", None)
    assert worker.returncode == -signal.SIGKILL and worker.stdout.split() == ["1"]


def test_unset_or_another_point_does_nothing() -> None:
    """Unset, another point, or fewer passes than the count: the process runs to its end."""
    unset = _worker_code(None, "crash_point('score-written'); print('done', flush=True)")
    assert unset.returncode == 0 and unset.stdout.split() == ["done"], unset.stderr
    # Reaches video-written three times and score-written twice, short of the third time.
    counted = _worker_code(
        "score-written:3",
        "for n in (1, 2):\n"
        "    crash_point('video-written')\n"
        "    crash_point('score-written')\n"
        "    print(n, flush=True)\n"
        "crash_point('video-written')\n"
        "print('done', flush=True)\n",
    )
    assert counted.returncode == 0 and counted.stdout.split() == ["1", "2", "done"], counted.stderr


@pytest.mark.parametrize("spec", ["score", "score-written:0", "video-written:x"])
def test_a_misspelt_point_is_a_user_error_in_the_driver(
    spec: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CRASH_AT_ENV, spec)
    with pytest.raises(UserError, match="crash point"):
        mark_driver()


def test_the_driver_tells_its_workers_its_pid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CRASH_AT_ENV, "sidecar-written")
    monkeypatch.delenv(DRIVER_PID_ENV, raising=False)
    mark_driver()
    assert os.environ[DRIVER_PID_ENV] == str(os.getpid())
