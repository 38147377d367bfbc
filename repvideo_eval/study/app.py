"""The study's ASGI app (Starlette): rater page, admin page, video files by id, and the JSON API.

API (the page and the tests use it):
- GET  /api/next?token=T     200 {task_id, prompt, criterion, question, left, right, done, total,
                             allow_ties}, or 204 when the rater has finished; 401 unknown token.
- POST /api/vote             JSON {token, task_id, choice}: 200 once committed (a repeat of the same
                             vote is 200 and counted once), 409 a different choice for an answered
                             task, 401 unknown token, 404 task not the rater's, 400 bad JSON, 422
                             bad fields or a choice the study does not allow, 413 too large,
                             503 when the database cannot commit (nothing acknowledged).
- GET  /api/progress?token=ADMIN   per-rater progress (admin token only).
Videos are served only by their random id from the plan; nothing in a request names a file, and
nothing a rater receives names a model.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sqlite3
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from repvideo_eval.study.criteria import CRITERIA
from repvideo_eval.study.database import database_path, make_private, open_study
from repvideo_eval.study.pages import admin_page, plain_page
from repvideo_eval.study.schema import CHOICES
from repvideo_eval.study.state import StudyState, Task
from repvideo_eval.study.writer import VoteResult, VoteWriter

MAX_BODY_BYTES = 4096
STATIC_TYPES = {
    "rater.html": "text/html; charset=utf-8",
    "rater.js": "text/javascript; charset=utf-8",
    "study.css": "text/css; charset=utf-8",
}
SECURITY_HEADERS = [
    # Rater and admin links carry their token: never send it on to another site.
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (
        b"content-security-policy",
        b"default-src 'self'; media-src 'self'; img-src 'self'; object-src 'none'; "
        b"base-uri 'none'; frame-ancestors 'none'",
    ),
]


def _static_files() -> dict[str, bytes]:
    """The page's files, read once from the package (a fixed list: no request names a file)."""
    folder = resources.files("repvideo_eval.study") / "static"
    return {name: (folder / name).read_bytes() for name in STATIC_TYPES}


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse(
        {"error": message}, status_code=status, headers={"cache-control": "no-store"}
    )


def ok(payload: dict[str, Any]) -> JSONResponse:
    return JSONResponse(payload, headers={"cache-control": "no-store"})


class _SecurityHeaders:
    """Pure ASGI middleware (cheap on every request) adding `SECURITY_HEADERS`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _limited_body(request: Request, limit: int) -> bytes | None:
    """The body, read chunk by chunk; None as soon as it passes `limit` bytes.

    A declared Content-Length over the limit is refused before reading; a chunked body (no
    length) is refused once its chunks pass the limit, so memory never holds more than `limit`
    plus one chunk, whatever the client sends.
    """
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


class _VideoResponse(FileResponse):
    """A video file with byte ranges and no validator: no Last-Modified and no ETag.

    Starlette derives both from the file's time, and a run writes the two arms one after the
    other, so either would tell a rater which video is which model. Without a validator an
    If-Range never matches (the whole file is sent, as RFC 9110 asks); Cache-Control still lets
    the browser keep the video.
    """

    def set_stat_headers(self, stat_result: os.stat_result) -> None:
        self.headers.setdefault("content-length", str(stat_result.st_size))

    def _should_use_range(self, http_if_range: str) -> bool:
        return False


class StudyServer:
    """Holds the state and the writer; its methods are the routes."""

    def __init__(self, study_dir: Path) -> None:
        self.study_dir = Path(study_dir)
        if database_path(self.study_dir).is_file():
            make_private(self.study_dir)  # before SQLite makes its -wal/-shm with the same mode
        connection = open_study(self.study_dir)
        try:
            self.state = StudyState.load(connection)
        finally:
            connection.close()
        make_private(self.study_dir)
        self.static = _static_files()
        self.writer = VoteWriter(database_path(self.study_dir), self._committed)

    def _committed(self, task_id: str, rater_id: int, result: VoteResult) -> None:
        self.state.record(task_id, rater_id, result.stored, result.voted_at)

    def _task_payload(self, task: Task) -> dict[str, Any]:
        done, total = self.state.progress(task.rater_id)
        return {
            "task_id": task.task_id,
            "prompt": task.prompt,
            "criterion": task.criterion,
            "question": CRITERIA.get(task.criterion, task.criterion),
            "left": f"/video/{task.left_video}",
            "right": f"/video/{task.right_video}",
            "done": done,
            "total": total,
            "allow_ties": self.state.allow_ties,
        }

    async def next_task(self, request: Request) -> Response:
        rater = self.state.tokens.get(request.query_params.get("token", ""))
        if rater is None:
            return error(401, "unknown token: use the link you were given")
        task = self.state.next_task(rater)
        if task is None:
            return Response(status_code=204, headers={"cache-control": "no-store"})
        return ok(self._task_payload(task))

    async def vote(self, request: Request) -> Response:
        body = await _limited_body(request, MAX_BODY_BYTES)
        if body is None:
            response = error(413, f"the body must be a JSON object under {MAX_BODY_BYTES} bytes")
            response.headers["connection"] = "close"  # stop taking the rest of the upload
            return response
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):  # deep nesting: RecursionError
            return error(400, "the body is not JSON: send {token, task_id, choice}")
        fields = ("token", "task_id", "choice")
        if not isinstance(data, dict) or not all(isinstance(data.get(f), str) for f in fields):
            return error(422, "the body must be a JSON object with string token, task_id, choice")
        allowed = CHOICES if self.state.allow_ties else tuple(c for c in CHOICES if c != "tie")
        if data["choice"] not in allowed:
            return error(422, f"choice must be one of {', '.join(allowed)}")
        rater = self.state.tokens.get(data["token"])
        if rater is None:
            return error(401, "unknown token: use the link you were given")
        task = self.state.tasks.get(data["task_id"])
        if task is None or task.rater_id != rater:
            return error(404, "no such task for this rater")
        stored = self.state.votes.get(task.task_id)
        if stored is None:
            try:
                result = await self.writer.submit(task.task_id, rater, data["choice"])
            except sqlite3.Error as exc:  # disk full, read-only folder: nothing was acknowledged
                return error(503, f"the vote could not be saved ({exc}); try again")
            stored = result.stored
        if stored != data["choice"]:
            return error(409, f"this task was already answered with {stored!r}")
        done, total = self.state.progress(rater)
        return ok({"task_id": task.task_id, "choice": stored, "done": done, "total": total})

    async def video(self, request: Request) -> Response:
        path = self.state.videos.get(request.path_params["video_id"])
        if path is None:
            return error(404, "no such video")
        if not path.is_file():
            return error(410, "this video is no longer on the server's disk")
        return _VideoResponse(
            path, media_type="video/mp4", headers={"cache-control": "private, max-age=3600"}
        )

    def _static(self, name: str) -> Response:
        return Response(
            self.static[name],
            media_type=STATIC_TYPES[name],
            headers={"cache-control": "no-cache"},
        )

    async def static_file(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC_TYPES or name.endswith(".html"):
            return error(404, "not found")
        return self._static(name)

    async def rater_page(self, request: Request) -> Response:
        if request.path_params["token"] not in self.state.tokens:
            return HTMLResponse(
                plain_page("Unknown link", "This link is not part of the study. Check the link."),
                status_code=404,
            )
        response = self._static("rater.html")
        response.headers["cache-control"] = "no-store"
        return response

    def _is_admin(self, token: str) -> bool:
        return secrets.compare_digest(token.encode(), self.state.admin_token.encode())

    def _progress(self, base_url: str) -> dict[str, Any]:
        raters = []
        for rater, token in sorted(self.state.rater_tokens.items()):
            done, total = self.state.progress(rater)
            last = self.state.last_vote_at.get(rater)
            raters.append(
                {
                    "rater_id": rater,
                    "link": f"{base_url}r/{token}",
                    "done": done,
                    "total": total,
                    "last_vote": None
                    if last is None
                    else datetime.fromtimestamp(last, timezone.utc).isoformat(timespec="seconds"),
                }
            )
        return {
            "votes": len(self.state.votes),
            "tasks": len(self.state.tasks),
            "finished_raters": sum(1 for r in raters if r["done"] == r["total"]),
            "raters": raters,
        }

    async def progress(self, request: Request) -> Response:
        if not self._is_admin(request.query_params.get("token", "")):
            return error(401, "admin token required")
        return ok(self._progress(str(request.base_url)))

    async def admin(self, request: Request) -> Response:
        if not self._is_admin(request.path_params["token"]):
            return HTMLResponse(plain_page("Unknown link", "This is not the admin link."), 404)
        return HTMLResponse(
            admin_page(self._progress(str(request.base_url))), headers={"cache-control": "no-store"}
        )

    async def home(self, request: Request) -> Response:
        return HTMLResponse(plain_page("Video study", "Open the personal link you were given."))

    async def health(self, request: Request) -> Response:
        return ok({"ok": True})


def create_app(study_dir: Path) -> ASGIApp:
    """The ASGI app for one study folder (the writer thread runs for the app's lifespan)."""
    server = StudyServer(study_dir)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        server.writer.start()
        try:
            yield
        finally:
            server.writer.close()

    app = Starlette(
        routes=[
            Route("/", server.home),
            Route("/healthz", server.health),
            Route("/r/{token}", server.rater_page),
            Route("/admin/{token}", server.admin),
            Route("/static/{name}", server.static_file),
            Route("/video/{video_id}", server.video),
            Route("/api/next", server.next_task),
            Route("/api/vote", server.vote, methods=["POST"]),
            Route("/api/progress", server.progress),
        ],
        lifespan=lifespan,
    )
    return _SecurityHeaders(app)
