"""The protocol of a leaderboard row: every setting that must match for two VBench numbers to compare.

One dataclass, one list of fields. A measured row's protocol is derived from what its runs
recorded (run.json, the model card in it, per_video.csv); a published row's comes from
`results/reference/published_protocols.csv`, where each value cites its source and a silent
source gives `unknown`. Two rows "share a protocol" when no evaluation field differs and both
state every decisive one, leaving out the fields that describe the model under test (weights,
sampler, steps) rather than the evaluation (`protocol_match`: same / differs / unverified).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import astuple, dataclass, fields
from typing import Any

import pandas as pd

from repvideo_eval.vocabulary import GRIT_DETECTRON2, GRIT_TORCH

UNKNOWN = "unknown"
#: The value of a field that does not apply to a row (no detection dimension scored).
NOT_APPLICABLE = "n/a"
#: run.json key of the prompt set (written by the run; absent in older runs = standard prompts).
PROMPT_SET_KEY = "prompt_set"
DEFAULT_PROMPT_SET = "standard"
#: VBench's seed scheme (Vchitect/VBench#163) as the harness writes it.
VBENCH_SEED_SCHEME = "100000*prompt_index+sample"
#: Detector backends that run VBench's GRiT (the port and vbench's own code) compare as one.
DETECTOR_FAMILY = {GRIT_TORCH: "grit", GRIT_DETECTRON2: "grit", "grit": "grit"}


@dataclass(frozen=True)
class Protocol:
    """Every field of a row's protocol, as display text (`unknown` where nobody says)."""

    model_weights: str = UNKNOWN
    vbench_mode: str = UNKNOWN
    prompt_set: str = UNKNOWN
    frames_hw: str = UNKNOWN  # frames x height x width
    fps: str = UNKNOWN
    sampler: str = UNKNOWN
    steps: str = UNKNOWN
    seed_scheme: str = UNKNOWN
    samples_per_prompt: str = UNKNOWN
    scoring_weights: str = UNKNOWN
    detector: str = UNKNOWN
    vbench_version: str = UNKNOWN

    def as_dict(self) -> dict[str, str]:
        return dict(zip(PROTOCOL_FIELDS, astuple(self)))


PROTOCOL_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Protocol))
FIELD_LABELS: dict[str, str] = {
    "model_weights": "model weights",
    "vbench_mode": "VBench mode",
    "prompt_set": "prompt set",
    "frames_hw": "frames x height x width",
    "fps": "fps",
    "sampler": "sampler",
    "steps": "steps",
    "seed_scheme": "seed scheme",
    "samples_per_prompt": "samples per prompt",
    "scoring_weights": "scoring weights",
    "detector": "detector",
    "vbench_version": "vbench version",
}
#: Fields that describe the model under test, not how it was evaluated: a difference there is
#: the comparison itself, so it does not stop two rows from sharing a protocol.
MODEL_FIELDS: tuple[str, ...] = ("model_weights", "sampler", "steps")
EVALUATION_FIELDS: tuple[str, ...] = tuple(f for f in PROTOCOL_FIELDS if f not in MODEL_FIELDS)
#: Evaluation fields both rows must state before they count as sharing a protocol. Seed scheme and
#: vbench version may be unstated (VBench's sources rarely give them); stated, they must agree.
DECISIVE_FIELDS: tuple[str, ...] = tuple(
    f for f in EVALUATION_FIELDS if f not in ("seed_scheme", "vbench_version")
)


def canonical(field: str, value: str) -> str:
    """The value two rows are compared on (case and spacing ignored, GRiT backends as one)."""
    text = " ".join(str(value).split()).lower()
    if field == "detector":
        return DETECTOR_FAMILY.get(text, text)
    return text


@dataclass(frozen=True)
class FieldDifference:
    """One protocol field on which two rows disagree (or one of them is silent)."""

    field: str
    a: str
    b: str
    stated: bool  # False when either side is unknown: a possible, not a known, difference

    @property
    def kind(self) -> str:
        return "model" if self.field in MODEL_FIELDS else "evaluation"


def _comparable(value: str) -> bool:
    return canonical("", value) not in (UNKNOWN, NOT_APPLICABLE, "")


def differences(a: Protocol, b: Protocol) -> list[FieldDifference]:
    """Every field whose values differ, in PROTOCOL_FIELDS order; unknown on either side is listed
    as unstated (it may or may not differ); `n/a` on either side is not a difference."""
    out = []
    for name in PROTOCOL_FIELDS:
        va, vb = getattr(a, name), getattr(b, name)
        if NOT_APPLICABLE in (canonical(name, va), canonical(name, vb)):
            continue
        if not (_comparable(va) and _comparable(vb)):
            out.append(FieldDifference(name, va, vb, stated=False))
        elif canonical(name, va) != canonical(name, vb):
            out.append(FieldDifference(name, va, vb, stated=True))
    return out


def protocol_match(a: Protocol, b: Protocol) -> str:
    """'differs' when an evaluation field stated by both rows differs; else 'unverified' when a
    decisive field is unstated on one side; else 'same'."""
    evaluation = [d for d in differences(a, b) if d.kind == "evaluation"]
    if any(d.stated for d in evaluation):
        return "differs"
    return "unverified" if any(d.field in DECISIVE_FIELDS for d in evaluation) else "same"


def _joined(values: Iterable[Any]) -> str:
    """One value, or several joined by ' / ' (rows merged from runs that disagree)."""
    texts = list(dict.fromkeys(str(v) for v in values if v is not None and str(v) != ""))
    return " / ".join(texts) if texts else UNKNOWN


def sampler_text(sampler: Mapping[str, Any]) -> str:
    """Scheduler and guidance, e.g. 'dpm++2m, cfg 6.0 dynamic (exp 5.0)'."""
    if not sampler.get("scheduler"):
        return UNKNOWN
    text = str(sampler["scheduler"])
    if sampler.get("guidance_scale") is not None:
        text += f", cfg {sampler['guidance_scale']}"
        if sampler.get("use_dynamic_cfg"):
            text += f" dynamic (exp {sampler.get('dynamic_cfg_exp')})"
    return text


def model_weights_text(card: Mapping[str, Any]) -> str:
    """The card's weights (and a separate transformer checkpoint, as RepVideo's)."""
    weights = card.get("weights")
    if not weights:
        return UNKNOWN
    text = str(weights)
    if card.get("transformer_weights"):
        text += f" + transformer {card['transformer_weights']}"
    if card.get("source"):
        text += f" ({card['source']})"
    return text


def seed_scheme_of(frame: pd.DataFrame) -> str:
    """VBench's 100000*prompt_index+sample (plus a constant offset), else 'per video'."""
    if frame.empty or (frame["seed"] < 0).any():
        return UNKNOWN
    offsets = set(
        (frame["seed"] - 100000 * frame["prompt_index"] - frame["sample"]).astype(int).tolist()
    )
    if len(offsets) == 1:
        offset = offsets.pop()
        return VBENCH_SEED_SCHEME if offset == 0 else f"{offset}+{VBENCH_SEED_SCHEME}"
    return "per video (see per_video.csv)"


def measured_protocol(
    card: Mapping[str, Any], frame: pd.DataFrame, metas: Iterable[Mapping[str, Any]]
) -> Protocol:
    """The protocol of one measured row from its card, its records and its runs' run.json."""
    metas = list(metas)
    sampler = card.get("sampler") or {}
    frames_hw = UNKNOWN
    if all(sampler.get(k) is not None for k in ("num_frames", "height", "width")):
        frames_hw = f"{sampler['num_frames']}x{sampler['height']}x{sampler['width']}"
    detectors = [m.get("detector") for m in metas]
    detector = _joined(detectors) if any(detectors) else NOT_APPLICABLE
    return Protocol(
        model_weights=model_weights_text(card),
        vbench_mode=_joined(sorted(set(frame["vbench_mode"].astype(str)))),
        prompt_set=_joined(m.get(PROMPT_SET_KEY, DEFAULT_PROMPT_SET) for m in metas),
        frames_hw=frames_hw,
        fps=_joined([sampler.get("fps")]),
        sampler=sampler_text(sampler),
        steps=_joined([sampler.get("num_inference_steps")]),
        seed_scheme=seed_scheme_of(frame),
        samples_per_prompt=_joined(m.get("samples_per_prompt") for m in metas),
        scoring_weights=_joined(m.get("scoring_weights") for m in metas),
        detector=detector,
        vbench_version=_joined((m.get("versions") or {}).get("vbench") for m in metas),
    )
