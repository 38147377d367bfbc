"""The one strict loader of mappings (YAML files, run.json entries) into frozen dataclasses.

Every YAML kind (model cards, sampler presets, suites, ablation grids, aliases) is read by
`read_yaml_mapping` and turned into its dataclass by `from_mapping`, which takes the rules from
the dataclass itself: its fields are the allowed keys, fields without a default are required, the
type hints are checked (nested dataclasses, `X | None`, Literal, `tuple[X, ...]`, `dict[K, V]`)
and the class's own `__post_init__` validates the values. So a new field needs only a dataclass
field. Every mistake is one UserError line naming the file, the key and what is allowed.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

import yaml

from repvideo_eval.errors import UserError

T = TypeVar("T")

#: A field converter: (raw value, "<origin>: <key>") -> the field's value; for the few fields
#: whose file form is not their type (a sampler given as a preset name, prompts as plain text).
Converter = Callable[[Any, str], Any]

#: YAML 1.1 reads bare on/off/yes/no as booleans; a Literal field listing such a word gets it back.
_BOOLEAN_WORDS = {False: ("off", "no", "false"), True: ("on", "yes", "true")}


def read_yaml_mapping(path: Path, what: str, hint: str) -> dict[str, Any]:
    """The top-level mapping of the YAML file `path` (`what` names its kind in errors)."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{what} {path} does not exist", hint) from None
    except OSError as error:
        raise UserError(f"cannot read {what} {path}: {error.strerror}", "Check the path.") from None
    except UnicodeDecodeError:
        raise UserError(f"cannot read {what} {path}: not UTF-8 text", hint) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise UserError(f"{what} {path} is not valid YAML{where}", "Fix the syntax.") from None
    if not isinstance(data, dict):
        raise UserError(f"{what} {path}: the top level must be a mapping of fields", hint)
    return data


def file_keys(cls: type, keys: Mapping[str, str] | None = None) -> dict[str, str]:
    """field name -> the key files spell it with (`keys` renames some, e.g. hub_id -> weights)."""
    renames = keys or {}
    return {f.name: renames.get(f.name, f.name) for f in dataclasses.fields(cls)}


def from_mapping(
    cls: type[T],
    data: object,
    origin: str,
    *,
    hint: str,
    keys: Mapping[str, str] | None = None,
    convert: Mapping[str, Converter] | None = None,
) -> T:
    """A `cls` built strictly from `data`.

    origin: what the mapping is, for errors ("model card models/x.yaml").
    hint: the fix sentence of every error (where a complete example is).
    keys: field name -> key in the file, for fields the files spell otherwise.
    convert: key -> Converter, for fields whose file form is not their type.
    """
    if isinstance(data, cls):
        return data
    if not isinstance(data, Mapping):
        raise UserError(f"{origin} must be a mapping of fields, got {_shown(data)}", hint)
    names = file_keys(cls, keys)
    allowed = set(names.values())
    unknown = sorted(str(k) for k in data if k not in allowed)
    if unknown:
        raise UserError(
            f"{origin} has unknown key(s) {', '.join(unknown)}",
            f"Allowed: {', '.join(sorted(allowed))}. {hint}",
        )
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    missing = [
        key
        for name, key in names.items()
        if _required(fields[name]) and data.get(key) in (None, "")
    ]
    if missing:
        raise UserError(f"{origin} is incomplete: missing {', '.join(missing)}", hint)
    hints = typing.get_type_hints(cls)
    converters = convert or {}
    values: dict[str, Any] = {}
    for name, key in names.items():
        if key not in data:
            continue
        where = f"{origin}: {key}"
        if key in converters:
            values[name] = converters[key](data[key], where)
        else:
            values[name] = convert_value(hints[name], data[key], where, hint)
    try:
        return cls(**values)
    except (TypeError, ValueError) as error:
        raise UserError(f"{origin}: {error}", hint) from None


def convert_value(tp: Any, value: Any, where: str, hint: str) -> Any:
    """`value` checked against the type hint `tp` (containers rebuilt as the hint says)."""
    origin = get_origin(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(tp) if a is not type(None)]
        if value is None and len(options) < len(get_args(tp)):
            return None
        if len(options) == 1:  # `X | None`: X's own error is the precise one
            return convert_value(options[0], value, where, hint)
        for option in options:
            try:
                return convert_value(option, value, where, hint)
            except UserError:
                continue
        raise _type_error(tp, value, where, hint)
    if origin is Literal:
        allowed = get_args(tp)
        if isinstance(value, bool):
            value = next((w for w in _BOOLEAN_WORDS[value] if w in allowed), value)
        if value in allowed and not isinstance(value, bool):
            return value
        raise _type_error(tp, value, where, hint)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return from_mapping(tp, value, where, hint=hint)
    if origin is tuple:
        return _tuple(tp, value, where, hint)
    if origin in (dict, Mapping):
        key_type, value_type = get_args(tp)
        if not isinstance(value, Mapping):
            raise _type_error(tp, value, where, hint)
        return {
            convert_value(key_type, k, f"{where} key", hint): convert_value(
                value_type, v, f"{where}.{k}", hint
            )
            for k, v in value.items()
        }
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value  # an int stays an int: card hashes are taken over the values as written
        raise _type_error(tp, value, where, hint)
    if tp is int and isinstance(value, bool):
        raise _type_error(tp, value, where, hint)
    if isinstance(tp, type) and isinstance(value, tp):
        return value
    raise _type_error(tp, value, where, hint)


def _tuple(tp: Any, value: Any, where: str, hint: str) -> tuple[Any, ...]:
    """`tuple[X, ...]` from a list (one plain value stands for a one-item list); a tuple of
    (key, value) pairs also from a mapping, sorted by key."""
    args = get_args(tp)
    if len(args) != 2 or args[1] is not Ellipsis:  # a fixed-length tuple: (key, value) pairs
        if not isinstance(value, (list, tuple)) or len(value) != len(args):
            raise _type_error(tp, value, where, hint)
        return tuple(
            convert_value(a, v, f"{where}[{i}]", hint) for i, (a, v) in enumerate(zip(args, value))
        )
    item = args[0]
    if isinstance(value, Mapping) and get_origin(item) is tuple and len(get_args(item)) == 2:
        value = sorted(value.items())
    if isinstance(value, (list, tuple)):
        items = list(value)
    elif value is None or isinstance(value, Mapping) or dataclasses.is_dataclass(item):
        raise _type_error(tp, value, where, hint)
    else:
        items = [value]
    return tuple(convert_value(item, v, f"{where}[{i}]", hint) for i, v in enumerate(items))


def describe(tp: Any, plural: bool = False) -> str:
    """A type hint in words: 'an integer', 'a list of mappings', 'one of learned, fixed, off'."""
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        options = [describe(a, plural) for a in get_args(tp) if a is not type(None)]
        return " or ".join(options)
    if origin is Literal:
        return f"{'values' if plural else 'one'} of {', '.join(map(str, get_args(tp)))}"
    if origin is tuple and get_args(tp)[-1] is not Ellipsis:
        return "lists" if plural else f"a list of {len(get_args(tp))} values"
    if origin is tuple:
        return "lists" if plural else f"a list of {describe(get_args(tp)[0], plural=True)}"
    words = {
        str: ("a string", "strings"),
        int: ("an integer", "integers"),
        float: ("a number", "numbers"),
        bool: ("true or false", "booleans"),
    }
    if tp in words:
        return words[tp][plural]
    return "mappings" if plural else "a mapping"


def _type_error(tp: Any, value: Any, where: str, hint: str) -> UserError:
    return UserError(f"{where} must be {describe(tp)}, got {_shown(value)}", hint)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _required(field: dataclasses.Field) -> bool:
    return field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
