"""User-facing errors.

A `UserError` is a mistake the user can fix (bad flag, missing weights, unwritable folder). The
CLI prints its message as one line on stderr and exits with code 2, never with a traceback.
Library code raises it with a message that names the problem *and* the fix.
"""

from __future__ import annotations

EXIT_USER_ERROR = 2


class UserError(Exception):
    """A problem in the user's input or environment, with the fix in the message."""

    exit_code: int = EXIT_USER_ERROR

    def __init__(self, problem: str, fix: str | None = None) -> None:
        message = problem if not fix else f"{problem.rstrip('.')}. {fix}"
        super().__init__(" ".join(message.split()))
