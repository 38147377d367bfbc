"""atomic.py: whole-or-absent files and folders, modes from the umask, and cache entries that two
real processes can fill at the same moment."""

from __future__ import annotations

import http.server
import json
import os
import stat
import subprocess
import sys
import textwrap
import threading
import warnings
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from repvideo_eval.atomic import (
    AtomicFile,
    atomic_dir,
    current_umask,
    write_json_atomic,
    write_text_atomic,
    write_with_atomic,
)

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(params=[0o022, 0o027, 0o002])
def umask(request) -> Iterator[int]:
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_files_and_folders_follow_the_umask(tmp_path: Path, umask: int) -> None:
    assert current_umask() == umask
    assert _mode(write_text_atomic(tmp_path / "a.txt", "x")) == 0o666 & ~umask
    assert _mode(write_json_atomic({"b": 1}, tmp_path / "deep" / "b.json")) == 0o666 & ~umask
    assert _mode(tmp_path / "deep") == 0o777 & ~umask
    with AtomicFile(tmp_path / "c.csv") as stream:
        stream.temp.write_text("h\n")
    assert _mode(tmp_path / "c.csv") == 0o666 & ~umask
    with atomic_dir(tmp_path / "folder") as folder:
        (folder / "inside.txt").write_text("y")
    assert _mode(tmp_path / "folder") == 0o777 & ~umask
    assert _leftovers(tmp_path) == []


def test_json_is_sorted_indented_and_newline_terminated(tmp_path: Path) -> None:
    path = write_json_atomic({"b": [1], "a": "é"}, tmp_path / "x.json")
    assert path.read_text(encoding="utf-8") == '{\n  "a": "é",\n  "b": [\n    1\n  ]\n}\n'


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    target = write_text_atomic(tmp_path / "t.txt", "old")

    def half_then_fail(tmp: Path) -> None:
        tmp.write_text("half")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        write_with_atomic(target, half_then_fail)
    assert target.read_text() == "old" and _leftovers(tmp_path) == []
    stream = AtomicFile(tmp_path / "s.csv")
    stream.temp.write_text("part")
    stream.discard()
    assert not (tmp_path / "s.csv").exists() and _leftovers(tmp_path) == []


def test_a_folder_swap_never_replaces_a_filled_folder(tmp_path: Path) -> None:
    target = tmp_path / "out"
    with atomic_dir(target) as folder:
        (folder / "first.txt").write_text("1")
    with pytest.raises(FileExistsError):
        with atomic_dir(target) as folder:
            (folder / "second.txt").write_text("2")
    assert sorted(p.name for p in target.iterdir()) == ["first.txt"]
    assert _leftovers(tmp_path) == []
    with pytest.raises(RuntimeError):
        with atomic_dir(tmp_path / "never") as folder:
            raise RuntimeError("conversion failed")
    assert not (tmp_path / "never").exists() and _leftovers(tmp_path) == []


# Each racer prepares the same cache entries as the other, step by step; before each step both
# wait at a file barrier, so the two processes write the same entry at the same moment. The
# download step fetches one shared weight file plus one of its own (unpublished checksums: both
# are recorded in the one lock file, which neither process may clobber).
RACER = textwrap.dedent(
    """
    import json, os, sys, time
    from pathlib import Path
    import numpy as np
    import torch
    from repvideo_eval.scoring.checkpoints import torchscript_state_dict
    from repvideo_eval.scoring.long_mode.session import write_clip
    from repvideo_eval.scoring.semantic_models.viclip import ensure_bpe_file
    from repvideo_eval.scoring.weights import WeightFile, download_weight

    folder, me, base = Path(sys.argv[1]), sys.argv[2], sys.argv[3]

    def barrier(step):
        (folder / f"ready-{step}-{me}").touch()
        while len(list(folder.glob(f"ready-{step}-*"))) < 2:
            time.sleep(0.01)

    barrier("convert")
    state = torchscript_state_dict(folder / "scripted.pt", "a" * 64)
    barrier("bpe")
    bpe = ensure_bpe_file()
    barrier("clip")
    frames = np.full((8, 32, 32, 3), 128, dtype=np.uint8)
    write_clip(folder / "clips" / "v_000.mp4", frames, fps=8)
    barrier("download")
    for name in ("shared", f"own-{me}"):
        spec = WeightFile(name, f"m_model/{name}.bin", f"{base}/payload.bin")
        download_weight(spec, folder / "weights", progress=False)
    print(json.dumps({"keys": sorted(state), "bpe": str(bpe)}))
    """
)


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[tuple[str, bytes]]:
    """http://127.0.0.1:<port>/payload.bin (loopback only)."""
    root = tmp_path / "served"
    root.mkdir()
    payload = os.urandom(3 << 20)
    (root / "payload.bin").write_bytes(payload)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=root))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", payload
    server.shutdown()
    server.server_close()


def test_two_processes_fill_the_same_cache_entries_at_once(
    tmp_path: Path, served: tuple[str, bytes]
) -> None:
    import torch

    base, payload = served
    torch.jit.script(torch.nn.Linear(4, 3)).save(str(tmp_path / "scripted.pt"))
    env = {**os.environ, "PYTHONPATH": str(REPO), "VBENCH_CACHE_DIR": str(tmp_path / "vbench")}
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(tmp_path), name, base],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    results = []
    for racer in racers:
        stdout, stderr = racer.communicate(timeout=300)
        assert racer.returncode == 0, stderr[-3000:]
        results.append(json.loads(stdout.strip().splitlines()[-1]))
    assert results[0] == results[1] and results[0]["keys"] == ["bias", "weight"]

    from safetensors import safe_open

    with safe_open(str(tmp_path / "scripted.safetensors"), framework="pt") as handle:
        assert sorted(handle.keys()) == ["bias", "weight"]
        assert handle.metadata()["source_sha256"] == "a" * 64

    with warnings.catch_warnings():  # openai-clip imports pkg_resources, which warns
        warnings.simplefilter("ignore")
        import clip

    bpe = Path(results[0]["bpe"])
    assert bpe.read_bytes() == (Path(clip.__file__).parent / bpe.name).read_bytes()

    from repvideo_eval.generation.video_io import read_video_frames

    assert read_video_frames(tmp_path / "clips" / "v_000.mp4").shape == (8, 32, 32, 3)

    from repvideo_eval.scoring.weights import LOCK_FILE_NAME

    weight_cache = tmp_path / "weights"
    names = ("shared", "own-a", "own-b")
    assert all((weight_cache / "m_model" / f"{n}.bin").read_bytes() == payload for n in names)
    lock = json.loads((weight_cache / LOCK_FILE_NAME).read_text())
    assert sorted(lock) == sorted(f"m_model/{n}.bin" for n in names)
    for folder in (
        tmp_path,
        bpe.parent,
        tmp_path / "clips",
        weight_cache,
        weight_cache / "m_model",
    ):
        assert _leftovers(folder) == []  # one file per entry, no temp left behind
