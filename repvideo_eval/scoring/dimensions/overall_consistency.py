"""overall_consistency: ViCLIP video-prompt cosine, exactly temporal_style's computation.

vbench's `overall_consistency.py` is a copy of `temporal_style.py` with another prompt list
(see `temporal_style.ViclipPromptSimilarity` for the frames, transform and score).
"""

from __future__ import annotations

from repvideo_eval.scoring.dimensions.temporal_style import ViclipPromptSimilarity


class OverallConsistency(ViclipPromptSimilarity):
    dimension = "overall_consistency"
