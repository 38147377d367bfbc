"""Custom prompts on all 16 dimensions: a suite file may carry VBench_full_info's auxiliary info;
without it the six dimensions that need it are skipped with one line, not an error per video."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from repvideo_eval import registry
from repvideo_eval.config import RunSpec
from repvideo_eval.errors import UserError
from repvideo_eval.planning import RunPlan, dimensions_by_prompt, skipped_for_auxiliary_info
from repvideo_eval.scoring.vbench_constants import ALL_DIMENSIONS, AUXILIARY_KEYS

REPO = Path(__file__).resolve().parents[1]

#: Auxiliary info of two custom prompts, in VBench_full_info.json's schema.
RED_BICYCLE = {
    "object_class": {"object": "bicycle"},
    "multiple_objects": {"object": "bicycle and car"},
    "color": {"color": "red"},
    "spatial_relationship": {
        "spatial_relationship": {
            "object_a": "bicycle",
            "object_b": "car",
            "relationship": "on the left of",
        }
    },
    "scene": {"scene": {"scene": "street"}},
    "appearance_style": {"appearance_style": "oil painting"},
}
CUSTOM = {
    "name": "custom-aux",
    "samples_per_prompt": 1,
    "prompts": [
        {
            "prompt": "a red bicycle on the left of a car in a street, oil painting",
            "auxiliary_info": RED_BICYCLE,
        },
        # VBench_full_info.json's own spelling, tagged for two dimensions.
        {
            "prompt_en": "A person is riding a bike",
            "dimension": ["human_action", "color"],
            "auxiliary_info": {"color": {"color": "blue"}},
        },
        "a quiet lake at dawn",  # no info at all
    ],
}


def write_suite(tmp_path: Path, data: object, name: str = "custom.yaml") -> Path:
    path = tmp_path / name
    text = json.dumps(data) if name.endswith(".json") else yaml.safe_dump(data)
    path.write_text(text, encoding="utf-8")
    return path


def test_the_vbench_aux_dimensions_are_the_six_vbench_refuses_for_custom_prompts() -> None:
    assert set(AUXILIARY_KEYS) == {
        "object_class",
        "multiple_objects",
        "color",
        "spatial_relationship",
        "scene",
        "appearance_style",
    }
    # Every VBench prompt tagged for one of them carries its info, so VBench runs lose nothing.
    suite = registry.vbench_suite()
    assert skipped_for_auxiliary_info(suite, tuple(ALL_DIMENSIONS)) == {}


@pytest.mark.parametrize("name", ["custom.yaml", "custom.json"])
def test_a_suite_file_carries_auxiliary_info_in_vbench_schema(tmp_path: Path, name: str) -> None:
    suite = registry.load_suite(str(write_suite(tmp_path, CUSTOM, name)))
    first, second, third = suite.prompts
    assert first.auxiliary_info == RED_BICYCLE and first.dimensions == ()
    assert second.text == "A person is riding a bike"
    assert second.dimensions == ("human_action", "color")
    dims = dimensions_by_prompt(suite, tuple(ALL_DIMENSIONS))
    assert dims[first.text] == tuple(ALL_DIMENSIONS)  # all 16
    assert dims[second.text] == ("human_action", "color")
    assert dims[third.text] == tuple(d for d in ALL_DIMENSIONS if d not in AUXILIARY_KEYS)
    assert skipped_for_auxiliary_info(suite, tuple(ALL_DIMENSIONS)) == {
        d: 1 for d in ALL_DIMENSIONS if d in AUXILIARY_KEYS
    }


def test_a_bare_json_list_in_vbench_full_info_format_is_a_suite(tmp_path: Path) -> None:
    entries = [dict(e) for e in registry.vbench_full_info()[:3]]
    suite = registry.load_suite(str(write_suite(tmp_path, entries, "mine.json")))
    assert [p.text for p in suite.prompts] == [e["prompt_en"] for e in entries]
    assert [p.dimensions for p in suite.prompts] == [tuple(e["dimension"]) for e in entries]


def test_scoring_items_carry_the_info_of_their_prompt(tmp_path: Path) -> None:
    suite = registry.load_suite(str(write_suite(tmp_path, CUSTOM)))
    spec = RunSpec(
        models=(registry.load_card("cogvideox-tiny"),),
        suite=suite,
        dimensions=tuple(ALL_DIMENSIONS),
    )
    plan = RunPlan.of_spec(spec, tmp_path / "run")
    items = {s.prompt: s for s in plan.scoring_items(plan.all_items)}
    assert json.loads(items[suite.prompts[0].text].auxiliary_info_json) == RED_BICYCLE
    assert set(items[suite.prompts[2].text].dimensions).isdisjoint(AUXILIARY_KEYS)


def test_malformed_auxiliary_info_is_one_user_error(tmp_path: Path) -> None:
    bad = {"prompts": [{"prompt": "a cat", "auxiliary_info": {"color": "red"}}]}
    with pytest.raises(UserError, match="must map each dimension to a mapping"):
        registry.load_suite(str(write_suite(tmp_path, bad)))


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "RAY_AUTH_MODE": "disabled",
        "RAY_USAGE_STATS_ENABLED": "0",
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        [sys.executable, str(REPO / "run_eval.py"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )


@pytest.mark.slow
def test_custom_yaml_prompts_score_on_all_16_dimensions_with_tiny_scorers(tmp_path: Path) -> None:
    data = {**CUSTOM, "prompts": CUSTOM["prompts"][:1] + CUSTOM["prompts"][2:]}
    suite = write_suite(tmp_path, data)
    out = tmp_path / "run"
    done = run_cli(
        "--model",
        "cogvideox-tiny",
        "--suite",
        str(suite),
        "--dimensions",
        "all",
        "--output-dir",
        str(out),
        "--no-progress",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    with (out / "per_video.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    with_info = [r for r in rows if r["prompt"] == CUSTOM["prompts"][0]["prompt"]]
    assert sorted(r["dimension"] for r in with_info) == sorted(ALL_DIMENSIONS)
    # Random scorer weights may find no object (VBench's "not counted"), but never lack the info.
    assert not any("auxiliary_info" in r["error"] for r in rows), rows
    assert sum(r["score"] != "" for r in with_info) >= 10
    # The prompt without info: scored on the other ten, the six named once, no error records.
    without = [r for r in rows if r["prompt"] == "a quiet lake at dawn"]
    assert {r["dimension"] for r in without} == set(ALL_DIMENSIONS) - set(AUXILIARY_KEYS)
    skipped_lines = [line for line in done.stdout.splitlines() if "auxiliary info" in line]
    assert len(skipped_lines) == 1
    for dimension in AUXILIARY_KEYS:
        assert f"{dimension} (1 prompt(s))" in skipped_lines[0]
