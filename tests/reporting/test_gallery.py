"""gallery.html: escaped prompts, relative quoted links, and a real load in headless Chromium.

The browser test serves a folder holding both the run and the report with `python -m http.server`
on 127.0.0.1 (random free port), loads the page over HTTP and from file://, and checks the
rendered DOM: the leaderboard table, every prompt, every video loaded (the page's script marks
each <video> data-state="loaded" or "error"). Chromium missing is a failure, not a skip.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote

import pytest

from repvideo_eval.reporting import write_reports
from repvideo_eval.reporting.gallery import relative_url

REPVIDEO = {"cache_window": 6, "gates": "learned", "gate_value": None}
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--virtual-time-budget=10000",
]


@pytest.fixture
def gallery_site(tmp_path: Path, run_builder, card_factory):
    """site/runs/demo (2 models x 4 prompts x 2 samples, real mp4s) and site/reports/demo/gallery.html."""
    site = tmp_path / "site"
    run = run_builder(
        site / "runs" / "demo",
        [card_factory("cogvideox-tiny"), card_factory("repvideo-tiny", repvideo=REPVIDEO)],
        videos=True,
        errors={("repvideo-tiny", 1, 0, "motion_smoothness")},
    )
    paths = write_reports([run], site / "reports" / "demo", n_resamples=200)
    return site, run, paths


def test_prompts_are_escaped_and_links_are_relative_and_quoted(gallery_site) -> None:
    _site, run, paths = gallery_site
    page = paths.gallery.read_text(encoding="utf-8")
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "RANDOM WEIGHTS" in page
    sources = re.findall(r'<video [^>]*src="([^"]+)"', page)
    assert len(sources) == 16
    for source in sources:
        assert (
            not source.startswith(("/", "file:", "http"))
            and " " not in source
            and "#" not in source
            and "?" not in source
        )
        assert (paths.gallery.parent / unquote(source)).resolve().is_file()
    assert 'href="leaderboard.csv"' in page and 'href="radar.svg"' in page
    assert "error: decode failed: synthetic" in page


def test_relative_url_quotes_every_segment(tmp_path: Path) -> None:
    target = tmp_path / "runs" / "a b" / "100% #1?.mp4"
    assert relative_url(target, tmp_path / "report") == "../runs/a%20b/100%25%20%231%3F.mp4"


def find_chromium() -> str:
    """Path of the chromium binary; the calling test FAILS (never skips) when it is missing."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(
        "chromium is not installed: the HTML gallery test needs it. "
        "Install it with `apt-get install -y chromium` (Debian package 'chromium')."
    )


def _chromium(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _check_dom(dom: str) -> None:
    assert 'id="leaderboard-table"' in dom
    assert dom.count('class="prompt"') == 4
    assert "&lt;img src=x onerror=alert(1)&gt;" in dom and "<img" not in dom
    states = re.findall(r'<video [^>]*data-state="(\w+)"', dom)
    assert states == ["loaded"] * 16, states


def _serve(root: Path) -> tuple[subprocess.Popen, int]:
    server = subprocess.Popen(
        [
            sys.executable,
            "-u",
            "-m",
            "http.server",
            "0",
            "--bind",
            "127.0.0.1",
            "--directory",
            str(root),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert server.stdout is not None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = server.stdout.readline()
        match = re.search(r"port (\d+)", line)
        if match:
            return server, int(match.group(1))
    server.kill()
    raise AssertionError("http.server did not report its port")


def test_gallery_renders_in_headless_chromium_over_http_and_file(
    gallery_site, tmp_path: Path
) -> None:
    chromium_path = find_chromium()
    site, _run, paths = gallery_site
    server, port = _serve(site)
    try:
        url = f"http://127.0.0.1:{port}/reports/demo/gallery.html"
        result = _chromium(chromium_path, tmp_path / "profile-http", "--dump-dom", url)
        assert result.returncode == 0, result.stderr[-2000:]
        _check_dom(result.stdout)
        screenshot = tmp_path / "gallery.png"
        shot = _chromium(
            chromium_path,
            tmp_path / "profile-shot",
            f"--screenshot={screenshot}",
            "--window-size=1280,1600",
            url,
        )
        assert shot.returncode == 0, shot.stderr[-2000:]
        assert (
            screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            and screenshot.stat().st_size > 10_000
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
    result = _chromium(
        chromium_path, tmp_path / "profile-file", "--dump-dom", paths.gallery.resolve().as_uri()
    )
    assert result.returncode == 0, result.stderr[-2000:]
    _check_dom(result.stdout)


def test_report_written_into_the_run_folder_links_videos_directly(
    tmp_path: Path, run_builder, card_factory
) -> None:
    run = run_builder(
        tmp_path / "run",
        [card_factory("cogvideox-tiny")],
        videos=True,
        prompts=["a b#c"],
        samples=1,
    )
    paths = write_reports([run], run, n_resamples=200, plots=False)
    sources = re.findall(r'<video [^>]*src="([^"]+)"', paths.gallery.read_text(encoding="utf-8"))
    assert len(sources) == 1
    assert sources[0].startswith("videos/cogvideox-tiny-") and sources[0].endswith(
        "/a%20b%23c-0.mp4"
    )
    assert (run / unquote(sources[0])).is_file()
