"""The run vocabulary: one definition of each word, specs validated when built, `run` and
`score` accepting the same scoring-weights values, and random weights recognised in every form."""

from __future__ import annotations

import argparse
import ast
import dataclasses
import re
from pathlib import Path

import pytest

from repvideo_eval import registry, vocabulary
from repvideo_eval.cli import run as run_cli
from repvideo_eval.cli import score as score_cli
from repvideo_eval.cli.main import build_parser, main
from repvideo_eval.config import PromptEntry, RunSpec, Suite
from repvideo_eval.errors import UserError
from repvideo_eval.scoring.session import scoring_weights_mode

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny_spec() -> RunSpec:
    return RunSpec(
        models=(registry.load_card("cogvideox-tiny"),),
        suite=Suite(name="s", prompts=(PromptEntry(text="a cat"),)),
        dimensions=("subject_consistency",),
        scoring_weights="tiny-random",
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("vbench_mode", "lnog", "vbench_mode must be one of standard, long, long-inclip"),
        ("vbench_mode", "auto", "vbench_mode must be one of"),  # resolved before a spec exists
        ("scoring_weights", "fancy", "Unknown scoring weights mode 'fancy'"),
        ("scoring_weights", "official:seed=1", "only tiny-random takes one"),
        ("scoring_weights", "tiny-random:seed=x", "invalid scoring weights option"),
        ("detector", "grit", "detector must be one of grit-torch, grit-detectron2, owlv2"),
        ("models", (), "at least one model card"),
    ],
)
def test_a_run_spec_refuses_bad_words_when_built(
    tiny_spec: RunSpec, field: str, value: object, message: str
) -> None:
    """Before: a misspelled mode ran as standard, a bad weights value failed after generation."""
    with pytest.raises(ValueError, match=re.escape(message)):
        dataclasses.replace(tiny_spec, **{field: value})


@pytest.mark.parametrize("weights", ["official", "local", "tiny-random", "tiny-random:seed=7"])
def test_a_run_spec_takes_every_scoring_weights_value(tiny_spec: RunSpec, weights: str) -> None:
    assert dataclasses.replace(tiny_spec, scoring_weights=weights).scoring_weights == weights


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"samples_per_prompt": 0}, "samples_per_prompt must be a positive integer"),
        ({"samples_per_prompt": True}, "samples_per_prompt must be a positive integer"),
        ({"base_seed": "0"}, "base_seed must be an integer"),
        ({"name": ""}, "a suite needs a name"),
        ({"prompts": ("a cat",)}, "PromptEntry"),
    ],
)
def test_a_suite_refuses_bad_values_when_built(change: dict, message: str) -> None:
    suite = Suite(name="s", prompts=(PromptEntry(text="a cat"),))
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(suite, **change)


def test_a_prompt_refuses_bad_values_when_built() -> None:
    with pytest.raises(ValueError, match="'samples' of prompt 'a cat' must be a positive integer"):
        PromptEntry(text="a cat", samples=0)
    with pytest.raises(ValueError, match="auxiliary info of prompt 'a cat' must be a JSON object"):
        PromptEntry(text="a cat", auxiliary_info_json="[1]")
    with pytest.raises(ValueError, match="non-empty string"):
        PromptEntry(text=" ")


def _run_args(*argv: str) -> argparse.Namespace:
    return build_parser("run").parse_args(["--model", "cogvideox-tiny", *argv])


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        ("local", "local"),  # docs/scoring.md shows it; `run` refused it before
        ("official", "official"),
        ("tiny-random:seed=3", "tiny-random:seed=3"),  # `score` took it, `run` did not
        ("auto", "tiny-random"),  # every model is a tiny twin
    ],
)
def test_run_takes_every_scoring_weights_value_score_takes(flag: str, expected: str) -> None:
    spec = run_cli.build_spec(
        _run_args("--scoring-weights", flag, "--dimensions", "dynamic_degree")
    )
    assert spec.scoring_weights == expected


def test_auto_weights_are_official_when_a_model_is_real() -> None:
    assert vocabulary.resolve_scoring_weights("auto", all_tiny=False) == "official"


def test_run_and_score_refuse_a_bad_weights_value_alike(capsys, tmp_path: Path) -> None:
    """The same check, the same words: one line, exit 2, before anything is written."""
    out = tmp_path / "out"
    code = main(
        ["--model", "cogvideox-tiny", "--scoring-weights", "fancy", "--output-dir", str(out)]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "Traceback" not in err
    assert "Unknown scoring weights mode 'fancy'" in err and "official, local, tiny-random" in err
    assert not out.exists()
    with pytest.raises(UserError) as from_score:
        scoring_weights_mode("fancy")
    assert "Unknown scoring weights mode 'fancy'" in str(from_score.value)
    assert "official, local, tiny-random" in str(from_score.value)


def _choices(module, flag: str) -> tuple[str, ...] | None:
    parser = argparse.ArgumentParser()
    module.add_arguments(parser) if module is score_cli else run_cli.add_arguments(parser)
    action = next(a for a in parser._actions if flag in a.option_strings)
    return None if action.choices is None else tuple(action.choices)


def test_cli_choices_come_from_the_vocabulary() -> None:
    for module in (run_cli, score_cli):
        assert _choices(module, "--detector") == ("auto", *vocabulary.DETECTORS)
    assert _choices(run_cli, "--vbench-mode") == ("auto", *vocabulary.VBENCH_MODES)
    assert vocabulary.DEFAULT_DETECTOR == vocabulary.DETECTORS[0] == "grit-torch"
    assert vocabulary.VBENCH_MODES == ("standard", "long", "long-inclip")
    assert vocabulary.SCORING_WEIGHTS_MODES == ("official", "local", "tiny-random")


#: Words of the vocabulary that no other module may spell as a string of its own.
VOCABULARY_WORDS = {
    *vocabulary.SCORING_WEIGHTS_MODES,
    *vocabulary.LONG_MODES,
    *vocabulary.DETECTORS,
    *vocabulary.RANDOM_CARD_WEIGHTS_PREFIXES,
}


def test_the_words_are_spelled_only_in_the_vocabulary() -> None:
    """Before: "tiny-random" compared in ~12 places, modes and detectors spelled 3-4 times."""
    offenders = []
    for path in sorted((REPO / "repvideo_eval").rglob("*.py")):
        if path.name == "vocabulary.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in VOCABULARY_WORDS:
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno}: {node.value!r}")
    assert offenders == []


def test_one_tag_cleaner_for_score_folders_and_manifests() -> None:
    assert vocabulary.weights_tag("tiny-random:seed=3") == "tiny-random_seed-3"
    assert vocabulary.weights_tag("official") == "official"


@pytest.mark.parametrize("name", registry.list_models())
def test_every_registered_card_says_whether_its_weights_are_random(name: str) -> None:
    """Tiny cards say `weights: tiny:...` and random ones `source: random`: both are random
    (before, only a `tiny-random` weights label was recognised)."""
    card = registry.load_card(name)
    assert vocabulary.is_random_card(card.to_dict()) == (card.source in ("tiny", "random"))
