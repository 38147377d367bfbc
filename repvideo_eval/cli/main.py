"""Command-line entry point: `repvideo-eval` / `python run_eval.py`.

Without a subcommand it evaluates (`--model ... --suite ...`); subcommands live in one module each
(`add_arguments` + `execute`) and are imported only when used, so `--help` and `list` stay fast.
A `UserError` anywhere becomes one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from repvideo_eval.errors import EXIT_USER_ERROR, UserError

# command name -> module implementing it (its docstring is the command's --help description)
COMMANDS: dict[str, str] = {
    "run": "repvideo_eval.cli.run",
    "list": "repvideo_eval.cli.list_command",
    "ablate": "repvideo_eval.cli.ablate",
    "report": "repvideo_eval.cli.report",
    "score": "repvideo_eval.cli.score",
    "fetch-weights": "repvideo_eval.cli.fetch_weights",
    "convert-repvideo": "repvideo_eval.cli.convert_repvideo",
    "analyze": "repvideo_eval.cli.analyze",
    "study": "repvideo_eval.cli.study",
}
DEFAULT_COMMAND = "run"


def _load(command: str) -> ModuleType:
    return importlib.import_module(COMMANDS[command])


class _OneLineErrors(argparse.ArgumentParser):
    """argparse already prints one line and exits 2 for bad flags; keep its usage line short."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USER_ERROR, f"{self.prog}: error: {message}. See --help.\n")


def build_parser(command: str) -> argparse.ArgumentParser:
    module = _load(command)
    prog = "run_eval.py" if command == DEFAULT_COMMAND else f"run_eval.py {command}"
    parser = _OneLineErrors(
        prog=prog,
        description=(module.__doc__ or "").strip(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if command == DEFAULT_COMMAND:
        others = ", ".join(name for name in COMMANDS if name != DEFAULT_COMMAND)
        parser.epilog = f"Other commands: {others} (run_eval.py COMMAND --help)."
    module.add_arguments(parser)
    return parser


def _quiet_defaults() -> None:
    """A local Ray started by this command needs no token auth; its usage stats stay off."""
    import os

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def main(argv: Sequence[str] | None = None) -> int:
    _quiet_defaults()
    args_list = list(sys.argv[1:] if argv is None else argv)
    command = DEFAULT_COMMAND
    if args_list and args_list[0] in COMMANDS:
        command = args_list.pop(0)
    try:
        parser = build_parser(command)
        args = parser.parse_args(args_list)
        return int(_load(command).execute(args) or 0)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - a worker that cannot start anywhere is an environment problem
        from repvideo_eval.distributed import WorkerStartError

        if not isinstance(error, WorkerStartError):
            raise
        message = " ".join(str(error).split())[:500]
        print(
            f"error: no worker could start: {message}. Check the model and device with a tiny twin first.",
            file=sys.stderr,
        )
        return EXIT_USER_ERROR


if __name__ == "__main__":
    sys.exit(main())
