"""Load on the study server: 50 concurrent raters over real HTTP, paced and then flat out.

Starts `study serve` as its own process on a free loopback port (exactly what a lab runs) on a
synthetic study (tiny mp4s, no model) and runs N raters as coroutines over one aiohttp pool
(aiohttp rather than httpx: the generator shares the 2 cores with the server, and httpx costs
several times the server's own CPU per vote). Each rater loops GET /api/next -> POST /api/vote.
After a 2 s warm-up at the paced rate (connections opened, not reported), two phases side by side
in one run, both bounded by task count and by time:
- paced: every rater votes at --rate / N per second (open loop), so latency is measured at the
  target rate (at full speed, closed-loop raters only measure their own queue: latency = N / rate);
- flat out: no pauses, until the tasks run out or the time limit, for the sustainable rate.
Prints votes/s, p50/p99 latency of votes and next-task requests, errors, CPU per vote, and checks
that the database holds exactly the acknowledged votes. Target: >= 200 votes/s, p99 < 100 ms.

  .venv/bin/python benchmarks/study_load.py [--raters 50] [--rate 200] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from repvideo_eval.cli.main import main as cli_main  # noqa: E402
from repvideo_eval.study.process import ServerProcess  # noqa: E402
from tests.study.conftest import MODEL_A, MODEL_B, rows, write_runs  # noqa: E402

TASKS_PER_RATER = 90  # 30 pairs x 3 criteria
WARM_UP_S = 2.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), so cost per vote is load-independent."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else 0.0


class Phase:
    """Latencies and errors of one phase."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.next_ms: list[float] = []
        self.vote_ms: list[float] = []
        self.errors: list[str] = []
        self.seconds = 0.0
        self.server_cpu = 0.0
        self.client_cpu = 0.0


async def rater(
    session: aiohttp.ClientSession,
    token: str,
    phase: Phase,
    deadline: float,
    interval: float,
    acknowledged: list[str],
) -> None:
    """Vote until `deadline`, one cycle every `interval` seconds (0: no pause)."""
    due = time.perf_counter() + random.random() * interval
    while time.perf_counter() < deadline:
        if interval:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            due += interval
        start = time.perf_counter()
        try:
            async with session.get("/api/next", params={"token": token}) as response:
                status = response.status
                task = await response.json() if status == 200 else None
            phase.next_ms.append(1000 * (time.perf_counter() - start))
            if status == 204:
                return
            if task is None:
                phase.errors.append(f"next {status}")
                return
            body = {"token": token, "task_id": task["task_id"], "choice": "left"}
            start = time.perf_counter()
            async with session.post("/api/vote", json=body) as answer:
                await answer.read()
                status = answer.status
        except aiohttp.ClientError as exc:
            phase.errors.append(repr(exc))
            return
        phase.vote_ms.append(1000 * (time.perf_counter() - start))
        if status != 200:
            phase.errors.append(f"vote {status}")
            return
        acknowledged.append(body["task_id"])


async def run_phase(
    session: aiohttp.ClientSession,
    tokens: list[str],
    phase: Phase,
    seconds: float,
    rate: float,
    pid: int,
    acknowledged: list[str],
) -> None:
    interval = len(tokens) / rate if rate else 0.0
    server_cpu, client_cpu = cpu_seconds(pid), time.process_time()
    start = time.perf_counter()
    await asyncio.gather(
        *(rater(session, t, phase, start + seconds, interval, acknowledged) for t in tokens)
    )
    phase.seconds = time.perf_counter() - start
    phase.server_cpu = cpu_seconds(pid) - server_cpu
    phase.client_cpu = time.process_time() - client_cpu


async def load(
    base_url: str, tokens: list[str], args: argparse.Namespace, pid: int, acknowledged: list[str]
) -> list[Phase]:
    connector = aiohttp.TCPConnector(limit=len(tokens))
    timeout = aiohttp.ClientTimeout(total=30)
    phases = [Phase(f"paced at {args.rate:.0f}/s"), Phase("flat out")]
    async with aiohttp.ClientSession(base_url, connector=connector, timeout=timeout) as session:
        warm_up = Phase("warm-up")  # opens the 50 connections; not reported
        await run_phase(session, tokens, warm_up, WARM_UP_S, args.rate, pid, acknowledged)
        await run_phase(session, tokens, phases[0], args.seconds, args.rate, pid, acknowledged)
        await run_phase(session, tokens, phases[1], args.seconds, 0.0, pid, acknowledged)
    return phases


def report(phase: Phase) -> str:
    votes = len(phase.vote_ms)
    return (
        f"| {phase.name} | {votes} | {phase.seconds:.2f} | {votes / phase.seconds:.0f} | "
        f"{statistics.median(phase.vote_ms or [0]):.1f} | {percentile(phase.vote_ms, 0.99):.1f} | "
        f"{statistics.median(phase.next_ms or [0]):.1f} | {percentile(phase.next_ms, 0.99):.1f} | "
        f"{len(phase.errors)} | {1000 * phase.server_cpu / max(votes, 1):.2f} | "
        f"{1000 * phase.client_cpu / max(votes, 1):.2f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raters", type=int, default=50)
    parser.add_argument("--rate", type=float, default=200.0, help="paced phase: votes/s in all")
    parser.add_argument("--seconds", type=float, default=10.0, help="time limit of each phase")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run = write_runs(Path(tmp) / "run", prompts=6, samples=5)
        study = Path(tmp) / "study"
        create = ["study", "create", str(run), "--models", f"{MODEL_A},{MODEL_B}"]
        create += ["--output", str(study), "--raters", str(args.raters)]
        create += ["--tasks-per-rater", str(TASKS_PER_RATER)]
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            assert cli_main(create) == 0  # the printed links are not needed
        tokens = [t for (t,) in rows(study, "SELECT token FROM raters ORDER BY rater_id")]
        acknowledged: list[str] = []
        with ServerProcess(study) as server:
            assert server.process is not None
            phases = asyncio.run(load(server.url, tokens, args, server.process.pid, acknowledged))
        stored = {task_id for (task_id,) in rows(study, "SELECT task_id FROM votes")}
    print(
        f"# study_load: {args.raters} raters, <= {TASKS_PER_RATER} tasks each, <= {args.seconds:.0f}"
        f" s per phase; python {platform.python_version()}, {os.cpu_count()} CPUs, load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print(
        "| phase | votes | s | votes/s | vote p50 ms | vote p99 ms | next p50 ms | next p99 ms "
        "| errors | server CPU ms/vote | generator CPU ms/vote |"
    )
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for phase in phases:
        print(report(phase))
    print(
        f"database: {len(stored)} votes stored, {len(acknowledged)} acknowledged, "
        f"{'identical' if stored == set(acknowledged) else 'DIFFERENT'}"
    )
    for phase in phases:
        if phase.errors:
            print(f"{phase.name}: first errors {phase.errors[:3]}")


if __name__ == "__main__":
    main()
