"""The one strict mapping -> dataclass loader behind every YAML kind: unknown keys, missing
fields and wrong types are one line naming the file, the key and what is allowed; a new field
needs only a dataclass field."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from repvideo_eval import registry
from repvideo_eval.errors import UserError
from repvideo_eval.schema import from_mapping


@dataclass(frozen=True)
class Inner:
    size: int = 1
    mode: Literal["on", "off"] = "on"


@dataclass(frozen=True)
class Outer:
    """A kind the loader has never seen: its rules come from the fields alone."""

    name: str
    ratio: float = 0.5
    tags: tuple[str, ...] = ()
    inner: Inner = field(default_factory=Inner)
    extra: Inner | None = None
    pairs: tuple[tuple[str, int], ...] = ()
    lookup: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.ratio > 1:
            raise ValueError(f"ratio must be at most 1, got {self.ratio}")


def load(data: object) -> Outer:
    return from_mapping(Outer, data, "thing x.yaml", hint="See y.yaml.")


def test_a_new_kind_loads_from_its_fields_alone() -> None:
    thing = load(
        {
            "name": "n",
            "ratio": 1,
            "tags": "solo",  # one value stands for a one-item list
            "inner": {"size": 3, "mode": False},  # YAML 1.1 reads a bare off as false
            "extra": {"size": 2},
            "pairs": {"b": 2, "a": 1},
            "lookup": {"k": [1, 2]},
        }
    )
    assert thing == Outer(
        name="n",
        ratio=1,
        tags=("solo",),
        inner=Inner(size=3, mode="off"),
        extra=Inner(size=2),
        pairs=(("a", 1), ("b", 2)),
        lookup={"k": (1, 2)},
    )
    assert load({"name": "n", "extra": None}).extra is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"name": "n", "colour": 1},
            "thing x.yaml has unknown key(s) colour. Allowed: extra, inner, lookup, name, pairs, "
            "ratio, tags. See y.yaml.",
        ),
        (
            {"name": "n", "inner": {"sise": 2}},
            "thing x.yaml: inner has unknown key(s) sise. Allowed: mode, size.",
        ),
        ({"ratio": 0.1}, "thing x.yaml is incomplete: missing name. See y.yaml."),
        ({"name": 3}, "thing x.yaml: name must be a string, got 3."),
        ({"name": "n", "ratio": "half"}, "thing x.yaml: ratio must be a number, got 'half'."),
        ({"name": "n", "ratio": True}, "thing x.yaml: ratio must be a number, got True."),
        ({"name": "n", "tags": [1]}, "thing x.yaml: tags[0] must be a string, got 1."),
        ({"name": "n", "inner": {"size": 1.5}}, "inner: size must be an integer, got 1.5."),
        ({"name": "n", "inner": {"mode": "dim"}}, "inner: mode must be one of on, off, got 'dim'"),
        ({"name": "n", "inner": 4}, "thing x.yaml: inner must be a mapping of fields, got 4."),
        ({"name": "n", "lookup": {"k": ["x"]}}, "lookup.k[0] must be an integer, got 'x'."),
        ({"name": "n", "ratio": 2}, "thing x.yaml: ratio must be at most 1, got 2."),
        (["name"], "thing x.yaml must be a mapping of fields, got ['name']."),
    ],
)
def test_every_mistake_is_one_line_naming_the_key(data: object, message: str) -> None:
    with pytest.raises(UserError) as caught:
        load(data)
    text = str(caught.value)
    assert message in text and "\n" not in text


def card_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "card.yaml"
    path.write_text(
        "name: c\nfamily: cogvideox\nsource: tiny\nweights: tiny:cogvideox\ntiny_seed: 0\n"
        "dtype: float32\n" + text,
        encoding="utf-8",
    )
    return str(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sampler: tiny\ncolour: red\n", "card.yaml has unknown key(s) colour. Allowed: "),
        ("sampler: {preset: tiny, stepz: 2}\n", "card.yaml: sampler has unknown key(s) stepz."),
        ("sampler: {preset: tiny, num_frames: nine}\n", "num_frames must be an integer"),
        ("sampler: tiny\nrepvideo: {window: 6}\n", "repvideo has unknown key(s) window."),
        ("sampler: tiny\nrepvideo: {cache_window: 6, gates: sometimes}\n", "gates must be one of"),
        ("sampler: tiny\nmemory: {offload: 3}\n", "memory: offload must be a string, got 3."),
        ("sampler: tiny\nspeed: fast\n", "speed must be a mapping of fields, got 'fast'."),
        ("sampler: tiny\ntiny_seed: zero\n", "tiny_seed must be an integer, got 'zero'."),
        ("sampler: tiny\ndescription: [a]\n", "description must be a string, got ['a']."),
    ],
)
def test_card_files_name_the_file_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UserError) as caught:
        registry.load_card(card_file(tmp_path, text))
    assert message in str(caught.value) and str(tmp_path) in str(caught.value)


def test_a_sampler_preset_with_an_unknown_key_names_the_preset_file(
    tmp_path: Path, monkeypatch
) -> None:
    presets = tmp_path / "samplers"
    presets.mkdir()
    (presets / "mine.yaml").write_text("num_frames: 9\nframes_per_second: 8\n", encoding="utf-8")
    monkeypatch.setattr(registry, "SAMPLERS_DIR", presets)
    with pytest.raises(
        UserError, match=r"sampler preset .*mine\.yaml has unknown key\(s\) frames_per_second"
    ):
        registry.load_card(card_file(tmp_path, "sampler: mine\n"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("prompts: [a]\nsamples: 2\n", "has unknown key(s) samples. Allowed: base_seed, "),
        ("prompts: [{prompt: a, dims: [color]}]\n", "prompts[0] has unknown key(s) dims"),
        ("prompts: [{prompt: a, samples: 0}]\n", "'samples' of prompt 'a' must be a positive"),
        (
            "prompts: [{prompt: a, auxiliary_info: 3}]\n",
            "prompts[0]: auxiliary_info must map each dimension to a mapping",
        ),
        ("prompts: [{text: a}]\n", "prompts[0] has unknown key(s) text"),
        ("prompts: [a]\nsamples_per_prompt: 0\n", "samples_per_prompt must be a positive integer"),
        ("prompts: [a]\nsamples_per_prompt: two\n", "samples_per_prompt must be an integer"),
        ("prompts: [a]\nname: 7\n", "name must be a string, got 7"),
        ("prompts: a\n", "prompts must be a list of prompts"),
    ],
)
def test_suite_files_name_the_file_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UserError) as caught:
        registry.load_suite(str(path))
    assert message in str(caught.value) and str(path) in str(caught.value)


def test_suite_prompts_keep_their_dimensions_samples_and_auxiliary_info(tmp_path: Path) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text(
        "prompts:\n  - {prompt: a, dimensions: [color], samples: 3, auxiliary_info: {color: {color: red}}}\n",
        encoding="utf-8",
    )
    suite = registry.load_suite(str(path))
    (entry,) = suite.prompts
    assert suite.name == "suite" and entry.dimensions == ("color",) and entry.samples == 3
    assert entry.auxiliary_info == {"color": {"color": "red"}}


def test_an_alias_file_of_the_wrong_shape_is_one_line(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "aliases.yaml").write_text("pair: [a, b]\nsolo: c\n", encoding="utf-8")
    monkeypatch.setattr(registry, "MODELS_DIR", tmp_path)
    assert registry.list_aliases() == {"pair": ["a", "b"], "solo": ["c"]}
    (tmp_path / "aliases.yaml").write_text("pair: [a, {b: 1}]\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"alias file .*aliases\.yaml\.pair\[1\] must be a string"):
        registry.list_aliases()


def test_every_shipped_yaml_file_loads() -> None:
    for name in registry.list_models():
        assert registry.load_card(name).name == name
    assert registry.list_aliases()
    assert registry.load_suite("smoke").prompts
