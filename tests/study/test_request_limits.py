"""Request bodies: limited while they are read (chunked or not), and JSON nesting is a 400.

The memory test runs against a real `study serve` process and reads its peak resident memory
(VmHWM) before and after a 50 MB chunked vote that declares no length.
"""

from __future__ import annotations

import json
import socket
import threading
import urllib.request
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from repvideo_eval.study.app import MAX_BODY_BYTES, create_app
from repvideo_eval.study.process import ServerProcess
from tests.study.conftest import rows

CHUNK = 64 * 1024
FLOOD_BYTES = 50 * 1024 * 1024
#: Peak memory may grow by this much while a 50 MB body is refused (buffers, not the body).
ALLOWED_GROWTH_KB = 6 * 1024


@pytest.fixture
def study(make_study, small_run) -> Path:
    return make_study("--raters", "1", run=small_run)


def peak_rss_kb(pid: int) -> int:
    """The process's peak resident set size (VmHWM), in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc")


def chunked_post(port: int, total: int) -> bytes:
    """POST /api/vote with `total` bytes in chunks and no Content-Length; the raw answer.

    A reader thread takes the answer as soon as it comes, while the body is still being sent;
    sending stops when the server closes the connection.
    """
    answer = bytearray()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:

        def read() -> None:
            try:
                while data := sock.recv(65536):
                    answer.extend(data)
            except OSError:  # reset after the answer: the server closed with unread input
                pass

        reader = threading.Thread(target=read)
        reader.start()
        sock.sendall(
            b"POST /api/vote HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"%x\r\n" % CHUNK + b"[" * CHUNK + b"\r\n"
        try:
            for _ in range(total // CHUNK):
                sock.sendall(chunk)
            sock.sendall(b"0\r\n\r\n")
        except OSError:  # the server stopped reading and closed: what we want
            pass
        reader.join(timeout=30)
        assert not reader.is_alive(), "the server neither answered nor closed"
    return bytes(answer)


@pytest.mark.timeout(120)
def test_a_50_mb_chunked_vote_is_refused_without_reading_it(study, tmp_path):
    token = rows(study, "SELECT token FROM raters")[0][0]
    with ServerProcess(study, log=tmp_path / "server.log") as server:
        assert server.process is not None
        pid = server.process.pid
        # Warm up every code path the flood takes (routing, the vote handler, a 413).
        assert chunked_post(server.port, 8 * CHUNK).startswith(b"HTTP/1.1 413")
        assert b'"error"' in chunked_post(server.port, 2 * CHUNK)
        idle = peak_rss_kb(pid)
        answer = chunked_post(server.port, FLOOD_BYTES)
        grown = peak_rss_kb(pid) - idle
        status, _, rest = answer.partition(b"\r\n")
        assert status.startswith(b"HTTP/1.1 413 "), answer[:200]
        head, _, body = rest.partition(b"\r\n\r\n")
        assert b"content-type: application/json" in head.lower()
        assert str(MAX_BODY_BYTES) in json.loads(body)["error"]
        assert grown < ALLOWED_GROWTH_KB, f"peak memory grew by {grown} kB for a refused body"
        # The server still answers.
        url = f"{server.url}/api/next?token={token}"
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200


def test_chunked_bodies_over_the_limit_are_413_and_under_it_work(study):
    token = rows(study, "SELECT token FROM raters")[0][0]

    def pieces(data: bytes):
        for start in range(0, len(data), 1000):
            yield data[start : start + 1000]

    with TestClient(create_app(study)) as client:
        task = client.get("/api/next", params={"token": token}).json()
        vote = json.dumps({"token": token, "task_id": task["task_id"], "choice": "left"})
        too_big = client.post("/api/vote", content=pieces(b" " * MAX_BODY_BYTES + b"{}"))
        assert too_big.status_code == 413 and "error" in too_big.json()
        padded = vote.encode() + b" " * (MAX_BODY_BYTES - len(vote))
        accepted = client.post("/api/vote", content=pieces(padded))
        assert accepted.status_code == 200 and accepted.json()["choice"] == "left"


@pytest.mark.parametrize(
    "body",
    [b"[" * 2000 + b"]" * 2000, b'{"":[' * 580 + b"]}" * 580, b"[" * 4000],
    ids=["arrays", "objects", "unclosed"],
)
def test_deeply_nested_json_is_a_400(study, body):
    assert len(body) <= MAX_BODY_BYTES
    with TestClient(create_app(study)) as client:
        response = client.post("/api/vote", content=body)
    assert response.status_code == 400
    assert "not JSON" in response.json()["error"]
