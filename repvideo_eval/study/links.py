"""The address raters open (`study create --base-url`), checked before anything is written.

The printed rater and admin links are `<base>/r/<token>` and `<base>/admin/<token>`. The pages use
absolute paths (`/api/...`, `/static/...`), so the base is a scheme and host (and port) only.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from repvideo_eval.errors import UserError

SCHEMES = ("http", "https")
EXAMPLE = "e.g. --base-url https://study.example.org or --base-url http://127.0.0.1:8765"


def parse_base_url(text: str) -> str:
    """`scheme://host[:port]` (scheme lower-cased, no trailing slash), or a UserError."""

    def refuse(reason: str) -> UserError:
        return UserError(
            f"--base-url {text!r} is not an address raters can open: {reason}",
            f"Pass the scheme and host (and port) the study is served on, {EXAMPLE}.",
        )

    if any(char.isspace() or not char.isprintable() for char in text):
        raise refuse("it holds a space or control character")
    try:
        parts = urlsplit(text)
    except ValueError as exc:  # e.g. an unclosed IPv6 bracket
        raise refuse(str(exc)) from None
    if parts.scheme.lower() not in SCHEMES:
        raise refuse("the scheme must be http or https")
    if not parts.hostname:
        raise refuse("it names no host")
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when asked
    except ValueError:
        raise refuse("the port must be a number from 0 to 65535") from None
    if parts.username is not None or parts.password is not None:
        raise refuse("it holds a user name or password")
    if parts.query or "?" in text:
        raise refuse("it has a query (?...)")
    if parts.fragment or "#" in text:
        raise refuse("it has a fragment (#...)")
    if parts.path not in ("", "/"):
        raise refuse("it has a path; the study is served at the root of its host")
    return f"{parts.scheme.lower()}://{parts.netloc}"
