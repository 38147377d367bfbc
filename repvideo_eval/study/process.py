"""Run `study serve` as a separate process on a free loopback port (tests and the benchmark).

A real process, not an in-process app: what is measured or killed is exactly what a lab runs.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 60.0


def free_port() -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """`python run_eval.py study serve STUDY_DIR --port P` on 127.0.0.1; start(), kill(), stop()."""

    def __init__(self, study_dir: Path, port: int | None = None, log: Path | None = None) -> None:
        self.study_dir = Path(study_dir)
        self.port = port or free_port()
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerProcess:
        command = [sys.executable, str(REPO_ROOT / "run_eval.py"), "study", "serve"]
        command += [str(self.study_dir), "--host", "127.0.0.1", "--port", str(self.port)]
        env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
        output = self.log.open("ab") if self.log else subprocess.DEVNULL
        self.process = subprocess.Popen(command, env=env, stdout=output, stderr=output)
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"study server exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"study server did not answer on {self.url} in {STARTUP_TIMEOUT_S} s")

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs (the crash case)."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM and wait (a clean shutdown)."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
