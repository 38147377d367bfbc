"""The detector backend of the four detection dimensions, and building it.

Backends (DETECTORS): `grit-torch` (vbench's GRiT in plain PyTorch, the default), `grit-detectron2`
(vbench's own GRiT code, needs detectron2) and `owlv2` (a different detector: its numbers are not
comparable with VBench's). The choice comes from `--detector`, else the environment variable
REPVIDEO_EVAL_DETECTOR, else the default; it is resolved once, before a run starts, and travels
in the run specification to every worker (never re-read there). `grit` is accepted as the old
name of `grit-detectron2`.

Weights: `grit-torch` and `grit-detectron2` read GRiT's checkpoint (`grit_b`) from the weight
cache; `grit-torch` also BERT's vocabulary (`bert_base_uncased_vocab`). With tiny-random
weights, `grit-torch` is a tiny random GRiT and `owlv2` a tiny random OWLv2; detectron2's GRiT
has no tiny form. Records name the backend in `details["detector"]` and `weights_id`.
"""

from __future__ import annotations

import os

from repvideo_eval.errors import UserError
from repvideo_eval.scoring.detection.base import Detector, Task
from repvideo_eval.scoring.scorer import ScorerContext
from repvideo_eval.scoring.semantic_models import weight_files  # noqa: F401  (registers grit_b)
from repvideo_eval.vocabulary import (
    DEFAULT_DETECTOR,
    DEFAULT_SCORING_WEIGHTS,
    DETECTORS,
    GRIT_DETECTRON2,
    GRIT_TORCH,
    OWLV2,
    TINY_RANDOM_WEIGHTS,
    is_tiny_random,
    tiny_random_weights_id,
)

DETECTOR_ENV = "REPVIDEO_EVAL_DETECTOR"
_ALIASES = {"grit": GRIT_DETECTRON2}


def parse_detector(value: str, source: str = "--detector") -> str:
    """A backend name (aliases resolved); UserError naming `source` for anything else."""
    name = value.strip().lower()
    name = _ALIASES.get(name, name)
    if name not in DETECTORS:
        raise UserError(
            f"{source}={value!r} is not a detector backend.", f"Use one of: {', '.join(DETECTORS)}."
        )
    return name


def resolve_detector(
    requested: str | None = None, *, scoring_weights: str = DEFAULT_SCORING_WEIGHTS
) -> str:
    """The backend to use: `requested`, else $REPVIDEO_EVAL_DETECTOR, else grit-torch; checked
    against what this machine and the scoring weights mode can run."""
    if requested:
        detector = parse_detector(requested)
    elif os.environ.get(DETECTOR_ENV, "").strip():
        detector = parse_detector(os.environ[DETECTOR_ENV], DETECTOR_ENV)
    else:
        detector = DEFAULT_DETECTOR
    if detector == GRIT_DETECTRON2:
        from repvideo_eval.scoring.detection.grit import grit_available

        if is_tiny_random(scoring_weights):
            raise UserError(
                f"detectron2's GRiT has no {TINY_RANDOM_WEIGHTS} form.",
                f"Use --detector {GRIT_TORCH} (or {OWLV2}) with {TINY_RANDOM_WEIGHTS} weights.",
            )
        if not grit_available():
            raise UserError(
                "--detector grit-detectron2 needs detectron2, which is not installed.",
                f"Use --detector {GRIT_TORCH} (the same GRiT without detectron2).",
            )
    return detector


def load_detector(context: ScorerContext, task: Task) -> Detector:
    """Build `context.detector` in the given GRiT task mode."""
    backend = parse_detector(context.detector, "detector")
    if backend == OWLV2:
        from repvideo_eval.scoring.detection.owlv2 import Owlv2Detector

        seed = context.seed if context.tiny_random else None
        return Owlv2Detector(task, device=context.device, tiny_seed=seed)
    if backend == GRIT_TORCH:
        return _grit_torch(context, task)
    # detectron2 present, no tiny mode
    resolve_detector(backend, scoring_weights=context.scoring_weights)
    from repvideo_eval.scoring.detection.grit import GritDetector
    from repvideo_eval.scoring.models.loading import resolve_for

    resolved = resolve_for(context, "grit_b")
    return GritDetector(
        task, device=context.device, weight_path=str(resolved.path), weights_id=resolved.weights_id
    )


def _grit_torch(context: ScorerContext, task: Task) -> Detector:
    from repvideo_eval.scoring.detection.grit_torch.detector import (
        NAME,
        GritTorchDetector,
        shared_model,
        tiny_grit,
    )
    from repvideo_eval.scoring.detection.grit_torch.model import GritTorch

    key: tuple
    if context.tiny_random:
        key = ("tiny", context.seed, context.device)
        model = shared_model(key, lambda: tiny_grit(context.seed, context.device))
        return GritTorchDetector(task, model, tiny_random_weights_id(context.seed, NAME))
    from repvideo_eval.scoring.models.loading import resolve_for

    checkpoint = resolve_for(context, "grit_b")
    vocab = resolve_for(context, "bert_base_uncased_vocab")
    key = (str(checkpoint.path), checkpoint.sha256, str(vocab.path), context.device)
    model = shared_model(
        key,
        lambda: GritTorch.from_checkpoint(checkpoint.path, vocab.path, device=context.device),
    )
    return GritTorchDetector(task, model, f"{NAME}:{checkpoint.weights_id}")
