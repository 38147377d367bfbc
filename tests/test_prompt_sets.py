"""VBench's prompt sets: shipped bytes, alignment with the standard list, and VBench's rule in
planning (generate from the set's line, name, index, filter and score under the original)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pytest
import yaml

from repvideo_eval import prompt_sets, registry
from repvideo_eval.config import RunSpec
from repvideo_eval.errors import UserError
from repvideo_eval.generation.items import generation_items
from repvideo_eval.planning import RunPlan

SETS_DIR = prompt_sets.SETS_DIR
GPT_DIR = SETS_DIR / "gpt_enhanced" / "prompts_per_dimension_longer"


def provenance() -> dict:
    return yaml.safe_load(prompt_sets.PROVENANCE_FILE.read_text(encoding="utf-8"))


def standard_prompts() -> list[str]:
    return [e["prompt_en"] for e in registry.vbench_full_info()]


def test_every_shipped_file_matches_its_recorded_sha256() -> None:
    recorded = provenance()["files"]
    on_disk = {
        str(p.relative_to(SETS_DIR))
        for p in SETS_DIR.rglob("*")
        if p.is_file() and p.name not in ("PROVENANCE.yaml", ".gitattributes")
    }
    assert on_disk == set(recorded), "every file is listed, every listed file is shipped"
    for name, entry in recorded.items():
        digest = hashlib.sha256((SETS_DIR / name).read_bytes()).hexdigest()
        assert digest == entry["sha256"], name
        assert entry["path"].startswith(("prompts/", "LICENSE"))


def test_provenance_names_repository_commit_and_licence() -> None:
    data = provenance()
    assert data["repository"] == "Vchitect/VBench"
    assert len(data["commit"]) == 40 and int(data["commit"], 16) >= 0
    assert data["licence"] == "Apache-2.0"
    assert "Apache License, Version 2.0" in data["notice"]
    assert "Apache License" in (SETS_DIR / "LICENSE").read_text(encoding="utf-8")
    for name in prompt_sets.PROMPT_SET_FILES.values():  # every set is a recorded file
        assert name in data["files"]


def test_the_standard_list_is_vbench_full_info_in_order() -> None:
    lines = prompt_sets.split_lines((SETS_DIR / "all_dimension.txt").read_bytes(), "standard")
    assert list(lines) == standard_prompts()
    assert len(lines) == 946


@pytest.mark.parametrize("name", prompt_sets.PROMPT_SET_NAMES)
def test_every_set_has_one_line_per_standard_line(name: str) -> None:
    data = (SETS_DIR / prompt_sets.PROMPT_SET_FILES[name]).read_bytes()
    assert len(prompt_sets.split_lines(data, name)) == len(standard_prompts()) == 946
    loaded = prompt_sets.load_prompt_set(name)
    assert len(loaded.lines) == 946 and all(loaded.lines)
    assert loaded.name == name and loaded.sha256 == hashlib.sha256(data).hexdigest()


def test_the_missing_final_newline_and_crlf_are_not_lost_lines() -> None:
    """The trap: the GPT-enhanced list has CRLF endings and no final newline, so counting
    newlines says 945; its last prompt is still a line."""
    data = (SETS_DIR / prompt_sets.PROMPT_SET_FILES["gpt-enhanced"]).read_bytes()
    assert data.count(b"\n") == 945 and not data.endswith(b"\n") and b"\r\n" in data
    lines = prompt_sets.split_lines(data, "gpt-enhanced")
    assert not any("\r" in line for line in lines)
    assert lines[-1] == data.decode("utf-8").rsplit("\n", 1)[1].strip()


def test_suite_entries_are_told_apart_by_prompt_dimensions_and_aux() -> None:
    """The key the sets align on is unique, although two prompts are listed twice."""
    entries = registry.vbench_suite().prompts
    keys = {(e.text, e.dimensions, e.auxiliary_info_json) for e in entries}
    assert len(keys) == len(entries) == 946
    assert len({e.text for e in entries}) == 944


def test_gpt_enhanced_gives_entry_i_line_i_and_keeps_the_standard_prompt() -> None:
    gpt = prompt_sets.load_prompt_set("gpt-enhanced")
    suite = prompt_sets.apply_prompt_set(registry.vbench_suite(), gpt)
    standard = registry.vbench_suite()
    assert [e.text for e in suite.prompts] == standard_prompts()
    assert [e.generation_text for e in suite.prompts] == list(gpt.lines)
    assert [dataclasses.replace(e, generation_text=None) for e in suite.prompts] == list(
        standard.prompts
    )
    # The prompt VBench lists twice has two different enhanced lines, one per entry.
    first, second = (
        i for i, t in enumerate(standard_prompts()) if t == "The bund Shanghai, oil painting"
    )
    assert suite.prompts[first].generation_text == gpt.lines[first]
    assert suite.prompts[second].generation_text == gpt.lines[second] != gpt.lines[first]


@pytest.mark.parametrize("path", sorted(GPT_DIR.glob("*_longer.txt")), ids=lambda p: p.stem)
def test_per_dimension_longer_files_align_with_the_dimension_suites(path: Path) -> None:
    dimension = path.name.removesuffix("_longer.txt")
    suite = prompt_sets.apply_prompt_set(
        registry.vbench_suite(dimension), prompt_sets.load_prompt_set("gpt-enhanced")
    )
    lines = prompt_sets.split_lines(path.read_bytes(), path.name)
    assert [e.generation_text for e in suite.prompts] == list(lines)


def test_vbench_mini_takes_each_entry_own_line() -> None:
    hunyuan = prompt_sets.load_prompt_set("hunyuan")
    mini = prompt_sets.apply_prompt_set(registry.load_suite("vbench-mini"), hunyuan)
    index = {e["prompt_en"]: i for i, e in reversed(list(enumerate(registry.vbench_full_info())))}
    assert len(mini.prompts) >= 10
    for entry in mini.prompts:
        assert entry.generation_text == hunyuan.lines[index[entry.text]]


def test_the_standard_set_leaves_the_suite_alone() -> None:
    suite = registry.vbench_suite("color")
    assert prompt_sets.apply_prompt_set(suite, prompt_sets.load_prompt_set("standard")) is suite


def test_a_set_on_a_non_vbench_suite_is_refused() -> None:
    with pytest.raises(UserError, match="applies to the VBench suites"):
        prompt_sets.apply_prompt_set(
            registry.load_suite("smoke"), prompt_sets.load_prompt_set("wan2.1")
        )


def _gpt_spec(dimension: str = "temporal_flickering", prompt_set: str = "gpt-enhanced") -> RunSpec:
    suite = prompt_sets.apply_prompt_set(
        registry.vbench_suite(dimension), prompt_sets.load_prompt_set(prompt_set)
    )
    suite = dataclasses.replace(suite, prompts=suite.prompts[:2])
    return RunSpec(
        models=(registry.load_card("cogvideox-tiny"),),
        suite=suite,
        dimensions=(dimension,),
        prompt_set=prompt_set,
    )


def test_items_generate_from_the_line_and_are_named_indexed_and_seeded_by_the_original(
    tmp_path: Path,
) -> None:
    spec = _gpt_spec()
    gpt = prompt_sets.load_prompt_set("gpt-enhanced")
    index = {e["prompt_en"]: i for i, e in enumerate(registry.vbench_full_info())}
    standard_items = generation_items(
        spec.models[0], registry.vbench_suite("temporal_flickering"), tmp_path
    )
    for item in RunPlan.of_spec(spec, tmp_path).all_items:
        assert item.text_for_model == gpt.lines[index[item.prompt]] != item.prompt
        assert Path(item.video_path).name == f"{item.prompt}-{item.sample}.mp4"
        assert item.prompt_set == "gpt-enhanced"
        twin = next(s for s in standard_items if s.key == item.key)
        assert (twin.prompt_index, twin.seed, twin.video_path) == (
            item.prompt_index,
            item.seed,
            item.video_path,
        )


def test_static_filter_and_scoring_group_by_the_original_prompt(tmp_path: Path) -> None:
    spec = _gpt_spec()
    plan = RunPlan.of_spec(spec, tmp_path)
    filters = plan.filter_items(plan.all_items)
    originals = [e.text for e in spec.suite.prompts]
    assert [f.prompt for f in filters] == originals
    assert [Path(f.selection_path).stem for f in filters] == originals
    assert all(len(f.video_paths) == 25 for f in filters)
    # Scoring (here of a dimension with auxiliary info) carries the original prompt and its info.
    color = _gpt_spec("color")
    color_plan = RunPlan.of_spec(color, tmp_path / "color")
    scoring = color_plan.scoring_items(color_plan.all_items)
    assert [s.prompt for s in scoring] == [e.text for e in color.suite.prompts for _ in range(5)]
    for item in scoring:
        entry = next(e for e in color.suite.prompts if e.text == item.prompt)
        assert json.loads(item.auxiliary_info_json) == entry.auxiliary_info
        assert entry.auxiliary_info["color"]["color"]


def test_run_id_depends_on_the_set_and_standard_ids_are_unchanged() -> None:
    gpt, hunyuan = _gpt_spec(), _gpt_spec(prompt_set="hunyuan")
    standard = dataclasses.replace(gpt, prompt_set="standard")
    assert len({gpt.run_id, hunyuan.run_id, standard.run_id}) == 3
    # A standard run's id is the id it had before prompt sets existed (same hash input).
    from repvideo_eval.config import stable_hash

    legacy = stable_hash(
        {
            "models": [c.card_hash for c in standard.models],
            "suite": [standard.suite.name, 2, standard.suite.samples_per_prompt, 0],
            "dimensions": list(standard.dimensions),
            "vbench_mode": "standard",
            "scoring_weights": "official",
        },
        length=8,
    )
    assert standard.run_id.endswith(legacy)


def _user_file(tmp_path: Path, tag: str) -> Path:
    path = tmp_path / "mine.txt"
    path.write_text("\n".join(f"{tag}: {p}" for p in standard_prompts()) + "\n", encoding="utf-8")
    return path


def test_a_user_file_is_identified_by_its_sha256(tmp_path: Path) -> None:
    path = _user_file(tmp_path, "v1")
    loaded = prompt_sets.load_prompt_set(str(path))
    assert loaded.name == "file:" + hashlib.sha256(path.read_bytes()).hexdigest()
    assert loaded.lines[3] == "v1: " + standard_prompts()[3]


def test_resuming_with_another_set_or_a_changed_file_is_refused(tmp_path: Path) -> None:
    spec = _gpt_spec()
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "run.json").write_text(json.dumps(prompt_sets.run_json_fields(spec)))
    prompt_sets.check_same_prompt_set(spec, run_dir)  # same set: fine
    with pytest.raises(
        UserError, match="generated with prompt set gpt-enhanced; this run would use standard"
    ):
        prompt_sets.check_same_prompt_set(dataclasses.replace(spec, prompt_set="standard"), run_dir)
    (run_dir / "run.json").write_text(json.dumps({"models": {}}))  # before prompt sets: standard
    with pytest.raises(UserError, match="prompt set standard; this run would use gpt-enhanced"):
        prompt_sets.check_same_prompt_set(spec, run_dir)
    first = prompt_sets.load_prompt_set(str(_user_file(tmp_path, "v1")))
    (run_dir / "run.json").write_text(json.dumps({"prompt_set": first.name}))
    second = prompt_sets.load_prompt_set(str(_user_file(tmp_path, "v2")))
    with pytest.raises(UserError, match="it changed"):
        prompt_sets.check_same_prompt_set(
            dataclasses.replace(spec, prompt_set=second.name), run_dir
        )


def test_truncation_counts_each_generation_prompt_once(tmp_path: Path) -> None:
    sidecars = []
    for i, (text, dropped) in enumerate([("long", 7), ("long", 7), ("short", 0), ("longer", 3)]):
        path = tmp_path / f"{i}.json"
        path.write_text(json.dumps({"generation_prompt": text, "text_tokens_dropped": dropped}))
        sidecars.append(path)
    truncation = prompt_sets.truncation_of([*sidecars, tmp_path / "missing.json"])
    assert (truncation.prompts, truncation.truncated, truncation.tokens_dropped) == (3, 2, 10)
    assert "2 of 3 prompt(s)" in truncation.message("gpt-enhanced")
