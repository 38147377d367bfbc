"""Lazy registries of model cards, suites and scoring dimensions.

Cards and suites are declarative YAML files in the repository's `models/` and `prompts/` folders;
parsing is strict (unknown or missing fields are errors that name the file and the fix), and nothing
heavy is imported until a model or scorer is actually used.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from repvideo_eval.config import HUB_ID_KEY, ModelCard, PromptEntry, SamplerSettings, Suite
from repvideo_eval.errors import UserError
from repvideo_eval.schema import convert_value, from_mapping, read_yaml_mapping

PROJECT_ROOT = Path(os.environ.get("REPVIDEO_EVAL_HOME", Path(__file__).resolve().parent.parent))
MODELS_DIR = PROJECT_ROOT / "models"
SAMPLERS_DIR = MODELS_DIR / "samplers"
PROMPTS_DIR = PROJECT_ROOT / "prompts"

VBENCH_SAMPLES_PER_PROMPT = 5
# VBench's temporal_flickering protocol: 25 samples per prompt, then a static filter keeps 5.
VBENCH_FLICKER_SAMPLES = 25
CARD_HINT = "See models/cogvideox-2b.yaml, a complete card."
SAMPLER_HINT = "See models/samplers/."
SUITE_HINT = "See prompts/smoke.yaml."
#: Card keys as files spell them: the dataclass fields, with `hub_id` written HUB_ID_KEY.
CARD_KEYS = {"hub_id": HUB_ID_KEY}
#: Prompt keys as suite files spell them (a prompt may also be a plain string).
PROMPT_KEYS = {"text": "prompt", "auxiliary_info_json": "auxiliary_info"}


# ---------------------------------------------------------------------------------------- cards


def list_models() -> list[str]:
    return sorted(path.stem for path in MODELS_DIR.glob("*.yaml") if path.stem != "aliases")


def _sampler_from(value: Any, where: str) -> SamplerSettings:
    """A sampler is a preset name (a file in models/samplers/) or a mapping, optionally with
    `preset` (the preset's fields, then the mapping's on top)."""
    if isinstance(value, SamplerSettings):
        return value
    if isinstance(value, str):
        value = {"preset": value}
    if not isinstance(value, Mapping):
        raise UserError(f"{where} must be a preset name or a mapping", SAMPLER_HINT)
    fields = dict(value)
    preset = fields.pop("preset", None)
    base: dict[str, Any] = {}
    if preset is not None:
        preset_path = SAMPLERS_DIR / f"{preset}.yaml"
        if not isinstance(preset, str) or not preset_path.is_file():
            known = ", ".join(sorted(p.stem for p in SAMPLERS_DIR.glob("*.yaml")))
            raise UserError(f"{where}: unknown sampler preset {preset!r}", f"Use one of: {known}.")
        base = read_yaml_mapping(preset_path, "sampler preset", SAMPLER_HINT)
        from_mapping(
            SamplerSettings,
            base,
            f"sampler preset {preset_path}",
            hint=SAMPLER_HINT,
            convert=SAMPLER_CONVERT,
        )
    return from_mapping(
        SamplerSettings, {**base, **fields}, where, hint=SAMPLER_HINT, convert=SAMPLER_CONVERT
    )


def list_aliases() -> dict[str, list[str]]:
    path = MODELS_DIR / "aliases.yaml"
    if not path.is_file():
        return {}
    hint = "Write `alias: [card, card]` lines."
    data = read_yaml_mapping(path, "alias file", hint)
    aliases = convert_value(dict[str, tuple[str, ...]], data, f"alias file {path}", hint)
    return {alias: list(names) for alias, names in aliases.items()}


def resolve_model_names(text: str) -> list[str]:
    """`--model a,b` with aliases expanded (e.g. `repvideo` = baseline + RepVideo), order kept."""
    names: list[str] = []
    aliases = list_aliases()
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        for name in aliases.get(part, [part]):
            if name not in names:
                names.append(name)
    if not names:
        raise UserError("--model is empty", f"Name one or more models: {', '.join(list_models())}.")
    return names


def _transformer_config_from(value: Any, where: str) -> tuple[tuple[str, Any], ...]:
    """`transformer_config`: a mapping of diffusers config fields to plain values, kept sorted."""
    if isinstance(value, tuple) and all(isinstance(p, tuple) and len(p) == 2 for p in value):
        value = dict(value)  # already pairs (a ModelCard's own value)
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, (bool, int, float, str)) for k, v in value.items()
    ):
        raise UserError(
            f"{where} must map config field names to numbers or strings",
            "See models/cogvideox-2b.yaml (write floats with a dot, e.g. 1.0e-6).",
        )
    for key, item in value.items():
        if isinstance(item, str) and _is_number(item):
            raise UserError(
                f"{where}.{key} is the string {item!r}, not a number",
                "Write floats with a dot (1.0e-6): YAML reads 1e-6 as a string.",
            )
    return tuple(sorted(value.items()))


def _plain_pairs(value: Any, where: str) -> tuple[tuple[str, Any], ...]:
    """A mapping of names to plain values (numbers, strings, booleans), kept sorted."""
    if isinstance(value, (tuple, list)) and all(isinstance(p, (tuple, list)) for p in value):
        value = dict(value)
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, (bool, int, float, str)) for k, v in value.items()
    ):
        raise UserError(
            f"{where} must map names to numbers, strings or booleans",
            "See docs/models.md (write floats with a dot, e.g. 1.0e-6).",
        )
    return tuple(sorted(value.items()))


def _components_from(value: Any, where: str) -> tuple[tuple[str, Any], ...]:
    """`components`: component name -> mapping of config overrides (docs/models.md)."""
    if isinstance(value, (tuple, list)):
        value = dict(value)
    if not isinstance(value, Mapping):
        raise UserError(
            f"{where} must map component names (transformer, vae, ...) to mappings of config "
            "fields",
            "See docs/models.md.",
        )
    return tuple(
        sorted(
            (str(name), _plain_pairs(fields, f"{where}.{name}")) for name, fields in value.items()
        )
    )


#: Sampler keys whose file form (a mapping) is not their type (sorted pairs).
SAMPLER_CONVERT = {"pipeline_kwargs": _plain_pairs}


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def card_from_dict(data: Mapping[str, Any], origin: str = "model card") -> ModelCard:
    """Validate a card mapping (from YAML or from `ModelCard.to_dict()`) into a ModelCard."""
    return from_mapping(
        ModelCard,
        data,
        origin,
        hint=CARD_HINT,
        keys=CARD_KEYS,
        convert={
            "sampler": _sampler_from,
            "transformer_config": _transformer_config_from,
            "components": _components_from,
        },
    )


def load_card(name_or_path: str) -> ModelCard:
    """A registered card by name (models/<name>.yaml) or a card file by path."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return card_from_dict(
            read_yaml_mapping(path, "model card", CARD_HINT), f"model card {path}"
        )
    registered = MODELS_DIR / f"{name_or_path}.yaml"
    if not registered.is_file():
        raise UserError(
            f"unknown model {name_or_path!r}",
            f"Use one of: {', '.join(list_models())} (see `python run_eval.py list`), or a path to a card YAML.",
        )
    card = card_from_dict(
        read_yaml_mapping(registered, "model card", CARD_HINT), f"model card {registered.name}"
    )
    if card.name != registered.stem:
        raise UserError(
            f"model card {registered.name} says name {card.name!r}", f"Set name: {registered.stem}."
        )
    return card


# --------------------------------------------------------------------------------------- suites


def vbench_full_info(path: Path | None = None) -> tuple[dict[str, Any], ...]:
    """The entries of VBench_full_info.json: the 946 shipped inside the vbench package, or the
    file at `path` (`score --full-info-json`). The one reader of that file."""
    return _packaged_full_info() if path is None else _read_full_info(Path(path))


@lru_cache(maxsize=1)
def _packaged_full_info() -> tuple[dict[str, Any], ...]:
    try:
        source = resources.files("vbench") / "VBench_full_info.json"
        return tuple(json.loads(source.read_text(encoding="utf-8")))
    except (ModuleNotFoundError, FileNotFoundError):
        raise UserError(
            "the vbench package (which ships the VBench prompt suite) is not installed",
            "Run `make env`, or `pip install --no-deps vbench==0.1.5`.",
        ) from None


def _read_full_info(path: Path) -> tuple[dict[str, Any], ...]:
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UserError(
            f"cannot read the VBench prompt suite {path} ({error})",
            "Pass a valid --full-info-json.",
        ) from None
    if not isinstance(entries, list) or not all(
        isinstance(e, dict) and isinstance(e.get("prompt_en"), str) for e in entries
    ):
        raise UserError(
            f"{path} is not a VBench prompt suite (a list of entries with prompt_en)",
            "Pass a file in the format of vbench's VBench_full_info.json.",
        )
    return tuple(entries)


def _vbench_entry(entry: Mapping[str, Any]) -> PromptEntry:
    dimensions = tuple(entry.get("dimension", ()))
    return PromptEntry(
        text=entry["prompt_en"],
        dimensions=dimensions,
        auxiliary_info_json=json.dumps(entry.get("auxiliary_info", {}), sort_keys=True),
        samples=VBENCH_FLICKER_SAMPLES if "temporal_flickering" in dimensions else None,
    )


def vbench_dimensions_in_suite(full_info_path: Path | None = None) -> list[str]:
    seen: list[str] = []
    for entry in vbench_full_info(full_info_path):
        for dimension in entry.get("dimension", ()):
            if dimension not in seen:
                seen.append(dimension)
    return seen


def vbench_suite(dimension: str | None = None, full_info_path: Path | None = None) -> Suite:
    """The VBench prompt suite (suite `vbench`, or `vbench/<dimension>`): VBench's 5 samples per
    prompt, 25 for the temporal_flickering prompts; from the packaged VBench_full_info.json or
    the one at `full_info_path`."""
    entries = [
        e
        for e in vbench_full_info(full_info_path)
        if dimension is None or dimension in e.get("dimension", ())
    ]
    if not entries:
        known = ", ".join(f"vbench/{d}" for d in vbench_dimensions_in_suite(full_info_path))
        raise UserError(f"unknown suite vbench/{dimension}", f"Use vbench or one of: {known}.")
    name = "vbench" if dimension is None else f"vbench/{dimension}"
    dimensions = (
        tuple(vbench_dimensions_in_suite(full_info_path)) if dimension is None else (dimension,)
    )
    source = full_info_path or "VBench_full_info.json shipped in vbench 0.1.5"
    return Suite(
        name=name,
        prompts=tuple(_vbench_entry(e) for e in entries),
        samples_per_prompt=VBENCH_SAMPLES_PER_PROMPT,
        dimensions=dimensions,
        description=f"VBench prompt suite ({source})",
    )


def _vbench_mini_suite() -> Suite:
    """The first VBench prompt of every dimension, one sample each, no flicker filter: a quick
    check that all 16 dimensions run end to end (not a VBench protocol run)."""
    chosen: dict[str, Mapping[str, Any]] = {}
    for dimension in vbench_dimensions_in_suite():
        entry = next(e for e in vbench_full_info() if dimension in e.get("dimension", ()))
        chosen.setdefault(entry["prompt_en"], entry)
    prompts = tuple(dataclasses.replace(_vbench_entry(e), samples=None) for e in chosen.values())
    return Suite(
        name="vbench-mini",
        prompts=prompts,
        samples_per_prompt=1,
        dimensions=tuple(vbench_dimensions_in_suite()),
        description="first VBench prompt of each of the 16 dimensions, 1 sample, no static filter (a quick check)",
    )


#: VBench_full_info.json's spelling of two prompt keys, accepted in suite files as well.
VBENCH_PROMPT_KEYS = {"prompt_en": "prompt", "dimension": "dimensions"}


def _prompt_from(value: Any, where: str) -> PromptEntry:
    """A suite prompt: its text, or a mapping with `prompt` (and dimensions, auxiliary_info,
    samples); VBench_full_info.json's `prompt_en` and `dimension` are read as those."""
    if isinstance(value, str):
        value = {"prompt": value}
    if isinstance(value, Mapping):
        value = {VBENCH_PROMPT_KEYS.get(str(k), k): v for k, v in value.items()}
    return from_mapping(
        PromptEntry,
        value,
        where,
        hint=SUITE_HINT,
        keys=PROMPT_KEYS,
        convert={"auxiliary_info": _auxiliary_info_from},
    )


def _auxiliary_info_from(value: Any, where: str) -> str:
    """VBench_full_info.json's schema: each dimension maps to a mapping of its info."""
    if not isinstance(value, Mapping) or not all(isinstance(v, Mapping) for v in value.values()):
        raise UserError(
            f"{where} must map each dimension to a mapping, got {value!r}",
            "Use VBench_full_info.json's schema, e.g. {color: {color: red}}.",
        )
    return json.dumps(value, sort_keys=True)


def _prompts_from(value: Any, where: str) -> tuple[PromptEntry, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise UserError(f"{where} must be a list of prompts", SUITE_HINT)
    return tuple(_prompt_from(item, f"{where}[{i}]") for i, item in enumerate(value))


def _read_json_suite(path: Path) -> dict[str, Any]:
    """A JSON suite: a mapping like a suite YAML, or a bare list of prompts in the format of
    VBench_full_info.json (`prompt_en`, `dimension`, `auxiliary_info`)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UserError(
            f"cannot read suite {path} ({error})", "Give a JSON list of prompts or a suite mapping."
        ) from None
    if isinstance(data, list):
        return {"prompts": data}
    if not isinstance(data, dict):
        raise UserError(f"suite {path} must be a mapping or a list of prompts", SUITE_HINT)
    return data


def _suite_from_yaml(path: Path, default_name: str) -> Suite:
    if path.suffix == ".json":
        data = _read_json_suite(path)
    else:
        data = read_yaml_mapping(path, "suite", SUITE_HINT)
    return from_mapping(
        Suite,
        {"name": default_name, **data},
        f"suite {path}",
        hint=SUITE_HINT,
        convert={"prompts": _prompts_from},
    )


def _suite_from_text(path: Path) -> Suite:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(
            f"cannot read prompt file {path}: {error}",
            "Give a UTF-8 text file, one prompt per line.",
        ) from None
    prompts = tuple(PromptEntry(text=line.strip()) for line in lines if line.strip())
    return Suite(
        name=path.stem, prompts=prompts, samples_per_prompt=1, description=f"prompts from {path}"
    )


def list_suites() -> list[str]:
    builtin = sorted(path.stem for path in PROMPTS_DIR.glob("*.yaml"))
    return (
        builtin + ["vbench", "vbench-mini"] + [f"vbench/{d}" for d in vbench_dimensions_in_suite()]
    )


def load_suite(name_or_path: str) -> Suite:
    """A built-in suite (prompts/<name>.yaml, vbench, vbench/<dimension>) or a .txt/.yaml path."""
    if name_or_path == "vbench":
        suite = vbench_suite(None)
    elif name_or_path == "vbench-mini":
        suite = _vbench_mini_suite()
    elif name_or_path.startswith("vbench/") and not Path(name_or_path).exists():
        suite = vbench_suite(name_or_path.split("/", 1)[1])
    elif (PROMPTS_DIR / f"{name_or_path}.yaml").is_file():
        suite = _suite_from_yaml(PROMPTS_DIR / f"{name_or_path}.yaml", name_or_path)
    else:
        path = Path(name_or_path)
        if not path.is_file():
            raise UserError(
                f"unknown suite {name_or_path!r}",
                "Use a built-in suite (see `python run_eval.py list`), a .txt file with one prompt per line, or a suite .yaml.",
            )
        suite = (
            _suite_from_yaml(path, path.stem)
            if path.suffix in (".yaml", ".yml", ".json")
            else _suite_from_text(path)
        )
    if not suite.prompts:
        raise UserError(f"suite {name_or_path!r} has no prompts", "Add at least one prompt.")
    return suite
