"""A study's results in one object: its judgements' statistics plus the paper's Table II rows.

Built from the database alone (read-only), so it can be rebuilt at any time, also while the
server is still collecting votes; the tables and the plot are rendered from this object only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from repvideo_eval.errors import UserError
from repvideo_eval.reporting.reference import (
    DEFAULT_REFERENCE_DIR,
    ReferenceRow,
    load_reference_table,
)
from repvideo_eval.study.results import load_study
from repvideo_eval.study.stats import CriterionStats, study_stats
from repvideo_eval.vocabulary import is_random_card

DEFAULT_RESAMPLES = 2000
DEFAULT_CONFIDENCE = 0.95
DEFAULT_SEED = 0
#: The paper's user study (percent, as printed), each row with its source.
TABLE2_FILE = "repvideo_table2.csv"
OVERALL = "overall"
#: Column labels as the paper prints them; other criteria get a title-cased label.
CRITERION_LABELS = {
    OVERALL: "Overall Score",
    "spatial_appearance": "Spatial Appearance",
    "temporal_consistency": "Temporal Consistency",
    "video_text_alignment": "Video-text alignment",
}
TABLE2_CAVEATS = (
    "The paper does not say how ties were handled or whether raters could declare one.",
    "The paper's Overall row (25.54 + 75.46 = 101.00) is neither 100 % nor the mean of its three "
    "criteria (24.77 / 75.23); it is shown as printed.",
    "The paper's rows are CogVideoX-2B and RepVideo (built on CogVideoX-2B); a measured study "
    "compares whichever two models it was created with.",
)


def criterion_label(name: str) -> str:
    """Display name of a criterion (the paper's wording for its three)."""
    return CRITERION_LABELS.get(name) or name.replace("_", " ").capitalize()


@dataclass(frozen=True)
class StudySummary:
    """Statistics per criterion and overall (last), planned vs committed counts, reported rows."""

    study_dir: Path
    models: tuple[str, str]
    criteria: tuple[str, ...]
    allow_ties: bool
    n_raters: int
    n_tasks: int
    n_votes: int
    stats: list[CriterionStats]
    reported: list[ReferenceRow] = field(default_factory=list)
    method: dict[str, Any] = field(default_factory=dict)
    random_weight_models: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.n_votes >= self.n_tasks

    def by_criterion(self) -> dict[str, CriterionStats]:
        return {s.criterion: s for s in self.stats}


def load_table2(reference_dir: Path | None = None) -> list[ReferenceRow]:
    """The paper's Table II rows; an empty list where results/reference/ is absent."""
    path = Path(reference_dir or DEFAULT_REFERENCE_DIR) / TABLE2_FILE
    return load_reference_table(path) if path.is_file() else []


def random_weight_models(runs: Iterable[Any], models: Iterable[str]) -> list[str]:
    """The study's models whose card (in a source run's run.json) has random weights.

    Run folders that moved or are unreadable are skipped: the notice is best effort, the votes
    themselves never depend on it.
    """
    wanted = set(models)
    found: set[str] = set()
    for run in runs:
        try:
            document = json.loads((Path(str(run)) / "run.json").read_text(encoding="utf-8"))
            entries = dict(document.get("models") or {})
        except (OSError, ValueError, TypeError, AttributeError):
            continue
        for name, entry in entries.items():
            card = entry.get("card") if isinstance(entry, dict) else None
            if name in wanted and isinstance(card, dict) and is_random_card(card):
                found.add(name)
    return sorted(found)


def summarize_study(
    study_dir: Path,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = DEFAULT_SEED,
    reference: bool = True,
) -> StudySummary:
    """Read the study's votes and compute every statistic; the same seed gives the same intervals."""
    data = load_study(study_dir)
    if data.n_votes == 0:
        raise UserError(
            f"the study in {study_dir} has no votes yet",
            "Share the rater links that `study create` printed, then report again.",
        )
    stats = study_stats(
        data.judgements,
        data.models,
        data.criteria,
        n_resamples=n_resamples,
        confidence=confidence,
        seed=seed,
    )
    method = {
        "win_ratio": "wins / decisive (non-tie) votes; the two models' win ratios sum to 100 %",
        "tie_rate": "ties / all votes (repeats excluded)",
        "interval": f"{round(100 * confidence)}% percentile interval, two-way bootstrap resampling "
        "prompts and raters independently (a vote weighs c_prompt * c_rater); conservative "
        "when votes are independent (vote noise counted up to three times)",
        "confidence": confidence,
        "n_resamples": n_resamples,
        "seed": seed,
        "sign_test": "two-sided exact binomial test of wins vs 50 % over decisive votes",
        "side_bias": "the same sign test on left vs right choices (decisive votes)",
        "agreement": "Krippendorff's alpha (nominal: model A, model B, tie) over (pair, "
        "criterion) units judged by two or more raters; Fleiss' kappa when every such unit "
        "has the same number of raters",
        "self_consistency": "share of repeated tasks whose winning model equals the original's",
        "repeats": "repeated tasks count only in self-consistency",
        "overall": "all criteria's votes pooled",
    }
    return StudySummary(
        study_dir=Path(study_dir),
        models=data.models,
        criteria=data.criteria,
        allow_ties=data.allow_ties,
        n_raters=data.n_raters,
        n_tasks=data.n_tasks,
        n_votes=data.n_votes,
        stats=stats,
        reported=load_table2() if reference else [],
        method=method,
        random_weight_models=random_weight_models(data.meta.get("runs") or [], data.models),
    )
