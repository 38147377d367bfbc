"""Workers and items for the distributed tests: no models, just files, sleeps and failures.

State that must survive a worker's death (how often a key was tried, how often a worker was
built) is kept in files under `out_dir`, since each actor is a separate process.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import ray

from repvideo_eval.errors import UserError


@dataclass(frozen=True)
class Item:
    key: str
    value: int


def expected_text(item: Item) -> str:
    return f"{item.key}={item.value * item.value}\n" * 50


def _bump(folder: Path, name: str) -> int:
    """Count an event in a file per event (atomic across processes); return the new count."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.{uuid.uuid4().hex}").touch()
    return sum(1 for p in folder.iterdir() if p.name.startswith(f"{name}."))


def count(folder: Path, name: str) -> int:
    if not folder.exists():
        return 0
    return sum(1 for p in folder.iterdir() if p.name.startswith(f"{name}."))


def is_complete(out_dir: Path):
    def check(item: Item) -> bool:
        path = Path(out_dir) / f"{item.key}.txt"
        return path.exists() and path.read_text() == expected_text(item)

    return check


class FileWorker:
    """Writes `<key>.txt` atomically after `delay` seconds; counts its constructions."""

    def __init__(self, out_dir: str, delay: float = 0.0, delays: dict | None = None) -> None:
        self.out_dir = Path(out_dir)
        self.delay = delay
        self.delays = delays or {}
        self.pid = os.getpid()
        _bump(self.out_dir / "_inits", f"pid{self.pid}")

    def write(self, item: Item) -> None:
        path = self.out_dir / f"{item.key}.txt"
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        tmp.write_text(expected_text(item))
        os.replace(tmp, path)

    def process(self, item: Item) -> dict:
        _bump(self.out_dir / "_attempts", item.key)
        delay = self.delays.get(item.key, self.delay)
        if delay:
            time.sleep(delay)
        self.write(item)
        gpus = ray.get_runtime_context().get_accelerator_ids().get("GPU", [])
        return {"square": item.value * item.value, "pid": self.pid, "gpus": list(gpus)}


class FlakyWorker(FileWorker):
    """Raises for keys in `fail_times` until that key has been tried that many times."""

    def __init__(self, out_dir: str, fail_times: dict[str, int], delay: float = 0.0) -> None:
        super().__init__(out_dir, delay)
        self.fail_times = fail_times

    def process(self, item: Item) -> dict:
        tries = _bump(self.out_dir / "_flaky", item.key)
        if tries <= self.fail_times.get(item.key, 0):
            raise ValueError(f"flaky failure {tries} of {item.key}")
        return super().process(item)


class DyingWorker(FileWorker):
    """Its process dies (os._exit or SIGKILL mid-write) on the first try of the keys in `die_on`."""

    def __init__(self, out_dir: str, die_on: list[str], how: str = "exit") -> None:
        super().__init__(out_dir)
        self.die_on = set(die_on)
        self.how = how

    def process(self, item: Item) -> dict:
        if item.key in self.die_on and _bump(self.out_dir / "_deaths", item.key) == 1:
            if self.how == "exit":
                os._exit(3)
            path = self.out_dir / f"{item.key}.txt"
            path.write_text(expected_text(item)[:17])  # a partial file left behind
            os.kill(os.getpid(), signal.SIGKILL)
        return super().process(item)


class SlowInPlaceWorker(FileWorker):
    """Writes its output in place, slowly, in chunks: a kill leaves a partial file on disk."""

    def process(self, item: Item) -> dict:
        _bump(self.out_dir / "_attempts", item.key)
        text = expected_text(item)
        path = self.out_dir / f"{item.key}.txt"
        with open(path, "w") as handle:
            for start in range(0, len(text), len(text) // 4 + 1):
                handle.write(text[start : start + len(text) // 4 + 1])
                handle.flush()
                time.sleep(self.delay / 4)
        return {"square": item.value * item.value}


class BrokenInitWorker:
    """Cannot be built: a plain bug (RuntimeError) or a user mistake (UserError)."""

    def __init__(self, user_error: bool = False) -> None:
        if user_error:
            raise UserError("weights file /nowhere/model.pt is missing", "download it first")
        raise RuntimeError("cannot load the model")

    def process(self, item: Item) -> dict:  # pragma: no cover - never built
        return {}


class LateUserErrorWorker(FileWorker):
    """Starts fine, then meets a user mistake on item `bad` (a later model's missing weights)."""

    def __init__(self, out_dir: str, bad: str) -> None:
        super().__init__(out_dir)
        self.bad = bad

    def process(self, item: Item) -> dict:
        if item.key == self.bad:
            _bump(self.out_dir / "_attempts", item.key)
            raise UserError("weights file /nowhere/late.pt is missing", "download it first")
        return super().process(item)


class FragileStartWorker(DyingWorker):
    """Only the first `good_starts` constructions succeed; later ones (replacements) raise."""

    def __init__(self, out_dir: str, die_on: list[str], good_starts: int) -> None:
        if count(Path(out_dir) / "_starts", "start") >= good_starts:
            _bump(Path(out_dir) / "_starts", "refused")
            raise RuntimeError("GPU fell off the bus")
        _bump(Path(out_dir) / "_starts", "start")
        super().__init__(out_dir, die_on)


class FirstStartFailsWorker(FileWorker):
    """The very first construction in `out_dir` fails (one broken GPU); the others work."""

    def __init__(self, out_dir: str) -> None:
        try:
            fd = os.open(Path(out_dir) / "_first_start", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            super().__init__(out_dir)
            return
        os.close(fd)
        raise RuntimeError("CUDA error: no kernel image is available (one broken GPU)")
