"""Representation diagnostics: the RepVideo paper's analysis figures (Figs. 3, 4, 5, 12) as a tool.

During normal sampling, read-only probes on the transformer blocks and a wrapping attention
processor reduce, per block and per chosen sampler step, the conditional CFG branch's features and
attention to small statistics: adjacent-latent-frame cosine similarity (token-matched and
mean-pooled), the frames x frames attention mass (plus the mass on text tokens), the attention
map of one frame's queries, and RepVideo's gates. Full attention matrices are never stored.

Entry points: ``run_analysis`` (``repvideo_eval.analysis.runner``) and the ``analyze`` CLI command.
The pure reductions live in ``similarity`` and ``attention_stats`` and need only torch.
"""

from __future__ import annotations

from repvideo_eval.lazy import lazy_attributes

_LAZY = {
    "AnalysisRequest": "repvideo_eval.analysis.runner",
    "AnalysisOutputs": "repvideo_eval.analysis.runner",
    "run_analysis": "repvideo_eval.analysis.runner",
    "RepresentationProbe": "repvideo_eval.analysis.probes",
    "adjacent_frame_similarity": "repvideo_eval.analysis.similarity",
    "frame_attention": "repvideo_eval.analysis.attention_stats",
    "read_statistics": "repvideo_eval.analysis.records",
}

__all__ = list(_LAZY)


__getattr__ = lazy_attributes(__name__, _LAZY, globals())
