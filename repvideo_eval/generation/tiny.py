"""Tiny, randomly initialised CogVideoX pipelines built fully offline from a seed.

Every registered real model has a tiny twin with the same code path and other configs, so the whole
harness (generation, RepVideo, scoring, reports) runs on a 2-core CPU in seconds. Same seed, same
weights: the twin is reproducible without any file.
"""

from __future__ import annotations

from typing import Any

import torch
from diffusers import AutoencoderKLCogVideoX, CogVideoXDPMScheduler, CogVideoXTransformer3DModel
from transformers import T5Config, T5EncoderModel

from repvideo_eval.generation.tokenizer import build_tiny_t5_tokenizer, tiny_vocab_size

# Twelve blocks hold two full RepVideo cache windows of six, plus one block of a third window,
# so window resets, full windows and the no-op blocks all occur.
TINY_NUM_LAYERS = 13
TINY_TEXT_LENGTH = 64
TINY_TEXT_DIM = 32


def tiny_transformer_config() -> dict[str, object]:
    return dict(
        num_attention_heads=2,
        attention_head_dim=8,
        in_channels=4,
        out_channels=4,
        time_embed_dim=8,
        text_embed_dim=TINY_TEXT_DIM,
        num_layers=TINY_NUM_LAYERS,
        sample_width=8,
        sample_height=8,
        sample_frames=9,
        patch_size=2,
        temporal_compression_ratio=4,
        max_text_seq_length=TINY_TEXT_LENGTH,
    )


def tiny_vae_config() -> dict[str, object]:
    return dict(
        in_channels=3,
        out_channels=3,
        down_block_types=("CogVideoXDownBlock3D",) * 4,
        up_block_types=("CogVideoXUpBlock3D",) * 4,
        block_out_channels=(8, 8, 8, 8),
        latent_channels=4,
        layers_per_block=1,
        norm_num_groups=2,
        temporal_compression_ratio=4,
        sample_height=64,
        sample_width=64,
    )


def tiny_text_encoder_fields() -> dict[str, Any]:
    """The tiny T5 encoder's config fields; every twin's T5 or UMT5 encoder starts from them."""
    return dict(
        vocab_size=tiny_vocab_size(),
        d_model=TINY_TEXT_DIM,
        d_kv=8,
        d_ff=64,
        num_layers=2,
        num_heads=4,
        relative_attention_num_buckets=8,
        dropout_rate=0.0,
        feed_forward_proj="gated-gelu",
        pad_token_id=0,
        eos_token_id=1,
        is_encoder_decoder=False,
        use_cache=False,
    )


def tiny_text_encoder_config() -> T5Config:
    return T5Config(**tiny_text_encoder_fields())


def tiny_scheduler() -> CogVideoXDPMScheduler:
    """CogVideoX-2b's scheduler settings (zero-SNR, v-prediction, shift 3, trailing spacing)."""
    return CogVideoXDPMScheduler(
        beta_schedule="scaled_linear",
        beta_start=0.00085,
        beta_end=0.012,
        clip_sample=False,
        num_train_timesteps=1000,
        prediction_type="v_prediction",
        rescale_betas_zero_snr=True,
        set_alpha_to_one=True,
        snr_shift_scale=3.0,
        steps_offset=0,
        timestep_spacing="trailing",
        trained_betas=None,
    )


def build_tiny_components(seed: int) -> dict[str, Any]:
    """Components for `CogVideoXPipeline(**components)`; weights depend only on `seed`."""
    torch.manual_seed(seed)
    transformer = CogVideoXTransformer3DModel(**tiny_transformer_config())
    torch.manual_seed(seed + 1)
    vae = AutoencoderKLCogVideoX(**tiny_vae_config())
    torch.manual_seed(seed + 2)
    text_encoder = T5EncoderModel(tiny_text_encoder_config())
    for module in (transformer, vae, text_encoder):
        module.eval()
    return dict(
        tokenizer=build_tiny_t5_tokenizer(),
        text_encoder=text_encoder,
        vae=vae,
        transformer=transformer,
        scheduler=tiny_scheduler(),
    )


def tiny_learned_gates(num_layers: int, seed: int) -> torch.Tensor:
    """Stand-in for a checkpoint's learned gates: seeded values around the official init of 0.5
    (the draw of `gates: seeded`, offset so that a tiny card's seed does not give the same)."""
    from repvideo_eval.repvideo.gates import seeded_gates

    return seeded_gates(num_layers, seed + 3)
