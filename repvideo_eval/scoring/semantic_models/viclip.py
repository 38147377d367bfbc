"""ViCLIP (temporal_style, overall_consistency) from vbench's own architecture modules.

vbench's `ViCLIP` wrapper hard-codes ViT-L/14 and loads its file inside `__init__` with a bare
`torch.load`; we build the same two encoders (`clip_joint_l14`'s VisionTransformer and
`clip_text_l14`'s CLIP_TEXT) inside our own module with the same attribute names, so the
official `{'model': state_dict}` file loads strictly, via `torch.load(weights_only=True)`.

Import trap (vbench's): `vbench.third_party.ViCLIP.simple_tokenizer` evaluates the BPE path as a
default argument at import time and shells out to `wget` when
`$VBENCH_CACHE_DIR/ViCLIP/bpe_simple_vocab_16e6.txt.gz` is missing. `ensure_bpe_file()` puts the
identical file from the openai-clip wheel there first (md5 933b7abbbbde62c36f02f0e6ccde464f).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import torch
from torch import nn

from repvideo_eval.atomic import write_with_atomic
from repvideo_eval.scoring.checkpoints import load_state_file
from repvideo_eval.scoring.models.loading import resolve_for, seeded, tiny_weights_id
from repvideo_eval.scoring.scorer import ScorerContext
from repvideo_eval.scoring.semantic_models import weight_files  # noqa: F401  (registers the files)

BPE_NAME = "bpe_simple_vocab_16e6.txt.gz"
TEXT_CONTEXT = 32  # ViCLIP's max_txt_l: prompts are truncated to 32 tokens


def vbench_cache_dir() -> Path:
    """The cache dir vbench itself uses (read once at its import, from $VBENCH_CACHE_DIR)."""
    import sys

    utils = sys.modules.get("vbench.utils")
    if utils is not None:
        return Path(utils.CACHE_DIR)
    env = os.environ.get("VBENCH_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "vbench"


def ensure_bpe_file() -> Path:
    """Copy openai-clip's BPE file to where vbench's ViCLIP tokenizer looks, before importing it."""
    import clip

    target = vbench_cache_dir() / "ViCLIP" / BPE_NAME
    if not target.is_file():
        source = Path(clip.__file__).parent / BPE_NAME
        write_with_atomic(target, lambda tmp: shutil.copyfile(source, tmp))
    return target


class ViclipModel(nn.Module):
    """The two ViCLIP encoders under vbench's attribute names (`vision_encoder`, `text_encoder`, `temp`)."""

    def __init__(self, vision: Any, text: Any) -> None:  # vbench's ViCLIP encoders (untyped)
        super().__init__()
        self.vision_encoder = vision
        self.text_encoder = text
        self.temp = nn.Parameter(torch.ones([]) / 100.0)

    def video_features(self, frames: torch.Tensor) -> torch.Tensor:
        """(T, 3, 224, 224) normalised frames -> L2-normalised float video embedding (1, D).

        vbench: `encode_vision(frames[None], test=True)` permutes to (B, C, T, H, W); no masking.
        """
        video = frames.unsqueeze(0).permute(0, 2, 1, 3, 4).contiguous()
        feats = self.vision_encoder(video).float()
        return feats / feats.norm(dim=-1, keepdim=True)

    def text_features(self, text: str) -> torch.Tensor:
        """Prompt -> L2-normalised float text embedding (1, D) (CLIP BPE, 32 tokens, truncated)."""
        device = next(self.text_encoder.parameters()).device
        tokens = self.text_encoder.tokenize(text, context_length=TEXT_CONTEXT).to(device)
        feats = self.text_encoder(tokens).float()
        return feats / feats.norm(dim=-1, keepdim=True)


def _encoders(*, tiny: bool) -> tuple[nn.Module, nn.Module]:
    ensure_bpe_file()
    from vbench.third_party.ViCLIP.viclip_text import CLIP_TEXT
    from vbench.third_party.ViCLIP.viclip_vision import VisionTransformer

    if tiny:
        vision = VisionTransformer(
            input_resolution=224,
            patch_size=32,
            width=32,
            layers=2,
            heads=2,
            output_dim=32,
            kernel_size=1,
            num_frames=8,
            drop_path=0.0,
            checkpoint_num=0,
        )
        text = CLIP_TEXT(32, TEXT_CONTEXT, 49408, 32, 2, 2, 0)
    else:
        # clip_joint_l14 / clip_text_l14 as ViCLIP builds them. checkpoint_num is 0 here: vbench's
        # 24 gradient-checkpointed blocks give identical numbers under no_grad.
        vision = VisionTransformer(
            input_resolution=224,
            patch_size=14,
            width=1024,
            layers=24,
            heads=16,
            output_dim=768,
            kernel_size=1,
            num_frames=8,
            drop_path=0.1,
            checkpoint_num=0,
        )
        text = CLIP_TEXT(768, TEXT_CONTEXT, 49408, 768, 12, 12, 0)
    return vision, text


def init_empty_parameters(model: ViclipModel) -> None:
    """ViCLIP leaves three parameters as `torch.empty`; give them values (tiny twins and fixtures)."""
    with torch.no_grad():
        model.vision_encoder.proj.normal_(std=model.vision_encoder.proj.shape[0] ** -0.5)
        model.text_encoder.text_projection.normal_(
            std=model.text_encoder.text_projection.shape[0] ** -0.5
        )
        model.text_encoder.positional_embedding.normal_(std=0.01)


def load_viclip(context: ScorerContext) -> tuple[ViclipModel, str]:
    """(ViCLIP in eval mode on the context device, weights_id)."""
    tiny = context.tiny_random
    with seeded(context.seed):
        vision, text = _encoders(tiny=tiny)
        model = ViclipModel(vision, text)
        if tiny:
            init_empty_parameters(model)
    if tiny:
        weights_id = tiny_weights_id(context)
    else:
        resolved = resolve_for(context, "viclip_internvid_10m_flt")
        model.load_state_dict(load_state_file(resolved.path)["model"], strict=True)
        weights_id = resolved.weights_id
    return model.to(context.device).eval(), weights_id
