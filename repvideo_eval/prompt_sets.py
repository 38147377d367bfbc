"""VBench's prompt sets: which text the model is given for each prompt of the VBench suite.

VBench publishes augmented prompt lists, one line per line of its standard list
(`all_dimension.txt`, in the order of VBench_full_info.json). Its rule: sample with the set's
text, then name, index and score the video under the original prompt. So a set only changes
`PromptEntry.generation_text`; everything else (file names, seeds, auxiliary info, scoring, the
static filter, reports) keeps the standard prompt. The shipped lists and their provenance live
in `prompts/vbench_sets/` (PROVENANCE.yaml); this module is the one place that names them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from repvideo_eval import registry
from repvideo_eval.config import STANDARD_PROMPT_SET, RunSpec, Suite
from repvideo_eval.errors import UserError

STANDARD = STANDARD_PROMPT_SET
#: Set name -> its file under SETS_DIR (the standard set is the suite's own text).
PROMPT_SET_FILES: dict[str, str] = {
    STANDARD: "all_dimension.txt",
    "gpt-enhanced": "gpt_enhanced/all_dimension_longer.txt",
    "hunyuan": "hunyuan_all_dimension.txt",
    "wan2.1": "all_dimension_aug_wanx_seed42.txt",
}
PROMPT_SET_NAMES: tuple[str, ...] = tuple(PROMPT_SET_FILES)
#: RunSpec.prompt_set of a user's list: this prefix and the file's sha256.
USER_FILE_PREFIX = "file:"
SETS_DIR = registry.PROMPTS_DIR / "vbench_sets"
PROVENANCE_FILE = SETS_DIR / "PROVENANCE.yaml"
HELP = (
    f"text the model is given for the VBench suites: {', '.join(PROMPT_SET_NAMES)}, or a path to "
    "a text file with one prompt per line of VBench's all_dimension.txt (946 lines); videos are "
    "still named and scored under the standard prompt (default: standard)"
)


@dataclass(frozen=True)
class PromptSet:
    """A resolved set: its RunSpec value, its lines (in VBench_full_info order) and its file."""

    name: str
    lines: tuple[str, ...]
    path: Path
    sha256: str

    @property
    def is_standard(self) -> bool:
        return self.name == STANDARD


def is_vbench_suite(name: str) -> bool:
    """The suites built from VBench_full_info.json, the only ones a prompt set applies to."""
    return name in ("vbench", "vbench-mini") or name.startswith("vbench/")


def recorded_sha256() -> dict[str, str]:
    """File (relative to SETS_DIR) -> sha256, as PROVENANCE.yaml records it."""
    data = yaml.safe_load(PROVENANCE_FILE.read_text(encoding="utf-8"))
    return {str(name): str(entry["sha256"]) for name, entry in data["files"].items()}


def split_lines(data: bytes, origin: str) -> tuple[str, ...]:
    """The prompts of a list file as VBench reads them (`line.strip()` per line): CRLF endings
    and a missing final newline (VBench's enhanced lists have both) change nothing."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"prompt set {origin} is not UTF-8 text", "Save it as UTF-8.") from None
    return tuple(line.strip() for line in text.splitlines())


def _check_lines(lines: tuple[str, ...], origin: str) -> None:
    expected = len(registry.vbench_full_info())
    if len(lines) != expected:
        raise UserError(
            f"prompt set {origin} has {len(lines)} lines, VBench's standard list has {expected}",
            "Give one prompt per line of prompts/vbench_sets/all_dimension.txt, in the same order.",
        )
    empty = [i + 1 for i, line in enumerate(lines) if not line]
    if empty:
        raise UserError(
            f"prompt set {origin} has an empty line ({empty[0]})",
            "Put the prompt for that line of all_dimension.txt there.",
        )


def load_prompt_set(value: str) -> PromptSet:
    """A set by name (PROMPT_SET_NAMES) or a user's file by path, checked line by line."""
    if value in PROMPT_SET_FILES:
        relative = PROMPT_SET_FILES[value]
        path = SETS_DIR / relative
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest != recorded_sha256()[relative]:
            raise UserError(
                f"the shipped prompt set file {path} differs from its recorded sha256",
                "Restore it: git checkout -- prompts/vbench_sets.",
            )
        name = value
    else:
        path = Path(value)
        if not path.is_file():
            raise UserError(
                f"unknown prompt set {value!r}",
                f"Use one of {', '.join(PROMPT_SET_NAMES)}, or a path to a text file with one "
                "prompt per line of VBench's all_dimension.txt.",
            )
        try:
            data = path.read_bytes()
        except OSError as error:
            raise UserError(
                f"cannot read prompt set {path}: {error.strerror}", "Check the path."
            ) from None
        digest = hashlib.sha256(data).hexdigest()
        name = f"{USER_FILE_PREFIX}{digest}"
    lines = split_lines(data, str(path))
    _check_lines(lines, str(path))
    return PromptSet(name=name, lines=lines, path=path.resolve(), sha256=digest)


def _entry_key(text: str, dimensions: Iterable[str], aux_json: str) -> tuple[Any, ...]:
    return (text, tuple(dimensions), aux_json)


def apply_prompt_set(suite: Suite, prompt_set: PromptSet) -> Suite:
    """The suite with each entry's generation text taken from `prompt_set`.

    Entries are aligned by their standard prompt with VBench_full_info.json, whose order is that
    of all_dimension.txt; the two prompts VBench lists twice are told apart by their dimensions
    and auxiliary info, so each entry gets its own line.
    """
    if prompt_set.is_standard:
        return suite
    if not is_vbench_suite(suite.name):
        raise UserError(
            f"--prompt-set {describe(prompt_set.name)} applies to the VBench suites, not to suite {suite.name!r}",
            "Use --suite vbench, vbench/<dimension> or vbench-mini, or drop --prompt-set.",
        )
    index = {
        _entry_key(
            e["prompt_en"],
            e.get("dimension", ()),
            json.dumps(e.get("auxiliary_info", {}), sort_keys=True),
        ): i
        for i, e in enumerate(registry.vbench_full_info())
    }
    prompts = []
    for entry in suite.prompts:
        i = index[_entry_key(entry.text, entry.dimensions, entry.auxiliary_info_json)]
        prompts.append(dataclasses.replace(entry, generation_text=prompt_set.lines[i]))
    return dataclasses.replace(suite, prompts=tuple(prompts))


def describe(prompt_set: str) -> str:
    """A short label of a RunSpec.prompt_set value for messages and folder names."""
    if prompt_set.startswith(USER_FILE_PREFIX):
        return f"file-{prompt_set[len(USER_FILE_PREFIX) :][:12]}"
    return prompt_set


def run_json_fields(spec: RunSpec) -> dict[str, Any]:
    """What run.json records about the set: its name (`file:<sha256>` for a user's list), and
    the file and sha256 of any set other than the standard one."""
    fields: dict[str, Any] = {"prompt_set": spec.prompt_set}
    if spec.prompt_set.startswith(USER_FILE_PREFIX):
        fields["prompt_set_file"] = spec.prompt_set_file
        fields["prompt_set_sha256"] = spec.prompt_set[len(USER_FILE_PREFIX) :]
    elif spec.prompt_set != STANDARD:
        relative = PROMPT_SET_FILES[spec.prompt_set]
        fields["prompt_set_file"] = f"prompts/vbench_sets/{relative}"
        fields["prompt_set_sha256"] = recorded_sha256()[relative]
    return fields


def recorded_prompt_set(run_dir: Path) -> str | None:
    """The prompt set a run folder's run.json names (`standard` when it predates the field);
    None when the folder has no readable run.json."""
    try:
        meta = json.loads((Path(run_dir) / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(meta, Mapping):
        return None
    return str(meta.get("prompt_set") or STANDARD)


def check_same_prompt_set(spec: RunSpec, run_dir: Path) -> None:
    """Refuse to resume a run folder whose videos were generated from another prompt set (or
    from a user's file whose bytes have changed since): the videos would mix two protocols."""
    recorded = recorded_prompt_set(run_dir)
    if recorded is None or recorded == spec.prompt_set:
        return
    if recorded.startswith(USER_FILE_PREFIX) and spec.prompt_set.startswith(USER_FILE_PREFIX):
        raise UserError(
            f"run folder {run_dir} was generated from a prompt file with sha256 "
            f"{recorded[len(USER_FILE_PREFIX) :][:12]}..., the file given now has sha256 "
            f"{spec.prompt_set[len(USER_FILE_PREFIX) :][:12]}... (it changed)",
            "Restore the file the run started with, or choose another --output-dir.",
        )
    raise UserError(
        f"run folder {run_dir} was generated with prompt set {describe(recorded)}; "
        f"this run would use {describe(spec.prompt_set)}",
        f"Pass --prompt-set {recorded if not recorded.startswith(USER_FILE_PREFIX) else 'with the same file'} "
        "to resume it, or choose another --output-dir.",
    )


@dataclass(frozen=True)
class Truncation:
    """How many distinct generation prompts lost text-encoder tokens, and how many in all."""

    prompts: int
    truncated: int
    tokens_dropped: int

    def message(self, prompt_set: str) -> str:
        return (
            f"prompt set {describe(prompt_set)}: {self.truncated} of {self.prompts} prompt(s) exceeded "
            f"the text encoder's token limit ({self.tokens_dropped} token(s) dropped in all; each "
            "sidecar records its count)"
        )


def truncation_of(sidecars: Iterable[Path]) -> Truncation:
    """Counted from the sidecars (`text_tokens_dropped` per video), once per generation prompt."""
    dropped: dict[str, int] = {}
    for path in sidecars:
        try:
            meta = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(meta, Mapping):
            continue
        text = str(meta.get("generation_prompt", meta.get("prompt", "")))
        dropped[text] = int(meta.get("text_tokens_dropped") or 0)
    return Truncation(
        prompts=len(dropped),
        truncated=sum(1 for n in dropped.values() if n > 0),
        tokens_dropped=sum(dropped.values()),
    )
