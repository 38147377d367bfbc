"""Pick the detector backend for a scoring context: GRiT whenever it can run, else OWLv2.

* weights "tiny-random": a tiny random OWLv2 (GRiT cannot be built without its checkpoint).
* otherwise GRiT when detectron2 is importable, else OWLv2 (official checkpoint from the hub).
* `REPVIDEO_EVAL_DETECTOR=grit|owlv2` forces one; forcing grit without detectron2 is an error.
The chosen backend is named in each record's `weights_id` ("grit:..." / "owlv2:..." /
"tiny-random:...:detector=owlv2") and in `details["detector"]`.
"""

from __future__ import annotations

import os

from repvideo_eval.errors import UserError
from repvideo_eval.scoring.detection.base import Detector, Task
from repvideo_eval.scoring.scorer import ScorerContext
from repvideo_eval.scoring.semantic_models import weight_files  # noqa: F401  (registers grit_b)

DETECTOR_ENV = "REPVIDEO_EVAL_DETECTOR"


def chosen_backend(context: ScorerContext) -> str:
    """'grit' or 'owlv2' for this context (see module docstring)."""
    from repvideo_eval.scoring.detection.grit import grit_available

    forced = os.environ.get(DETECTOR_ENV, "").strip().lower()
    if forced not in ("", "grit", "owlv2"):
        raise UserError(
            f"{DETECTOR_ENV}={forced!r} is not a detector backend.", "Use grit or owlv2."
        )
    if context.weights == "tiny-random":
        if forced == "grit":
            raise UserError(
                "There is no tiny-random GRiT.", f"Unset {DETECTOR_ENV} or use --weights official."
            )
        return "owlv2"
    if forced == "grit" and not grit_available():
        raise UserError(
            "GRiT needs detectron2, which is not installed.",
            "pip install 'git+https://github.com/facebookresearch/detectron2.git' (see docs/semantic_dimensions.md), "
            f"or set {DETECTOR_ENV}=owlv2.",
        )
    if forced:
        return forced
    return "grit" if grit_available() else "owlv2"


def load_detector(context: ScorerContext, task: Task) -> Detector:
    """Build the backend chosen for `context` in the given GRiT task mode."""
    backend = chosen_backend(context)
    if backend == "owlv2":
        from repvideo_eval.scoring.detection.owlv2 import Owlv2Detector

        seed = context.seed if context.weights == "tiny-random" else None
        return Owlv2Detector(task, device=context.device, tiny_seed=seed)
    from repvideo_eval.scoring.detection.grit import GritDetector
    from repvideo_eval.scoring.models.loading import resolve_for

    resolved = resolve_for(context, "grit_b")
    return GritDetector(
        task, device=context.device, weight_path=str(resolved.path), weights_id=resolved.weights_id
    )
