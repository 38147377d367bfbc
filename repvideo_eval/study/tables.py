"""Render a StudySummary as Markdown (the paper's Table II layout), CSV and JSON text.

All three carry the same numbers: measured win ratios with intervals (percent), the reported
rows of the paper with their source, and per criterion the counts, tie rate, sign test,
agreement and self-consistency.
"""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

from repvideo_eval.reporting.formats import MISSING, md_table, number, p_text
from repvideo_eval.reporting.reference import ReferenceRow
from repvideo_eval.study.stats import CriterionStats, Estimate
from repvideo_eval.study.summary import (
    OVERALL,
    TABLE2_CAVEATS,
    StudySummary,
    criterion_label,
)

STUDY_TITLE = "User study (blind pairwise)"
RANDOM_WEIGHTS_STUDY = (
    "RANDOM WEIGHTS: {models} generated their videos with random weights (a tiny or random "
    "model card); "
    "this study tests the code path, not the models."
)


def random_weights_notice(summary: StudySummary) -> str:
    """The warning for a study of random-weight videos, or '' when the models are real."""
    if not summary.random_weight_models:
        return ""
    return RANDOM_WEIGHTS_STUDY.format(models=", ".join(summary.random_weight_models))


def columns(summary: StudySummary) -> list[str]:
    """Table II's column order: Overall first, then the study's criteria."""
    return [OVERALL, *summary.criteria]


def percent(estimate: Estimate) -> str:
    """'75.00 [62.10, 86.00]' in percent."""
    if not math.isfinite(estimate.value):
        return MISSING
    text = number(100 * estimate.value)
    if math.isfinite(estimate.low) and math.isfinite(estimate.high):
        text += f" [{number(100 * estimate.low)}, {number(100 * estimate.high)}]"
    return text


def reported_label(ref: ReferenceRow) -> str:
    return f"{ref.method} (reported, RepVideo paper Table II)"


def _consistency_text(stats: CriterionStats) -> str:
    c = stats.consistency
    return f"{number(100 * c.rate)} % ({c.n_same}/{c.n_repeats})" if c.n_repeats else MISSING


def _agreement_text(value: float, n_units: int) -> str:
    return f"{number(value, 3)} ({n_units} units)" if math.isfinite(value) else MISSING


def win_ratio_table(summary: StudySummary) -> list[str]:
    """Markdown lines of the Table II layout: one row per model, measured then reported."""
    stats = summary.by_criterion()
    names = columns(summary)
    body = [
        [model, "measured", *(percent(stats[c].win_ratio[model]) for c in names)]
        for model in summary.models
    ]
    body += [
        [reported_label(ref), "reported", *(number(ref.values.get(c)) for c in names)]
        for ref in summary.reported
    ]
    return md_table(["Method", "Kind", *(criterion_label(c) for c in names)], body)


def details_table(summary: StudySummary) -> list[str]:
    """Markdown lines: counts and the other statistics, one row per criterion and overall."""
    a, b = summary.models
    body = [
        [
            criterion_label(s.criterion),
            str(s.n_votes),
            str(s.wins[a]),
            str(s.wins[b]),
            str(s.ties),
            percent(s.tie_rate) if summary.allow_ties or s.ties else "not offered",
            p_text(s.sign_test_p, exact=True),
            f"{s.sides['left']}:{s.sides['right']} (p {p_text(s.side_bias_p, exact=False)})",
            str(s.n_prompts),
            str(s.n_raters),
            _agreement_text(s.agreement.krippendorff_alpha, s.agreement.n_units),
            _agreement_text(s.agreement.fleiss_kappa, s.agreement.n_units),
            _consistency_text(s),
        ]
        for s in [*summary.stats[-1:], *summary.stats[:-1]]
    ]
    header = [
        "Criterion",
        "Votes",
        f"{a} wins",
        f"{b} wins",
        "Ties",
        "Tie rate (%)",
        "Sign test p",
        "Left:right chosen",
        "Prompts",
        "Raters",
        "Krippendorff's α",
        "Fleiss' κ",
        "Self-consistency",
    ]
    return md_table(header, body)


def to_markdown(summary: StudySummary, level: int = 1) -> str:
    """study.md text; `level` 2 nests it as a section (beside a leaderboard)."""
    h = "#" * level
    confidence = round(100 * float(summary.method["confidence"]))
    status = (
        f"{summary.n_votes} of {summary.n_tasks} planned tasks voted"
        + ("" if summary.complete else " (**study still incomplete**)")
        + f", {summary.n_raters} raters"
    )
    lines = [
        f"{h} {STUDY_TITLE}: {summary.models[0]} vs {summary.models[1]}",
        "",
    ]
    if summary.random_weight_models:
        lines += [f"> **{random_weights_notice(summary)}**", ""]
    lines += [
        f"Study: {summary.study_dir}. {status}. Win ratios in percent: wins over decisive "
        f"(non-tie) votes, ties reported apart. Brackets: {confidence}% bootstrap interval over "
        f"prompts and raters ({summary.method.get('n_resamples')} resamples, seed "
        f"{summary.method.get('seed')}). Rows marked *reported* are published numbers, not "
        "measured here.",
        "",
    ]
    lines += win_ratio_table(summary) + [""]
    lines += [f"{h}# Per criterion", ""] + details_table(summary) + [""]
    if summary.reported:
        lines += [f"{h}# Sources of reported rows", ""]
        lines += [f"- {reported_label(ref)}: {ref.source}" for ref in summary.reported]
        lines += [f"- {caveat}" for caveat in TABLE2_CAVEATS] + [""]
    lines += [f"{h}# Method", ""]
    lines += [f"- {key}: {value}" for key, value in summary.method.items()] + [""]
    return "\n".join(lines)


def _num(value: float) -> Any:
    return "" if value is None or not math.isfinite(value) else round(float(value), 6)


def _json_num(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def csv_rows(summary: StudySummary) -> list[dict[str, Any]]:
    """One row per (model, criterion) measured, then per (reported row, criterion)."""
    out: list[dict[str, Any]] = []
    for s in summary.stats:
        for model in summary.models:
            other = summary.models[1] if model == summary.models[0] else summary.models[0]
            estimate = s.win_ratio[model]
            out.append(
                {
                    "kind": "measured",
                    "model": model,
                    "criterion": s.criterion,
                    "win_ratio": _num(100 * estimate.value),
                    "ci_low": _num(100 * estimate.low),
                    "ci_high": _num(100 * estimate.high),
                    "wins": s.wins[model],
                    "losses": s.wins[other],
                    "ties": s.ties,
                    "votes": s.n_votes,
                    "tie_rate": _num(100 * s.tie_rate.value),
                    "tie_rate_ci_low": _num(100 * s.tie_rate.low),
                    "tie_rate_ci_high": _num(100 * s.tie_rate.high),
                    "sign_test_p": _num(s.sign_test_p),
                    "left_chosen": s.sides["left"],
                    "right_chosen": s.sides["right"],
                    "side_bias_p": _num(s.side_bias_p),
                    "n_prompts": s.n_prompts,
                    "n_raters": s.n_raters,
                    "krippendorff_alpha": _num(s.agreement.krippendorff_alpha),
                    "fleiss_kappa": _num(s.agreement.fleiss_kappa),
                    "agreement_units": s.agreement.n_units,
                    "self_consistency": _num(100 * s.consistency.rate),
                    "repeats": s.consistency.n_repeats,
                    "source": "",
                }
            )
    for ref in summary.reported:
        for criterion in columns(summary):
            out.append(
                {
                    "kind": "reported",
                    "model": ref.method,
                    "criterion": criterion,
                    "win_ratio": _num(ref.values.get(criterion, math.nan)),
                    "source": ref.source,
                }
            )
    return out


def to_csv(summary: StudySummary) -> str:
    """study.csv text (percent; agreement coefficients on their own -1..1 scale)."""
    rows = csv_rows(summary)
    header: list[str] = []
    for row in rows:
        header += [k for k in row if k not in header]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _estimate_json(estimate: Estimate) -> dict[str, float | None]:
    return {
        "value": _json_num(100 * estimate.value),
        "ci_low": _json_num(100 * estimate.low),
        "ci_high": _json_num(100 * estimate.high),
    }


def _stats_json(s: CriterionStats) -> dict[str, Any]:
    return {
        "votes": s.n_votes,
        "wins": s.wins,
        "ties": s.ties,
        "win_ratio": {model: _estimate_json(e) for model, e in s.win_ratio.items()},
        "tie_rate": _estimate_json(s.tie_rate),
        "sign_test_p": _json_num(s.sign_test_p),
        "sides": {**s.sides, "sign_test_p": _json_num(s.side_bias_p)},
        "n_prompts": s.n_prompts,
        "n_raters": s.n_raters,
        "agreement": {
            "krippendorff_alpha": _json_num(s.agreement.krippendorff_alpha),
            "fleiss_kappa": _json_num(s.agreement.fleiss_kappa),
            "units": s.agreement.n_units,
            "ratings": s.agreement.n_ratings,
        },
        "self_consistency": {
            "rate": _json_num(100 * s.consistency.rate),
            "same": s.consistency.n_same,
            "repeats": s.consistency.n_repeats,
            "per_rater": {
                str(rater): {"same": same, "repeats": total}
                for rater, (same, total) in s.consistency.per_rater.items()
            },
        },
    }


def to_json_document(summary: StudySummary) -> dict[str, Any]:
    """The study.json document (percent, null where undefined)."""
    notice = random_weights_notice(summary)
    return {
        "warnings": [notice] if notice else [],
        "units": "percent",
        "study_dir": str(summary.study_dir),
        "models": list(summary.models),
        "criteria": list(summary.criteria),
        "allow_ties": summary.allow_ties,
        "raters": summary.n_raters,
        "tasks": summary.n_tasks,
        "votes": summary.n_votes,
        "complete": summary.complete,
        "results": {s.criterion: _stats_json(s) for s in summary.stats},
        "reported": [
            {
                "kind": "reported",
                "row": reported_label(ref),
                "method": ref.method,
                "table": ref.table,
                "source": ref.source,
                "values": ref.values,
            }
            for ref in summary.reported
        ],
        "reported_caveats": list(TABLE2_CAVEATS) if summary.reported else [],
        "method": summary.method,
    }


def to_json(summary: StudySummary) -> str:
    """study.json text."""
    document = to_json_document(summary)
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
