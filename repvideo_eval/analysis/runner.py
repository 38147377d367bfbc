"""Run the diagnostics: sample each prompt with each model under the probes, write tables and plots.

Every model samples every prompt with the same seed and its own card's sampler, exactly as the
evaluation does (``generation.pipelines.sample_video``); the probes only read. Outputs in the
output folder (each written to a temp name, then renamed):

- ``statistics.csv``: similarities, frame attention masses and gates, tidy long form (records.py);
- ``attention_maps.csv``: the query frame's attention over every key token, same columns;
- ``analysis.json``: what was run (cards and their hashes, prompts, seed, steps, query frame,
  token layout, timesteps per step, CFG branch, software versions);
- ``figures/``: PNG and SVG plots (plots.py); ``videos/`` with ``save_videos``.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from repvideo_eval.analysis.attention_stats import DEFAULT_CHUNK_ELEMENTS
from repvideo_eval.analysis.options import check_query_frame, latent_frames
from repvideo_eval.atomic import write_json_atomic
from repvideo_eval.config import ModelCard
from repvideo_eval.errors import UserError

STATISTICS_CSV = "statistics.csv"
MAPS_CSV = "attention_maps.csv"
METADATA_JSON = "analysis.json"
FIGURES_DIR = "figures"
VIDEOS_DIR = "videos"


@dataclass(frozen=True)
class AnalysisRequest:
    """What to analyse. ``query_frame`` None means the middle latent frame; ``maps`` False skips the
    per-key attention maps (the largest output) but keeps the frame masses."""

    cards: tuple[ModelCard, ...]
    prompts: tuple[str, ...]
    steps: tuple[int, ...]
    seed: int = 42
    query_frame: int | None = None
    attention: bool = True
    chunk_elements: int = DEFAULT_CHUNK_ELEMENTS
    device: str = "cpu"
    save_videos: bool = False
    maps: bool = True


@dataclass
class AnalysisOutputs:
    """Paths of everything written."""

    output_dir: Path
    statistics_csv: Path
    maps_csv: Path | None
    metadata_json: Path
    figures: list[Path] = field(default_factory=list)
    videos: list[Path] = field(default_factory=list)


#: pipeline attributes holding the VAE's temporal compression, by diffusers pipeline family
_TEMPORAL_ATTRIBUTES = (
    "vae_scale_factor_temporal",  # CogVideoX, Wan, HunyuanVideo (1.5)
    "vae_temporal_compression_ratio",  # LTX-Video
    "vae_temporal_scale_factor",  # Mochi
)


def _token_frames(pipe: Any, card: ModelCard) -> int:
    config = pipe.transformer.config
    compression = next((int(getattr(pipe, a)) for a in _TEMPORAL_ATTRIBUTES if hasattr(pipe, a)), 4)
    patch = getattr(config, "patch_size_t", None)
    if patch is None and isinstance(getattr(config, "patch_size", None), (tuple, list)):
        patch = int(config.patch_size[0])  # Wan: (t, h, w)
    return latent_frames(card, compression, patch)


def analyse_card(
    request: AnalysisRequest,
    card: ModelCard,
    log: Callable[[str], None],
    sinks: _Sinks,
) -> dict[str, Any]:
    """Sample every prompt with one model under the probes; returns its tables and metadata.

    Attention maps go straight to ``sinks`` (streamed CSV and running mean), never held per video.
    """
    from repvideo_eval.analysis.branch import sequential_cfg
    from repvideo_eval.analysis.families import probe_family
    from repvideo_eval.analysis.probes import RepresentationProbe, repvideo_gates
    from repvideo_eval.analysis.records import capture_rows, gate_rows, map_frame, rows_to_frame
    from repvideo_eval.generation.family_calls import extra_guidance_passes
    from repvideo_eval.generation.pipelines import load_pipeline, sample_video
    from repvideo_eval.repvideo import pipeline_transformers

    extra = extra_guidance_passes(card)
    if extra:  # more transformer calls per step than the probes can read as steps
        raise UserError(
            f"{card.name}: analyze reads one transformer call per step, but the card turns on "
            f"{' and '.join(extra)} (each adds conditional-only calls to every step)",
            "Turn them off in sampler.pipeline_kwargs (stg_scale and audio_stg_scale 0.0, "
            "modality_scale and audio_modality_scale 1.0, as models/ltx-2.yaml does).",
        )
    pipe = load_pipeline(card, request.device)
    probe_family(pipe.transformer)  # one-line error for a transformer the probes cannot read
    # Wan 2.2 A14B's low-noise expert runs the late steps: probed too, on the same step count.
    experts = pipeline_transformers(pipe)[1:]
    query_frame = check_query_frame(request.query_frame, _token_frames(pipe, card))
    keep_maps = request.attention and request.maps
    guided = card.sampler.guidance_scale > 1.0
    # One DataFrame per video (column arrays, ~10x leaner than row dicts for long prompt lists).
    tables = [rows_to_frame(gate_rows(repvideo_gates(pipe.transformer), card.name))]
    meta: dict[str, Any] = {
        "card_hash": card.card_hash,
        "query_frame": query_frame if keep_maps else None,
        "prompts": [],
    }
    for index, prompt in enumerate(request.prompts):
        log(f"{card.name}: prompt {index + 1}/{len(request.prompts)}: {prompt}")
        probe = RepresentationProbe(
            pipe.transformer,
            set(request.steps),
            guided,
            query_frame if keep_maps else None,
            request.chunk_elements,
            request.attention,
            sequential_cfg=sequential_cfg(pipe),
            experts=experts,
        )
        with probe:
            frames, info = sample_video(pipe, card, prompt, request.seed)
        captures = probe.captures
        if captures.steps != card.sampler.num_inference_steps:
            raise RuntimeError(
                f"{card.name}: the probes counted {captures.steps} steps ({captures.calls} transformer "
                f"calls) for {card.sampler.num_inference_steps} sampler steps, so calls cannot be read as steps"
            )
        tables.append(rows_to_frame(capture_rows(captures, card.name, prompt, request.seed)))
        if keep_maps:
            sinks.maps.append(map_frame(captures, card.name, prompt, request.seed, query_frame))
            sinks.map_means.add(captures, card.name, query_frame)
        layout = captures.layout
        meta["layout"] = None if layout is None else vars(layout)
        meta["timesteps"] = {str(k): v for k, v in sorted(captures.timesteps.items())}
        meta["prompts"].append({"prompt": prompt, "uncond": info["uncond"]})
        if sinks.video_dir is not None:
            from repvideo_eval.generation.video_io import write_video_atomic

            path = sinks.video_dir / card.name / f"{index:04d}.mp4"
            write_video_atomic(frames, path, card.sampler.fps)
            sinks.videos.append(path)
        del captures, probe
    del pipe
    gc.collect()
    return {"tables": tables, "meta": meta}


@dataclass
class _Sinks:
    """Where per-video outputs go while sampling: the streamed map CSV, map means, videos."""

    maps: Any
    map_means: Any
    video_dir: Path | None
    videos: list[Path] = field(default_factory=list)


def write_figures(stats: Any, map_means: Any, figures_dir: Path) -> list[Path]:
    """Every figure the statistics support (see plots.py); map figures use prompt-mean maps."""
    from repvideo_eval.analysis import plots

    written: list[Path] = []
    tensors = ("block_output", "block_input")
    for statistic, label in (
        ("adjacent_cosine_token", "token-matched"),
        ("adjacent_cosine_pooled", "mean-pooled"),
    ):
        title = f"Adjacent-latent-frame cosine similarity ({label}), conditional branch"
        written += plots.similarity_by_layer(
            stats, statistic, tensors, figures_dir / f"similarity_{label}", title
        )
    attention = stats[stats["tensor"] == "attention"]
    for model in dict.fromkeys(attention["model"]):
        written += plots.frame_attention_heatmaps(
            stats, model, figures_dir / f"frame_attention_{model}"
        )
    if map_means is not None:
        for model, layout in map_means.layouts.items():
            query_frame = map_means.query_frames[model]
            for step in map_means.steps(model):
                title = f"{model}: attention of latent frame {query_frame}'s tokens, step {step}"
                stem = figures_dir / f"attention_map_{model}_step{step}"
                written += plots.attention_maps(
                    map_means.means(model, step), layout, query_frame, title, stem
                )
    written += plots.gate_values(stats, figures_dir / "gates")
    return written


def run_analysis(
    request: AnalysisRequest, output_dir: Path, log: Callable[[str], None] = print
) -> AnalysisOutputs:
    """Analyse every (model, prompt) pair and write tables, metadata and figures to ``output_dir``."""
    import pandas as pd

    from repvideo_eval.analysis.records import (
        MapAccumulator,
        StreamingCsv,
        rows_to_frame,
        write_csv_atomic,
    )
    from repvideo_eval.generation.provenance import package_versions

    if not request.cards or not request.prompts or not request.steps:
        raise UserError("nothing to analyse", "Give at least one model, one prompt and one step.")
    names = [card.name for card in request.cards]
    if len(set(names)) != len(names):
        raise UserError(f"model {names} listed twice", "Name each model once.")
    for card in request.cards:
        if card.family == "cogvideox":  # other families are checked once their VAE is known
            check_query_frame(request.query_frame, latent_frames(card))
    keep_maps = request.attention and request.maps
    sinks = _Sinks(
        maps=StreamingCsv(output_dir / MAPS_CSV),
        map_means=MapAccumulator() if keep_maps else None,
        video_dir=output_dir / VIDEOS_DIR if request.save_videos else None,
    )
    tables: list[Any] = []
    meta: dict[str, Any] = {}
    try:
        for card in request.cards:
            result = analyse_card(request, card, log, sinks)
            tables += result["tables"]
            meta[card.name] = result["meta"]
        output_dir.mkdir(parents=True, exist_ok=True)
        stats = pd.concat(
            [t for t in tables if not t.empty] or [rows_to_frame([])], ignore_index=True
        )
        maps_path = sinks.maps.commit(rows_to_frame([])) if keep_maps else None
    finally:
        sinks.maps.discard()
    stats_path = write_csv_atomic(stats, output_dir / STATISTICS_CSV)
    figures = write_figures(stats, sinks.map_means, output_dir / FIGURES_DIR)
    metadata = {
        "models": {
            card.name: {"card": card.to_dict(), **meta[card.name]} for card in request.cards
        },
        "prompts": list(request.prompts),
        "seed": request.seed,
        "steps": list(request.steps),
        "cfg_branch": "conditional (second half of diffusers' [uncond, cond] batch, or the first "
        "of the two calls per step for pipelines that call the transformer per branch)",
        "frames": "latent frames (token frames), not RGB frames",
        "attention": "softmax(QK^T / sqrt(head_dim)) after QK-norm and rotary, averaged over heads and query tokens",
        "device": request.device,
        "versions": package_versions(),
    }
    metadata_path = output_dir / METADATA_JSON
    write_json_atomic(metadata, metadata_path, sort_keys=False)
    return AnalysisOutputs(output_dir, stats_path, maps_path, metadata_path, figures, sinks.videos)
