"""Build run folders (per_video.csv, run.json, videos/) with synthetic records: no model needed.

`build_run` writes exactly the input contract of the reporting package, so every reporting test
runs on a folder shaped like a real run's.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from repvideo_eval.scoring.per_video import REQUIRED_COLUMNS

#: The per-video columns every reader needs (the fixtures write files without `details`).
COLUMNS = list(REQUIRED_COLUMNS)
#: Prompts with characters that must be escaped in HTML and quoted in URLs.
AWKWARD_PROMPTS = [
    'a cat <b>bold & "quoted" <img src=x onerror=alert(1)>',
    "100% pure #water? yes",
    "café au lait, l'été",
    "a dog running on the beach",
    "a red car on a bridge",
    "a boat at sunset",
]


def make_card(
    name: str, *, repvideo: dict[str, Any] | None = None, **sampler: Any
) -> dict[str, Any]:
    """A full model card dict as run.json stores it."""
    base_sampler = {
        "scheduler": "CogVideoXDPMScheduler",
        "num_inference_steps": 2,
        "guidance_scale": 6.0,
        "use_dynamic_cfg": True,
        "dynamic_cfg_exp": 5.0,
        "negative_prompt": "",
        "num_frames": 9,
        "height": 32,
        "width": 48,
        "fps": 8,
    }
    base_sampler.update(sampler)
    return {
        "name": name,
        "family": "cogvideox",
        "weights": "tiny-random:seed=0",
        "dtype": "float32",
        "sampler": base_sampler,
        "repvideo": repvideo,
    }


def card_hash_of(card: dict[str, Any]) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(card, sort_keys=True).encode()).hexdigest()[:12]


_VIDEO_CACHE: dict[str, bytes] = {}


def tiny_mp4_bytes() -> bytes:
    """A real 8-frame 32x48 H.264 mp4 (written once per session)."""
    if "mp4" not in _VIDEO_CACHE:
        import tempfile

        import imageio.v2 as imageio

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "v.mp4"
            frames = [np.full((32, 48, 3), 30 * i, dtype=np.uint8) for i in range(8)]
            imageio.mimwrite(path, frames, fps=8, codec="libx264", macro_block_size=16, quality=5)
            _VIDEO_CACHE["mp4"] = path.read_bytes()
    return _VIDEO_CACHE["mp4"]


def build_run(
    run_dir: Path,
    cards: Sequence[dict[str, Any]],
    *,
    dimensions: Sequence[str] = ("subject_consistency", "motion_smoothness"),
    prompts: Sequence[str] = AWKWARD_PROMPTS[:4],
    samples: int = 2,
    score: Callable[[str, int, int, str], float] | None = None,
    aggregation_weight: Callable[[str, int, int, str], float] | None = None,
    errors: set[tuple[str, int, int, str]] = frozenset(),
    weights_id: str = "tiny-random:seed=0",
    vbench_mode: str = "standard",
    videos: bool = False,
    run_id: str | None = None,
    created: str = "2026-11-25T08:00:00Z",
    versions: dict[str, str] | None = None,
    prompt_dimensions: Callable[[int], Sequence[str]] | None = None,
    seed_offset: int = 0,
) -> Path:
    """Write a run folder; `score(model, prompt_index, sample, dimension)` gives each score.

    Seeds follow VBench's scheme 100000 * prompt_index + sample, so two models built with the
    same prompts and samples are paired (`seed_offset` breaks the pairing). `errors` lists (model, prompt_index, sample, dimension)
    records that failed.
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    score = score or (lambda m, p, s, d: float(rng.uniform(0.5, 1.0)))
    aggregation_weight = aggregation_weight or (lambda m, p, s, d: 1.0)
    rows = []
    models = {}
    for card in cards:
        digest = card_hash_of(card)
        models[card["name"]] = {"card_hash": digest, "card": card}
        folder = run_dir / "videos" / f"{card['name']}-{digest}"
        for p_index, prompt in enumerate(prompts):
            dims = prompt_dimensions(p_index) if prompt_dimensions else dimensions
            for sample in range(samples):
                rel = f"videos/{card['name']}-{digest}/{prompt}-{sample}.mp4"
                if videos:
                    folder.mkdir(parents=True, exist_ok=True)
                    (run_dir / rel).write_bytes(tiny_mp4_bytes())
                for dim in dims:
                    failed = (card["name"], p_index, sample, dim) in errors
                    rows.append(
                        {
                            "model": card["name"],
                            "card_hash": digest,
                            "prompt": prompt,
                            "prompt_index": p_index,
                            "sample": sample,
                            "seed": 100000 * p_index + sample + seed_offset,
                            "video": rel,
                            "dimension": dim,
                            "score": ""
                            if failed
                            else repr(float(score(card["name"], p_index, sample, dim))),
                            "aggregation_weight": repr(
                                float(aggregation_weight(card["name"], p_index, sample, dim))
                            ),
                            "error": "decode failed: synthetic" if failed else "",
                            "backend": "vbench-0.1.5",
                            "weights_id": weights_id,
                            "vbench_mode": vbench_mode,
                        }
                    )
    with (run_dir / "per_video.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    meta = {
        "run_id": run_id or run_dir.name,
        "created": created,
        "suite": "synthetic",
        "dimensions": sorted({d for d in dimensions}),
        "models": models,
        "versions": versions
        or {"repvideo-eval": "0.1.0", "torch": "2.14.1", "diffusers": "0.36.0", "vbench": "0.1.5"},
        "device": "cpu",
    }
    (run_dir / "run.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return run_dir


@pytest.fixture
def run_builder() -> Callable[..., Path]:
    """The `build_run` helper, for tests."""
    return build_run


@pytest.fixture
def card_factory() -> Callable[..., dict[str, Any]]:
    return make_card
