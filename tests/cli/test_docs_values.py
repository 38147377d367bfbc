"""The docs' commands with their values: every documented command line parses with the values it
shows, every value documented for a flag is one the flag takes, and the commands that run in
seconds on the tiny twins are run as the docs show them (test_docs_commands.py checks names only).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import re
import shlex
from pathlib import Path

import pytest

from repvideo_eval import registry
from repvideo_eval.cli.main import COMMANDS, DEFAULT_COMMAND, build_parser, main
from tests.cli.test_docs_commands import DOCS, ENTRY, FOREIGN_FLAGS, WORD, code_texts

REPO = Path(__file__).resolve().parents[2]
#: A placeholder: an upper-case word (RUN_DIR, OUT, M, A,B), a path the reader picks (samples/,
#: /data/...), or the template's `...`.
PLACEHOLDER = re.compile(r"^(?:[A-Z][A-Z0-9_]*(?:,[A-Z][A-Z0-9_]*)*|[a-z]+/|/data/\S*|\.\.\.)$")
SHELL_TAIL = re.compile(r"\s(?:\|\||&&|;|2>|>)\s?.*$")
#: Values the reader must fill in: checked by argparse only.
FREE_FLAGS = {"--output-dir", "--videos-dir", "--output", "--config", "--ray-address"}


def command_lines() -> list[tuple[str, str]]:
    """(doc, text after `run_eval.py `) of every full command line the docs show."""
    found = []
    for doc in DOCS:
        for text in code_texts(doc.read_text(encoding="utf-8")):
            entry = ENTRY.search(text.strip())
            if entry and not text.lstrip().startswith("#"):
                template = SHELL_TAIL.sub("", entry.group(1)).strip()
                if not is_reference(template):
                    found.append((doc.name, template))
    return sorted(set(found))


def is_reference(template: str) -> bool:
    """`study`, `convert-repvideo ...`: a command named in prose, not a command line."""
    tokens = template.split()
    if tokens[0] not in COMMANDS or len(tokens) > 2:
        return False
    if tokens[1:] == ["..."]:
        return True
    has_subcommands = any(
        isinstance(action, argparse._SubParsersAction)
        for action in build_parser(tokens[0])._actions
    )
    return len(tokens) == 1 and has_subcommands


def expand(template: str) -> list[list[str]]:
    """The argument lists a template stands for: optional `[...]` parts taken, `a|b` values each
    taken once, `M[,M2...]` read as `M`, placeholders kept (argparse takes any string)."""
    text = re.sub(r"\[,[^\]]*\]", "", template)  # M[,M2...] -> M
    text = text.replace("[", " ").replace("]", " ")
    raw = shlex.split(text)
    # `--flag ...` stands for a value the reader picks; a bare `...` repeats what came before.
    tokens = [
        "VALUE" if t == "..." and i and raw[i - 1].startswith("--") else t
        for i, t in enumerate(raw)
        if t != "..." or (i and raw[i - 1].startswith("--"))
    ]
    choices = [t.split("|") if "|" in t and not t.startswith("-") else [t] for t in tokens]
    return [list(combo) for combo in itertools.product(*choices)]


def split_command(tokens: list[str]) -> tuple[str, list[str]]:
    if tokens and WORD.match(tokens[0]) and tokens[0] in COMMANDS:
        return tokens[0], tokens[1:]
    return DEFAULT_COMMAND, tokens


def typed_placeholders(parser: argparse.ArgumentParser, args: list[str]) -> list[str]:
    """A placeholder after a flag that takes a number (`--num-gpus N`) becomes 1."""
    typed = {
        option: action.type
        for action in parser._actions
        for option in action.option_strings
        if action.type not in (None, str)
    }
    return [
        "1" if i and args[i - 1] in typed and PLACEHOLDER.match(a) else a
        for i, a in enumerate(args)
    ]


def parse(command: str, args: list[str]) -> argparse.Namespace:
    parser = build_parser(command)
    args = typed_placeholders(parser, args)
    if command == "study" and args and args[0] in ("create", "serve", "report"):
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        args = [args[0], *typed_placeholders(sub.choices[args[0]], args[1:])]
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            return parser.parse_args(args)
        except SystemExit:
            pytest.fail(f"`{command} {' '.join(args)}` does not parse: {err.getvalue().strip()}")


def flag_values(args: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for flag, value in zip(args, args[1:]):
        if flag.startswith("--") and not value.startswith("--"):
            pairs.append((flag, value))
    return pairs


def check_value(flag: str, value: str) -> None:
    """Values argparse cannot judge: names of registered cards, suites and files."""
    if PLACEHOLDER.match(value) or flag in FREE_FLAGS:
        return
    if flag == "--model":
        assert registry.resolve_model_names(value), value
    elif flag in ("--suite", "--prompts"):
        registry.load_suite(value)
    elif flag == "--grid":
        assert (REPO / value).is_file(), f"--grid {value}: no such file"


LINES = command_lines()


def test_the_templates_are_read() -> None:
    commands = {split_command(expand(t)[0])[0] for _, t in LINES}
    assert commands >= {"run", "score", "report", "study", "analyze", "list", "fetch-weights"}
    expanded = [tokens[:5] for _, t in LINES for tokens in expand(t)]
    assert ["convert-repvideo", "SAT_DIR", "OUT_DIR", "--dtype", "bfloat16"] in expanded


@pytest.mark.parametrize(("doc", "template"), LINES, ids=str)
def test_every_documented_command_line_parses_with_its_values(doc: str, template: str) -> None:
    if template.split()[0] in ("--help", "-h"):
        return  # argparse's own --help exits by design; test_docs_commands runs every --help
    for tokens in expand(template):
        command, args = split_command(tokens)
        parse(command, args)
        for flag, value in flag_values(args):
            check_value(flag, value)


def documented_flag_values() -> list[tuple[str, str, tuple[str, ...]]]:
    """(doc, flag, values) for code spans `--flag value` and `--flag a|b|c` outside full lines."""
    found = set()
    for doc in DOCS:
        for text in code_texts(doc.read_text(encoding="utf-8")):
            text = text.strip()
            match = re.fullmatch(r"(--[a-z][a-z0-9-]*)[ =]([a-z0-9][a-z0-9.|_-]*)", text)
            if match and match.group(1) not in FOREIGN_FLAGS:
                found.add((doc.name, match.group(1), tuple(match.group(2).split("|"))))
    return sorted(found)


def choices_of(flag: str) -> dict[str, tuple[str, ...] | None]:
    """Per command offering `flag`: its choices (None: any value)."""
    owners: dict[str, tuple[str, ...] | None] = {}
    for command in COMMANDS:
        parsers = [build_parser(command)]
        for action in parsers[0]._actions:
            if isinstance(action, argparse._SubParsersAction):
                parsers += list(action.choices.values())
        for parser in parsers:
            for action in parser._actions:
                if flag in action.option_strings:
                    owners[command] = None if action.choices is None else tuple(action.choices)
    return owners


FLAG_VALUES = documented_flag_values()


def test_flag_values_are_read() -> None:
    flags = {flag for _, flag, _ in FLAG_VALUES}
    assert {"--vbench-mode", "--detector", "--scoring-weights"} <= flags, flags


@pytest.mark.parametrize(("doc", "flag", "values"), FLAG_VALUES, ids=str)
def test_documented_flag_values_are_accepted(doc: str, flag: str, values: tuple[str, ...]) -> None:
    owners = choices_of(flag)
    assert owners, f"{doc}: no command offers {flag}"
    for value in values:  # a flag shown on its own means the same on every command that has it
        refusing = [
            c for c, choices in owners.items() if choices is not None and value not in choices
        ]
        assert not refusing, (
            f"{doc} shows `{flag} {value}`; {', '.join(refusing)} refuse it: {owners}"
        )


# ----------------------------------------------------------------- commands run as documented


def documented(doc: str, template: str) -> list[str]:
    """The argument list of a command the docs show (failing if they no longer show it)."""
    assert (doc, template) in LINES, f"{doc} no longer shows `run_eval.py {template}`"
    return expand(template)[0]


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(args)
    out = capsys.readouterr()
    assert code == 0, out.err[-2000:]
    return code, out.out


def test_list_shows_cards_suites_and_dimensions(capsys: pytest.CaptureFixture[str]) -> None:
    _, out = run_cli(documented("README.md", "list"), capsys)
    for name in (*registry.list_models(), "vbench", "vbench-mini", "motion_smoothness"):
        assert name in out, name


@pytest.fixture(scope="module")
def synthetic_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.study.conftest import write_runs

    return write_runs(tmp_path_factory.mktemp("docs") / "run", prompts=2, samples=1)


def test_report_and_study_as_documented(
    synthetic_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = documented("reports.md", "report RUN_DIR [RUN_DIR ...] [--output-dir OUT]")
    out_dir = tmp_path / "report"
    places = {"RUN_DIR": str(synthetic_run), "OUT": str(out_dir)}
    run_cli([places.get(a, a) for a in report], capsys)
    for name in ("leaderboard.csv", "leaderboard.md", "leaderboard.json"):
        assert (out_dir / name).is_file(), name

    create = documented("README.md", "study create RUN_DIR --models A,B")
    study = tmp_path / "study"
    places = {"RUN_DIR": str(synthetic_run), "A,B": "cogvideox-tiny,repvideo-tiny"}
    run_cli([*(places.get(a, a) for a in create), "--output", str(study)], capsys)
    assert (study / "study.sqlite3").is_file()


def test_score_with_tiny_weights_as_documented(
    synthetic_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = documented(
        "scoring.md",
        "score --videos-dir samples/ --output-dir OUT --scoring-weights tiny-random",
    )
    videos = next((synthetic_run / "videos").iterdir())
    args = [
        str(videos) if a == "samples/" else str(tmp_path / "out") if a == "OUT" else a for a in args
    ]
    run_cli([*args, "--dimensions", "temporal_flickering"], capsys)
    import csv

    with (tmp_path / "out" / "per_video.csv").open(encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert rows and all(r["dimension"] == "temporal_flickering" for r in rows)
    assert all(r["score"] and not r["error"] for r in rows)


def test_detector_names_in_the_docs_are_backends() -> None:
    """`REPVIDEO_EVAL_DETECTOR=x`, `--detector x` and `details["detector"] == "x"` name a backend
    by its current name (the old alias `grit` is accepted by the code, but the docs say what a
    record holds)."""
    from repvideo_eval.config import DETECTORS

    pattern = re.compile(
        r'(?:REPVIDEO_EVAL_DETECTOR=|--detector[ =]|\["detector"\] == ")"?([a-z0-9-]+)'
    )
    seen = []
    for doc in DOCS:
        for name in pattern.findall(doc.read_text(encoding="utf-8")):
            seen.append(name)
            assert name in DETECTORS, f"{doc.name} names detector {name!r}; backends: {DETECTORS}"
    assert {"grit-torch", "grit-detectron2", "owlv2"} <= set(seen)
