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

import yaml

from repvideo_eval.config import (
    HUB_ID_KEY,
    MemorySettings,
    ModelCard,
    PromptEntry,
    RepVideoSettings,
    SamplerSettings,
    SpeedSettings,
    Suite,
)
from repvideo_eval.errors import UserError

PROJECT_ROOT = Path(os.environ.get("REPVIDEO_EVAL_HOME", Path(__file__).resolve().parent.parent))
MODELS_DIR = PROJECT_ROOT / "models"
SAMPLERS_DIR = MODELS_DIR / "samplers"
PROMPTS_DIR = PROJECT_ROOT / "prompts"

#: Card keys as files spell them: the dataclass fields, with `hub_id` written HUB_ID_KEY.
CARD_FIELDS = {HUB_ID_KEY if f.name == "hub_id" else f.name for f in dataclasses.fields(ModelCard)}
REQUIRED_CARD_FIELDS = ("name", "family", "source", "weights", "dtype", "sampler")
SAMPLER_FIELDS = {f.name for f in dataclasses.fields(SamplerSettings)}
REPVIDEO_FIELDS = {f.name for f in dataclasses.fields(RepVideoSettings)}
VBENCH_SAMPLES_PER_PROMPT = 5
# VBench's temporal_flickering protocol: 25 samples per prompt, then a static filter keeps 5.
VBENCH_FLICKER_SAMPLES = 25


# ----------------------------------------------------------------------------------------- YAML


def _read_yaml(path: Path, what: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise UserError(f"cannot read {what} {path}: {error.strerror}", "Check the path.") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise UserError(f"{what} {path} is not valid YAML{where}", "Fix the syntax.") from None
    if not isinstance(data, dict):
        raise UserError(
            f"{what} {path} must be a YAML mapping of fields", "See models/cogvideox-2b.yaml."
        )
    return data


# ---------------------------------------------------------------------------------------- cards


def list_models() -> list[str]:
    return sorted(path.stem for path in MODELS_DIR.glob("*.yaml") if path.stem != "aliases")


def _sampler_from(value: Any, origin: str) -> SamplerSettings:
    """A sampler is a preset name (a file in models/samplers/) or a mapping, optionally with `preset`."""
    if isinstance(value, str):
        value = {"preset": value}
    if not isinstance(value, dict):
        raise UserError(
            f"{origin}: 'sampler' must be a preset name or a mapping", "See models/samplers/."
        )
    fields = dict(value)
    preset = fields.pop("preset", None)
    base: dict[str, Any] = {}
    if preset is not None:
        preset_path = SAMPLERS_DIR / f"{preset}.yaml"
        if not preset_path.is_file():
            known = ", ".join(sorted(p.stem for p in SAMPLERS_DIR.glob("*.yaml")))
            raise UserError(f"{origin}: unknown sampler preset {preset!r}", f"Use one of: {known}.")
        base = _read_yaml(preset_path, "sampler preset")
    base.update(fields)
    unknown = sorted(set(base) - SAMPLER_FIELDS)
    if unknown:
        raise UserError(
            f"{origin}: unknown sampler field(s) {', '.join(unknown)}",
            f"Valid: {', '.join(sorted(SAMPLER_FIELDS))}.",
        )
    try:
        return SamplerSettings(**base)
    except (TypeError, ValueError) as error:
        raise UserError(f"{origin}: {error}", "Fix the sampler settings.") from None


def list_aliases() -> dict[str, list[str]]:
    path = MODELS_DIR / "aliases.yaml"
    if not path.is_file():
        return {}
    data = _read_yaml(path, "alias file")
    return {str(alias): [str(name) for name in names] for alias, names in data.items()}


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


def _transformer_config_from(value: Any, origin: str) -> tuple[tuple[str, Any], ...]:
    """`transformer_config`: a mapping of diffusers config fields to plain values, kept sorted."""
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, (bool, int, float, str)) for k, v in value.items()
    ):
        raise UserError(
            f"{origin}: 'transformer_config' must map config field names to numbers or strings",
            "See models/cogvideox-2b.yaml (write floats with a dot, e.g. 1.0e-6).",
        )
    for key, item in value.items():
        if isinstance(item, str) and _is_number(item):
            raise UserError(
                f"{origin}: transformer_config.{key} is the string {item!r}, not a number",
                "Write floats with a dot (1.0e-6): YAML reads 1e-6 as a string.",
            )
    return tuple(sorted(value.items()))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def card_from_dict(data: Mapping[str, Any], origin: str = "model card") -> ModelCard:
    """Validate a card mapping (from YAML or from `ModelCard.to_dict()`) into a ModelCard."""
    fields = dict(data)
    missing = [name for name in REQUIRED_CARD_FIELDS if fields.get(name) in (None, "")]
    if missing:
        raise UserError(
            f"{origin} is incomplete: missing {', '.join(missing)}",
            "Add the field(s); models/cogvideox-2b.yaml is a complete example.",
        )
    unknown = sorted(set(fields) - CARD_FIELDS)
    if unknown:
        raise UserError(
            f"{origin} has unknown field(s) {', '.join(unknown)}",
            f"Valid fields: {', '.join(sorted(CARD_FIELDS))}.",
        )
    fields["sampler"] = _sampler_from(fields["sampler"], origin)
    if "transformer_config" in fields:
        fields["transformer_config"] = _transformer_config_from(
            fields["transformer_config"], origin
        )
    repvideo = fields.get("repvideo")
    if repvideo is not None:
        if not isinstance(repvideo, dict):
            raise UserError(
                f"{origin}: 'repvideo' must be a mapping", "See models/repvideo-2b.yaml."
            )
        bad = sorted(set(repvideo) - REPVIDEO_FIELDS)
        if bad:
            raise UserError(
                f"{origin}: unknown repvideo field(s) {', '.join(bad)}",
                f"Valid: {', '.join(sorted(REPVIDEO_FIELDS))}.",
            )
        try:
            fields["repvideo"] = RepVideoSettings(**repvideo)
        except (TypeError, ValueError) as error:
            raise UserError(f"{origin}: {error}", "Fix the repvideo settings.") from None
    fields["hub_id"] = fields.pop(HUB_ID_KEY)
    for key, settings_class in (("memory", MemorySettings), ("speed", SpeedSettings)):
        if fields.get(key) is not None:
            fields[key] = _settings_from(fields[key], key, settings_class, origin)
    try:
        return ModelCard(**fields)
    except (TypeError, ValueError) as error:
        raise UserError(f"{origin}: {error}", "Fix the card.") from None


def _settings_from(value: Any, key: str, settings_class: type, origin: str) -> Any:
    """A card's `memory:` or `speed:` mapping, strictly validated (docs/gpu.md lists the options)."""
    if isinstance(value, settings_class):
        return value
    if not isinstance(value, dict):
        raise UserError(f"{origin}: '{key}' must be a mapping", "See docs/gpu.md.")
    valid = {f.name for f in dataclasses.fields(settings_class)}
    bad = sorted(set(value) - valid)
    if bad:
        raise UserError(
            f"{origin}: unknown {key} field(s) {', '.join(bad)}",
            f"Valid: {', '.join(sorted(valid))}.",
        )
    try:
        return settings_class(**value)
    except (TypeError, ValueError) as error:
        raise UserError(f"{origin}: {error}", "Fix the settings (see docs/gpu.md).") from None


def load_card(name_or_path: str) -> ModelCard:
    """A registered card by name (models/<name>.yaml) or a card file by path."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return card_from_dict(_read_yaml(path, "model card"), f"model card {path}")
    registered = MODELS_DIR / f"{name_or_path}.yaml"
    if not registered.is_file():
        raise UserError(
            f"unknown model {name_or_path!r}",
            f"Use one of: {', '.join(list_models())} (see `python run_eval.py list`), or a path to a card YAML.",
        )
    card = card_from_dict(_read_yaml(registered, "model card"), f"model card {registered.name}")
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


def _read_json_suite(path: Path) -> dict[str, Any]:
    """A JSON suite: a mapping like a suite YAML, or a bare list of prompts in the format of
    VBench_full_info.json (`prompt_en`, `dimension`, `auxiliary_info`)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UserError(
            f"cannot read suite {path} ({error})", "Give a JSON list of prompts or a suite mapping."
        ) from None
    return {"prompts": data} if isinstance(data, list) else data


def _suite_from_yaml(path: Path, default_name: str) -> Suite:
    data = _read_json_suite(path) if path.suffix == ".json" else _read_yaml(path, "suite")
    if not isinstance(data, dict):
        raise UserError(f"suite {path} must be a mapping or a list of prompts", "Fix the file.")
    allowed = {"name", "description", "samples_per_prompt", "dimensions", "base_seed", "prompts"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise UserError(
            f"suite {path} has unknown field(s) {', '.join(unknown)}",
            f"Valid: {', '.join(sorted(allowed))}.",
        )
    raw_prompts = data.get("prompts") or []
    prompts: list[PromptEntry] = []
    for item in raw_prompts:
        if isinstance(item, str):
            prompts.append(PromptEntry(text=item))
        elif isinstance(item, dict) and isinstance(item.get("prompt", item.get("prompt_en")), str):
            # VBench_full_info.json's spelling (prompt_en, dimension) is accepted as well.
            text = str(item.get("prompt", item.get("prompt_en")))
            aux = item.get("auxiliary_info", {})
            if not isinstance(aux, dict) or not all(isinstance(v, dict) for v in aux.values()):
                raise UserError(
                    f"suite {path}: 'auxiliary_info' of prompt {text!r} must map each dimension "
                    "to a mapping",
                    "Use VBench_full_info.json's schema, e.g. {color: {color: red}}.",
                )
            samples = item.get("samples")
            if samples is not None and (not isinstance(samples, int) or samples < 1):
                raise UserError(
                    f"suite {path}: 'samples' of prompt {text!r} must be a positive integer",
                    "Fix it.",
                )
            prompts.append(
                PromptEntry(
                    text=text,
                    dimensions=tuple(item.get("dimensions") or item.get("dimension") or ()),
                    auxiliary_info_json=json.dumps(aux, sort_keys=True),
                    samples=samples,
                )
            )
        else:
            raise UserError(
                f"suite {path}: each prompt must be a string or a mapping with 'prompt'",
                "Fix the prompts list.",
            )
    try:
        samples = int(data.get("samples_per_prompt", 1))
        base_seed = int(data.get("base_seed", 0))
    except (TypeError, ValueError):
        raise UserError(
            f"suite {path}: samples_per_prompt and base_seed must be integers", "Fix them."
        ) from None
    if samples < 1:
        raise UserError(f"suite {path}: samples_per_prompt must be >= 1", "Fix it.")
    return Suite(
        name=str(data.get("name", default_name)),
        prompts=tuple(prompts),
        samples_per_prompt=samples,
        dimensions=tuple(data.get("dimensions", ())),
        base_seed=base_seed,
        description=str(data.get("description", "")),
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
