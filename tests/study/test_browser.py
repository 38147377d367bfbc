"""A whole small study in headless Chromium (Debian's `chromium`, driven by Playwright).

Two raters finish every task on the real rater page served by a real `study serve` process: one
clicks the buttons on a desktop-size window, one uses the keys on a phone-size screen. Then the
admin page and `study report` must agree with what was clicked.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from repvideo_eval.cli.main import main
from repvideo_eval.study.process import ServerProcess
from tests.study.conftest import AWKWARD_PROMPTS, MODEL_A, MODEL_B, rows

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).is_file():
        pytest.fail("chromium is not installed: apt-get install -y chromium (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield launched
        launched.close()


def wait_ready(page, previous_task: str | None) -> str:
    """Wait for the next task (a new task id) or the thank-you page; return the state."""
    page.wait_for_function(
        "prev => document.body.dataset.state === 'done' || (document.body.dataset.state === "
        "'ready' && document.getElementById('task').dataset.taskId !== prev)",
        arg=previous_task or "",
    )
    return page.evaluate("document.body.dataset.state")


def check_task_view(page, expected_total: int, done: int) -> None:
    """What the rater sees: question, prompt as plain text, two looping videos side by side."""
    assert page.locator("#question").inner_text().startswith("Which video")
    prompt = page.locator("#prompt").inner_text()
    assert prompt in AWKWARD_PROMPTS[:2], "the prompt is shown as text, never as markup"
    assert page.locator(".prompt img").count() == 0
    assert (
        page.locator("#progress-text").inner_text() == f"Comparison {done + 1} of {expected_total}"
    )
    videos = [page.locator("#left-video"), page.locator("#right-video")]
    boxes = [video.bounding_box() for video in videos]
    width = page.viewport_size["width"]
    assert boxes[0]["x"] + boxes[0]["width"] <= boxes[1]["x"] <= width, "side by side, on screen"
    assert abs(boxes[0]["y"] - boxes[1]["y"]) < 1
    for video in videos:
        assert video.evaluate("v => v.loop && v.muted && v.src.includes('/video/')")
    body = page.content()
    assert MODEL_A not in body and MODEL_B not in body
    for button in ("#choose-left", "#choose-right"):
        box = page.locator(button).bounding_box()
        assert box["y"] + box["height"] <= page.viewport_size["height"] + 1, "buttons reachable"


def wait_playing_in_sync(page) -> None:
    """Both videos play, and the right one stays within a few frames of the left one."""
    page.wait_for_function(
        "() => { const l = document.getElementById('left-video'), "
        "r = document.getElementById('right-video'); "
        "return !l.paused && !r.paused && l.currentTime > 0.2 && "
        "Math.abs(l.currentTime - r.currentTime) < 0.3; }",
        timeout=20_000,
    )


@pytest.mark.timeout(300)
def test_two_raters_finish_a_study_in_chromium(browser, make_study, small_run, tmp_path):
    study = make_study(
        "--raters", "2", "--tasks-per-rater", "6", "--repeats", "1", "--allow-ties", run=small_run
    )
    tokens = [t for (t,) in rows(study, "SELECT token FROM raters ORDER BY rater_id")]
    (admin,) = rows(study, "SELECT json_extract(value, '$') FROM meta WHERE key = 'admin_token'")[0]
    total = 7
    clicked: dict[str, str] = {}
    with ServerProcess(study, log=tmp_path / "server.log") as server:
        # Rater 0: desktop window, clicks; rater 1: phone-size screen, keys.
        for rater, (context_options, use_keys) in enumerate([({}, False), (PHONE, True)]):
            context = browser.new_context(**context_options)
            page = context.new_page()
            page.goto(f"{server.url}/r/{tokens[rater]}")
            task_id = None
            for done in range(total):
                assert wait_ready(page, task_id) == "ready"
                task_id = page.locator("#task").get_attribute("data-task-id")
                check_task_view(page, total, done)
                if rater == 0 and done == 0:
                    wait_playing_in_sync(page)
                choice = ("left", "right", "tie")[done % 3]
                if use_keys:
                    page.keyboard.press(
                        {"left": "ArrowLeft", "right": "l", "tie": "ArrowDown"}[choice]
                    )
                else:
                    page.click(f"#choose-{choice}")
                clicked[task_id] = choice
            assert wait_ready(page, task_id) == "done"
            assert page.locator("#done").is_visible()
            assert "Thank you" in page.locator("#done").inner_text()
            page.reload()
            assert wait_ready(page, None) == "done", "a finished rater sees the thank-you page"
            context.close()
        admin_page = browser.new_page()
        admin_page.goto(f"{server.url}/admin/{admin}")
        assert "14 of 14 judgements recorded; 2 of 2 raters finished" in admin_page.inner_text(
            "#summary"
        )
        admin_page.close()
    assert dict(rows(study, "SELECT task_id, choice FROM votes")) == clicked
    assert main(["study", "report", str(study)]) == 0
    report = json.loads((study / "study.json").read_text())
    assert report["models"] == [MODEL_A, MODEL_B]
    assert (report["votes"], report["tasks"], report["complete"]) == (14, 14, True)
    for name in ("study.csv", "study.md"):
        assert (study / name).is_file()
