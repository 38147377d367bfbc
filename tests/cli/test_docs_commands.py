"""Every command line that README.md and docs/*.md show still parses: a renamed flag fails here.

Commands are read from code (fenced blocks and `inline spans`): `run_eval.py [COMMAND] --flag ...`
(also as `repvideo-eval`), `COMMAND --flag ...`, and bare `--flag` spans. Each command's `--help`
runs in-process through the real parser, and every flag mentioned must appear in it.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import re
from pathlib import Path

import pytest

from repvideo_eval.cli.main import COMMANDS, DEFAULT_COMMAND, build_parser

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
#: Flags of other tools that the docs name on their own (pip, Slurm). vbench's own flags are
#: spelled with underscores (`--dev_flag`), ours with hyphens, so those are told apart by name.
FOREIGN_FLAGS = {"--no-deps", "--no-build-isolation", "--directory", "--requeue"}
#: `run_eval.py` then one space: the layout listing in docs/architecture.md aligns with many.
ENTRY = re.compile(r"(?:run_eval\.py|repvideo-eval) (?=\S)(.*)")
FLAG = re.compile(r"^\[?(--[a-z][a-z0-9_-]*)")
WORD = re.compile(r"^[a-z][a-z0-9-]*$")


def code_texts(markdown: str) -> list[str]:
    """Lines of fenced blocks (backslash continuations joined) and inline code spans."""
    texts: list[str] = []
    prose: list[str] = []
    fenced = False
    pending = ""
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            prose.append(line)
            continue
        pending += line
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        texts.append(pending)
        pending = ""
    texts += re.findall(r"`([^`\n]+)`", "\n".join(prose))
    return [text.split(" #")[0] for text in texts]


def mentions(text: str) -> list[tuple[str | None, str]]:
    """(command, flag) pairs in one code text; command None for a bare flag, "" for no flag."""
    text = text.strip()
    entry = ENTRY.search(text)
    if entry:
        tokens = entry.group(1).split()
        command = DEFAULT_COMMAND
        if tokens and WORD.match(tokens[0]):
            command = tokens.pop(0)
    elif text.split(" ", 1)[0] in COMMANDS and " --" in text:
        tokens = text.split()
        command = tokens.pop(0)
    elif FLAG.match(text):
        flag = FLAG.match(text).group(1)  # type: ignore[union-attr]
        return [] if flag in FOREIGN_FLAGS or "_" in flag else [(None, flag)]
    else:
        return []
    flags = [m.group(1) for m in map(FLAG.match, tokens) if m]
    return [(command, flag) for flag in flags] or [(command, "")]


def documented() -> list[tuple[str, str | None, str]]:
    found = []
    for doc in DOCS:
        for text in code_texts(doc.read_text(encoding="utf-8")):
            found += [(doc.name, command, flag) for command, flag in mentions(text)]
    return sorted(set(found), key=str)


@functools.cache
def help_text(command: str) -> str:
    """`run_eval.py COMMAND --help`, in-process, followed by the `--help` of each of its
    subcommands (`study create`, `study serve`, ...), whose flags the docs show after them."""
    parser = build_parser(command)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as stop:
        parser.parse_args(["--help"])
    assert stop.value.code == 0
    texts = [out.getvalue()]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            texts += [sub.format_help() for sub in action.choices.values()]
    return "\n".join(texts)


def offers(command: str, flag: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", help_text(command)) is not None


MENTIONS = documented()


def test_the_docs_are_read() -> None:
    """The parser of this test finds the commands the docs are known to show."""
    assert ("README.md", "score", "--videos-dir") in MENTIONS
    assert ("README.md", "run", "--model") in MENTIONS
    assert ("README.md", None, "--vbench-mode") in MENTIONS
    assert {command for _, command, _ in MENTIONS} >= set(COMMANDS) - {"list"} | {None}


@pytest.mark.parametrize(("doc", "command", "flag"), MENTIONS, ids=str)
def test_documented_command_and_flag_exist(doc: str, command: str | None, flag: str) -> None:
    if command is None:
        owners = [name for name in COMMANDS if offers(name, flag)]
        assert owners, f"{doc} mentions {flag}, which no command's --help lists"
        return
    assert command in COMMANDS, f"{doc} shows `run_eval.py {command}`, which is no command"
    assert not flag or offers(command, flag), f"{doc}: `run_eval.py {command} --help` lacks {flag}"


def test_a_renamed_flag_would_be_caught() -> None:
    assert mentions("python run_eval.py score --videos-dir D --video-folder D") == [
        ("score", "--videos-dir"),
        ("score", "--video-folder"),
    ]
    assert offers("score", "--videos-dir") and not offers("score", "--video-folder")
    assert mentions("run_eval.py scores --x") == [("scores", "--x")]  # then: no such command
