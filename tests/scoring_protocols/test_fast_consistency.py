"""VBench-Long --dev_flag "fast" models: DINOv2 (subject) and DreamSim (background) vs vbench2_beta_long.

Random weights are written in the official formats and cache layouts (`fast_models_fixture.py`);
vbench2_beta_long's `subject_consistency_dinov2` / `background_consistency_dreamsim` run on them in
their own process (`vbench_long_fast_reference.py`, DreamSim loaded by dreamsim's own `dreamsim()`),
and the project's `FastConsistency` loads the same files through the weight registry.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from repvideo_eval.errors import UserError
from repvideo_eval.scoring.decode import DecodedVideo
from repvideo_eval.scoring.long_mode import LongModeSession
from repvideo_eval.scoring.long_mode.fast_consistency import FAST_EXTRACTORS, FastConsistency
from repvideo_eval.scoring.records import VideoToScore
from repvideo_eval.scoring.scorer import ScorerContext

from .conftest import HERE, REPO_ROOT, render, write_video

sys.path.insert(0, str(HERE))
from fast_models_fixture import TINY_DINOV2, build_fast_cache, shrink_official_models  # noqa: E402
from make_dinov2_hub_fixture import FIXTURE as DINOV2_HUB_FIXTURE  # noqa: E402
from make_dinov2_hub_fixture import STATE_PREFIX  # noqa: E402

#: A facebookresearch/dinov2 checkout (folder holding `dinov2/`), used when present.
DINOV2_HUB_CODE = os.environ.get("DINOV2_HUB_CODE", "/tmp/dinov2_ref")


def _fast_videos(folder: Path) -> list[str]:
    """Short "first frames" videos: different contents so that the scores spread."""
    # one frame size: decord (as vbench's load_video calls it) fails on a second size in one process
    specs = [
        ("square", 4, 48, 64, 1),
        ("pan", 3, 48, 64, 2),
        ("static", 5, 48, 64, 3),
        ("square", 2, 48, 64, 4),
    ]
    paths = []
    for i, (kind, n, h, w, seed) in enumerate(specs):
        frames = render(kind, n, h, w, seed=seed)
        if kind == "static":
            frames = frames.copy()
            frames[2:] = 255 - frames[2:]
        paths.append(str(write_video(folder / f"fast-{i}.mp4", frames)))
    return paths


def _run_reference(root: Path, videos: list[str], size: str) -> dict:
    (root / "videos.json").write_text(json.dumps(videos))
    env = {
        **os.environ,
        "HOME": str(root / "home"),
        "TORCH_HOME": str(root / "torch"),
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(REPO_ROOT),
    }
    env.pop("XDG_CACHE_HOME", None)
    if Path(DINOV2_HUB_CODE, "dinov2").is_dir():
        env["DINOV2_HUB_CODE"] = DINOV2_HUB_CODE
    proc = subprocess.run(
        [
            sys.executable,
            str(HERE / "vbench_long_fast_reference.py"),
            str(root / "videos.json"),
            str(root / "out.json"),
            size,
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads((root / "out.json").read_text())


def _ours(root: Path, videos: list[str], monkeypatch) -> dict:
    monkeypatch.setenv("HOME", str(root / "home"))
    monkeypatch.setenv("TORCH_HOME", str(root / "torch"))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    context = ScorerContext(scoring_weights="official", cache_dir=root / "vbench")
    out = {}
    for dimension in FAST_EXTRACTORS:
        fast = FastConsistency(dimension, context)
        out[dimension] = {v: fast.score(DecodedVideo(v).decord_rgb()) for v in videos}
        out[dimension + ":weights_id"] = fast.weights_id
    return out


def _assert_parity(ref: dict, ours: dict, videos: list[str]) -> float:
    worst = 0.0
    for dimension in FAST_EXTRACTORS:
        for video in videos:
            diff = abs(ref[dimension][video] - ours[dimension][video])
            worst = max(worst, diff)
            assert diff < 1e-4, (dimension, video, ref[dimension][video], ours[dimension][video])
    spread = [ours[d][v] for d in FAST_EXTRACTORS for v in videos]
    assert max(spread) - min(spread) > 1e-3  # the scores are not all the same constant
    return worst


def test_fast_models_match_vbench_long_dev_flag_tiny(tmp_path, monkeypatch):
    build_fast_cache(tmp_path / "home", tmp_path / "torch", tiny=True)
    videos = _fast_videos(tmp_path / "videos")
    ref = _run_reference(tmp_path, videos, "tiny")
    shrink_official_models(monkeypatch)
    ours = _ours(tmp_path, videos, monkeypatch)
    worst = _assert_parity(ref, ours, videos)
    print(f"max abs diff {worst:.2e} (DINOv2 reference: {ref['dinov2_impl']})")
    assert ours["subject_consistency:weights_id"].startswith(
        "torch_hub:dinov2_vitb14_pretrain.pth:sha256="
    )
    assert ours["background_consistency:weights_id"].startswith(
        "dreamsim_ensemble:dino_vitbase16_pretrain.pth:"
    )
    lock = json.loads((tmp_path / "vbench" / "repvideo_eval_weights.lock.json").read_text())
    assert "torch_hub:checkpoints/dinov2_vitb14_pretrain.pth" in lock
    assert "dreamsim:ensemble_lora/adapter_model.safetensors" in lock


@pytest.mark.slow
def test_fast_models_match_vbench_long_dev_flag_full_size(tmp_path, monkeypatch):
    build_fast_cache(tmp_path / "home", tmp_path / "torch", tiny=False)
    videos = _fast_videos(tmp_path / "videos")
    ref = _run_reference(tmp_path, videos, "full")
    ours = _ours(tmp_path, videos, monkeypatch)
    worst = _assert_parity(ref, ours, videos)
    print(f"max abs diff {worst:.2e} (DINOv2 reference: {ref['dinov2_impl']})")


def _transformers_state(state: dict[str, torch.Tensor], depth: int) -> dict[str, torch.Tensor]:
    """hub dinov2 names -> transformers Dinov2Model names (qkv split into q/k/v)."""
    out = {
        "embeddings.cls_token": state["cls_token"],
        "embeddings.mask_token": state["mask_token"],
        "embeddings.position_embeddings": state["pos_embed"],
        "embeddings.patch_embeddings.projection.weight": state["patch_embed.proj.weight"],
        "embeddings.patch_embeddings.projection.bias": state["patch_embed.proj.bias"],
        "layernorm.weight": state["norm.weight"],
        "layernorm.bias": state["norm.bias"],
    }
    for i in range(depth):
        src, dst = f"blocks.{i}.", f"encoder.layer.{i}."
        for a, b in (
            ("norm1", "norm1"),
            ("norm2", "norm2"),
            ("mlp.fc1", "mlp.fc1"),
            ("mlp.fc2", "mlp.fc2"),
            ("attn.proj", "attention.o_proj"),
        ):
            out[f"{dst}{b}.weight"] = state[f"{src}{a}.weight"]
            out[f"{dst}{b}.bias"] = state[f"{src}{a}.bias"]
        for part, name in zip(("weight", "bias"), ("weight", "bias")):
            q, k, v = state[f"{src}attn.qkv.{part}"].chunk(3, dim=0)
            (
                out[f"{dst}attention.q_proj.{name}"],
                out[f"{dst}attention.k_proj.{name}"],
                out[f"{dst}attention.v_proj.{name}"],
            ) = q, k, v
        out[f"{dst}layer_scale1.lambda1"] = state[f"{src}ls1.gamma"]
        out[f"{dst}layer_scale2.lambda1"] = state[f"{src}ls2.gamma"]
    return out


def test_dinov2_matches_transformers_dinov2model():
    """Second implementation: transformers' Dinov2Model with the hub checkpoint converted.

    At 518 px (no positional resize) the two agree; at 224 px transformers resizes the 37x37
    grid with `size=16` while the hub code (and ours) uses `scale_factor=16.1/37`: they differ,
    and ours equals the scale-factor resize done by hand.
    """
    from transformers import Dinov2Config, Dinov2Model

    from repvideo_eval.scoring.models.dinov2 import Dinov2ViT

    torch.manual_seed(0)
    ours = Dinov2ViT(**TINY_DINOV2).eval()
    with torch.no_grad():
        for p in ours.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    config = Dinov2Config(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        image_size=518,
        patch_size=14,
        layerscale_value=1.0,
        layer_norm_eps=1e-6,
    )
    theirs = Dinov2Model(config).eval()
    theirs.load_state_dict(_transformers_state(ours.state_dict(), 2), strict=True)
    x = torch.randn(2, 3, 518, 518)
    with torch.no_grad():
        assert torch.allclose(ours(x), theirs(pixel_values=x).pooler_output, atol=1e-5)
        grid = ours.pos_embed[:, 1:].reshape(1, 37, 37, 32).permute(0, 3, 1, 2)
        by_hand = torch.nn.functional.interpolate(
            grid, scale_factor=(16.1 / 37, 16.1 / 37), mode="bicubic", antialias=False
        )
        tokens = torch.zeros(1, 257, 32)
        assert torch.equal(
            ours.interpolate_pos_encoding(tokens, 224, 224)[:, 1:],
            by_hand.permute(0, 2, 3, 1).reshape(1, 256, 32),
        )
        sized = torch.nn.functional.interpolate(grid, size=(16, 16), mode="bicubic")
        assert not torch.allclose(by_hand, sized, atol=1e-4)


def test_dinov2_matches_the_hub_code_fixture():
    """Ours against facebookresearch/dinov2's own model: its weights, input and output, stored by
    `make_dinov2_hub_fixture.py` (the hub code is not on PyPI)."""
    from safetensors.torch import load_file

    from repvideo_eval.scoring.models.dinov2 import Dinov2ViT

    stored = load_file(str(DINOV2_HUB_FIXTURE))
    state = {
        k.removeprefix(STATE_PREFIX): v for k, v in stored.items() if k.startswith(STATE_PREFIX)
    }
    ours = Dinov2ViT(**TINY_DINOV2).eval()
    ours.load_state_dict(state, strict=True)
    with torch.no_grad():
        assert (ours(stored["input"]) - stored["output"]).abs().max().item() < 1e-5


def test_missing_fast_weights_offline_name_file_and_command(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    context = ScorerContext(scoring_weights="official", cache_dir=tmp_path / "vbench")
    with pytest.raises(
        UserError,
        match=r"dinov2_vitb14_pretrain\.pth.*fetch-weights --dimensions subject_consistency --slow-fast",
    ):
        FastConsistency("subject_consistency", context)
    with pytest.raises(
        UserError,
        match=r"dino_vitbase16_pretrain\.pth.*fetch-weights --dimensions background_consistency --slow-fast",
    ):
        FastConsistency("background_consistency", context)


def test_slow_fast_session_uses_the_dev_flag_models_end_to_end(tmp_path):
    from repvideo_eval.scoring.long_mode.aggregate import fuse_slow_fast
    from repvideo_eval.scoring.session import ScoringSession

    frames = np.concatenate(
        [
            render("square", 16, 32, 64, seed=6),
            render("pan", 16, 32, 64, seed=7),
            render("static", 17, 32, 64, seed=8),
        ]
    )
    video = write_video(tmp_path / "p-0.mp4", frames)
    item = VideoToScore(video, prompt="p")
    dims = ["subject_consistency", "background_consistency"]
    with LongModeSession(
        dims, scoring_weights="tiny-random", consistency="slow-fast", work_dir=tmp_path / "w"
    ) as session:
        records = session.score(item)
        clips = session.split(item).clips
        fast_path = {
            d: clips[0].path.parent.parent.parent / f"{d}_cat_firstframes_videos" / "p-0.mp4"
            for d in dims
        }
        fast = {
            d: session.fast_model(d).score(DecodedVideo(fast_path[d]).decord_rgb()) for d in dims
        }
    assert len(clips) == 4
    plain = ScoringSession(dims, scoring_weights="tiny-random")
    for record in records:
        d = record.dimension
        assert record.ok and record.aggregation_weight == 4.0
        assert record.details["clip2clip_extractor"] == FAST_EXTRACTORS[d]
        assert record.details["clip2clip_weights_id"] == "tiny-random:seed=0"
        inclip = [plain.score(VideoToScore(c.path, prompt="p"), [d])[0].score for c in clips]
        (info,) = record.details["slow_fast"]
        assert info["clip2clip_score"] == pytest.approx(fast[d], abs=1e-9)
        expected = fuse_slow_fast(inclip, fast[d], d)
        assert expected.mapped_clip2clip_score != 0.0
        assert record.score == pytest.approx(expected.video_score, abs=1e-6)
