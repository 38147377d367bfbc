"""Tiny twins of every supported family, built offline from diffusers' own classes and a seed.

Each builder returns the keyword arguments of the family's pipeline class: random seeded weights,
the real component classes, configs a 2-core CPU runs in a second, and the in-memory tokenizer
(generation.tokenizer) in place of each hub tokenizer. The VAEs keep their family's real
compression (so the frame and size rules of repvideo_eval.families hold for the twins too).
Card `components:` overrides are applied to these configs (a user's own tiny variant).

CogVideoX's twin lives in generation.tiny (its configs predate this module and address videos).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch

from repvideo_eval.errors import UserError
from repvideo_eval.generation.tiny import TINY_TEXT_DIM  # the tiny T5's width
from repvideo_eval.generation.tokenizer import (
    build_tiny_chat_tokenizer,
    build_tiny_fast_tokenizer,
    build_tiny_t5_tokenizer,
    tiny_vocab_size,
)

#: Blocks per tiny transformer: enough for a RepVideo cache window to reset (window 2 or 3).
TINY_BLOCKS = 4

Overrides = Mapping[str, Mapping[str, Any]]


def _config(base: dict[str, Any], overrides: Overrides, component: str) -> dict[str, Any]:
    extra = dict(overrides.get(component, {}))
    return {**base, **extra}


def _seeded(seed: int, build: Callable[[], Any]) -> Any:
    torch.manual_seed(seed)
    return build().eval()


def _t5(seed: int, overrides: Overrides, umt5: bool = False) -> Any:
    from transformers import T5Config, T5EncoderModel, UMT5Config, UMT5EncoderModel

    from repvideo_eval.generation.tiny import tiny_text_encoder_fields

    fields = _config(tiny_text_encoder_fields(), overrides, "text_encoder")
    if umt5:
        return _seeded(seed, lambda: UMT5EncoderModel(UMT5Config(**fields)))
    return _seeded(seed, lambda: T5EncoderModel(T5Config(**fields)))


def _hf_text_fields(**fields: Any) -> dict[str, Any]:
    """A tiny transformers text encoder's config (Llama, CLIP, Qwen2.5-VL, Gemma 3): the shared
    sizes, with `fields` added or replacing them."""
    shared = dict(
        vocab_size=tiny_vocab_size(),
        intermediate_size=37,
        num_attention_heads=4,
        num_hidden_layers=2,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=1,
    )
    return {**shared, **fields}


def _t5_flow_components(
    seed: int, overrides: Overrides, transformer: Any, vae: Any
) -> dict[str, Any]:
    """A twin with a T5 encoder and a flow-matching Euler scheduler (LTX-Video, Mochi)."""
    from diffusers import FlowMatchEulerDiscreteScheduler

    return dict(
        transformer=transformer,
        vae=vae,
        text_encoder=_t5(seed + 2, overrides),
        tokenizer=build_tiny_t5_tokenizer(),
        scheduler=FlowMatchEulerDiscreteScheduler(),
    )


def _wan(seed: int, overrides: Overrides, wan22: bool) -> dict[str, Any]:
    """Wan 2.1 (UMT5, Wan VAE z 16) or Wan 2.2 TI2V (VAE z 48, 16x spatial, expanded timesteps);
    `components.pipeline.boundary_ratio` adds a second (low-noise) transformer as in 2.2 A14B."""
    from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanTransformer3DModel

    channels = 48 if wan22 else 16
    transformer_config = _config(
        dict(
            patch_size=(1, 2, 2),
            num_attention_heads=2,
            attention_head_dim=12,
            in_channels=channels,
            out_channels=channels,
            text_dim=TINY_TEXT_DIM,
            freq_dim=32,
            ffn_dim=32,
            num_layers=TINY_BLOCKS,
            cross_attn_norm=True,
            qk_norm="rms_norm_across_heads",
            rope_max_seq_len=32,
        ),
        overrides,
        "transformer",
    )
    vae_base: dict[str, Any] = dict(
        base_dim=3,
        z_dim=16,
        dim_mult=[1, 1, 1, 1],
        num_res_blocks=1,
        temperal_downsample=[False, True, True],
    )
    if wan22:
        vae_base.update(
            z_dim=48,
            in_channels=12,
            out_channels=12,
            is_residual=True,
            patch_size=2,
            latents_mean=[0.0] * 48,
            latents_std=[1.0] * 48,
            scale_factor_spatial=16,
            scale_factor_temporal=4,
        )
    pipeline_args = dict(overrides.get("pipeline", {}))
    boundary = pipeline_args.pop("boundary_ratio", None)
    transformer_2 = None
    if boundary is not None:
        config_2 = _config(transformer_config, overrides, "transformer_2")
        transformer_2 = _seeded(seed + 5, lambda: WanTransformer3DModel(**config_2))
    return dict(
        transformer=_seeded(seed, lambda: WanTransformer3DModel(**transformer_config)),
        vae=_seeded(seed + 1, lambda: AutoencoderKLWan(**_config(vae_base, overrides, "vae"))),
        text_encoder=_t5(seed + 2, overrides, umt5=True),
        tokenizer=build_tiny_t5_tokenizer(),
        scheduler=UniPCMultistepScheduler(
            prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0
        ),
        transformer_2=transformer_2,
        boundary_ratio=boundary,
        expand_timesteps=bool(pipeline_args.pop("expand_timesteps", wan22)),
    )


def _hunyuanvideo(seed: int, overrides: Overrides) -> dict[str, Any]:
    """HunyuanVideo: dual-stream then single-stream blocks, a Llama encoder and a CLIP encoder
    (pooled), embedded guidance."""
    from diffusers import (
        AutoencoderKLHunyuanVideo,
        FlowMatchEulerDiscreteScheduler,
        HunyuanVideoTransformer3DModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, LlamaConfig, LlamaModel

    transformer_config = _config(
        dict(
            in_channels=4,
            out_channels=4,
            num_attention_heads=2,
            attention_head_dim=10,
            num_layers=TINY_BLOCKS // 2,
            num_single_layers=TINY_BLOCKS // 2,
            num_refiner_layers=1,
            patch_size=2,
            patch_size_t=1,
            guidance_embeds=True,
            text_embed_dim=16,
            pooled_projection_dim=8,
            rope_axes_dim=(2, 4, 4),
        ),
        overrides,
        "transformer",
    )
    vae_config = _config(
        dict(
            latent_channels=4,
            block_out_channels=(8, 8, 8, 8),
            layers_per_block=1,
            norm_num_groups=4,
            spatial_compression_ratio=8,
            temporal_compression_ratio=4,
        ),
        overrides,
        "vae",
    )
    # a card may add fields to the encoders, not restate these (the class rejects a repeat)
    llama = LlamaConfig(
        **_hf_text_fields(hidden_size=16), **dict(overrides.get("text_encoder", {}))
    )
    clip = CLIPTextConfig(
        **_hf_text_fields(hidden_size=8, projection_dim=8),
        **dict(overrides.get("text_encoder_2", {})),
    )
    return dict(
        transformer=_seeded(seed, lambda: HunyuanVideoTransformer3DModel(**transformer_config)),
        vae=_seeded(seed + 1, lambda: AutoencoderKLHunyuanVideo(**vae_config)),
        text_encoder=_seeded(seed + 2, lambda: LlamaModel(llama)),
        tokenizer=build_tiny_fast_tokenizer(),
        text_encoder_2=_seeded(seed + 3, lambda: CLIPTextModel(clip)),
        tokenizer_2=build_tiny_fast_tokenizer(77),
        scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0),
    )


def _hunyuanvideo15(seed: int, overrides: Overrides) -> dict[str, Any]:
    """HunyuanVideo 1.5: dual-stream blocks over video and one condition stream (Qwen2.5-VL text,
    ByT5 glyph text, image), a 16x spatial VAE, CFG run by a `guider` component. The transformer
    is repvideo.tiny_configs' with TINY_BLOCKS blocks; the encoders' widths follow its text dims.
    The guider's scale is the card's (set by generation.pipelines when the pipeline is built)."""
    from diffusers import (
        AutoencoderKLHunyuanVideo15,
        ClassifierFreeGuidance,
        FlowMatchEulerDiscreteScheduler,
        HunyuanVideo15Transformer3DModel,
    )
    from transformers import (
        ByT5Tokenizer,
        Qwen2_5_VLTextConfig,
        Qwen2_5_VLTextModel,
        T5Config,
        T5EncoderModel,
    )

    from repvideo_eval.generation.tiny import tiny_text_encoder_fields
    from repvideo_eval.repvideo.tiny_configs import TINY_CONFIGS

    transformer_config = _config(
        dict(TINY_CONFIGS["hunyuanvideo1.5"], num_layers=TINY_BLOCKS), overrides, "transformer"
    )
    vae_config = _config(
        dict(
            latent_channels=transformer_config["out_channels"],
            block_out_channels=(8, 8, 8, 8, 8),
            layers_per_block=1,
            spatial_compression_ratio=16,
            temporal_compression_ratio=4,
        ),
        overrides,
        "vae",
    )
    # the real text model's rope layout (multimodal rope, sections of half a head: 8 / 2 = 4)
    qwen = _config(
        _hf_text_fields(
            hidden_size=transformer_config["text_embed_dim"],
            num_hidden_layers=3,  # the pipeline reads the third-from-last hidden state
            num_attention_heads=2,
            num_key_value_heads=1,
            rope_scaling={"mrope_section": [1, 1, 2], "rope_type": "default", "type": "mrope"},
        ),
        overrides,
        "text_encoder",
    )
    byt5_tokenizer = ByT5Tokenizer()
    byt5 = _config(
        dict(
            tiny_text_encoder_fields(),
            vocab_size=len(byt5_tokenizer),
            d_model=transformer_config["text_embed_2_dim"],
        ),
        overrides,
        "text_encoder_2",
    )
    return dict(
        transformer=_seeded(seed, lambda: HunyuanVideo15Transformer3DModel(**transformer_config)),
        vae=_seeded(seed + 1, lambda: AutoencoderKLHunyuanVideo15(**vae_config)),
        text_encoder=_seeded(seed + 2, lambda: Qwen2_5_VLTextModel(Qwen2_5_VLTextConfig(**qwen))),
        tokenizer=build_tiny_chat_tokenizer(),
        text_encoder_2=_seeded(seed + 3, lambda: T5EncoderModel(T5Config(**byt5))),
        tokenizer_2=byt5_tokenizer,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=5.0),
        guider=ClassifierFreeGuidance(guidance_scale=6.0),
    )


def _ltx(seed: int, overrides: Overrides) -> dict[str, Any]:
    """LTX-Video: the real 8x temporal, 32x spatial VAE compression (patch 4, three scalings)."""
    from diffusers import AutoencoderKLLTXVideo, LTXVideoTransformer3DModel

    transformer_config = _config(
        dict(
            in_channels=8,
            out_channels=8,
            patch_size=1,
            patch_size_t=1,
            num_attention_heads=4,
            attention_head_dim=8,
            cross_attention_dim=32,
            num_layers=TINY_BLOCKS,
            caption_channels=TINY_TEXT_DIM,
        ),
        overrides,
        "transformer",
    )
    vae_config = _config(
        dict(
            latent_channels=8,
            block_out_channels=(8, 8, 8, 8),
            decoder_block_out_channels=(8, 8, 8, 8),
            layers_per_block=(1, 1, 1, 1, 1),
            decoder_layers_per_block=(1, 1, 1, 1, 1),
            spatio_temporal_scaling=(True, True, True, False),
            decoder_spatio_temporal_scaling=(True, True, True, False),
            decoder_inject_noise=(False, False, False, False, False),
            upsample_residual=(False, False, False, False),
            upsample_factor=(1, 1, 1, 1),
            timestep_conditioning=False,
            patch_size=4,
            patch_size_t=1,
        ),
        overrides,
        "vae",
    )
    vae = _seeded(seed + 1, lambda: AutoencoderKLLTXVideo(**vae_config))
    vae.use_framewise_encoding = False
    vae.use_framewise_decoding = False
    transformer = _seeded(seed, lambda: LTXVideoTransformer3DModel(**transformer_config))
    return _t5_flow_components(seed, overrides, transformer, vae)


def _ltx2(seed: int, overrides: Overrides) -> dict[str, Any]:
    """LTX-2: the audio-video transformer of repvideo.tiny_configs (TINY_BLOCKS blocks), a Gemma 3
    encoder whose every hidden state feeds the text connectors, the video VAE with the real 8x
    temporal, 32x spatial compression, the audio VAE and the vocoder. The pipeline returns audio
    with the video; the harness keeps the video only (generation.pipelines.sample_video)."""
    from diffusers import (
        AutoencoderKLLTX2Audio,
        AutoencoderKLLTX2Video,
        FlowMatchEulerDiscreteScheduler,
        LTX2VideoTransformer3DModel,
    )
    from diffusers.pipelines.ltx2 import LTX2TextConnectors
    from diffusers.pipelines.ltx2.vocoder import LTX2Vocoder
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration

    from repvideo_eval.repvideo.tiny_configs import TINY_CONFIGS

    # audio latents: 2 channels x (16 mel bins / 4) = 8 features per token
    audio_vae_config = _config(
        dict(
            base_channels=8,  # = the packed audio latent width (its latents_mean/std size)
            output_channels=2,
            ch_mult=(1, 2, 4),
            num_res_blocks=1,
            in_channels=2,
            resolution=32,
            latent_channels=2,
            mel_bins=16,
        ),
        overrides,
        "audio_vae",
    )
    transformer_config = _config(
        dict(
            TINY_CONFIGS["ltx2"],
            num_layers=TINY_BLOCKS,
            audio_in_channels=audio_vae_config["base_channels"],
            audio_out_channels=audio_vae_config["base_channels"],
        ),
        overrides,
        "transformer",
    )
    text_width = transformer_config["caption_channels"]
    gemma_text = _hf_text_fields(
        hidden_size=text_width,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=8,
        sliding_window=16,
    )
    gemma_text.update(overrides.get("text_encoder", {}))
    gemma = Gemma3Config(
        text_config=gemma_text,
        vision_config=dict(
            hidden_size=8,
            intermediate_size=16,
            num_hidden_layers=1,
            num_attention_heads=2,
            image_size=8,
            patch_size=4,
        ),
        mm_tokens_per_image=4,
    )
    connectors_config = _config(
        dict(
            caption_channels=text_width,
            text_proj_in_factor=gemma_text["num_hidden_layers"] + 1,  # every hidden state
            video_connector_num_attention_heads=2,
            video_connector_attention_head_dim=text_width // 2,
            video_connector_num_layers=1,
            video_connector_num_learnable_registers=None,
            audio_connector_num_attention_heads=2,
            audio_connector_attention_head_dim=text_width // 2,
            audio_connector_num_layers=1,
            audio_connector_num_learnable_registers=None,
            connector_rope_base_seq_len=32,
        ),
        overrides,
        "connectors",
    )
    # 4 down blocks (spatial, temporal, then 2x spatiotemporal) after patch 4: 32x spatial, 8x
    # temporal, as the real VAE; the class's default ratios count every block, so they are given
    vae_config = _config(
        dict(
            latent_channels=transformer_config["in_channels"],
            block_out_channels=(8, 8, 8, 8),
            decoder_block_out_channels=(8, 8, 8),
            layers_per_block=(1, 1, 1, 1, 1),
            decoder_layers_per_block=(1, 1, 1, 1),
            upsample_residual=(False, False, False),
            upsample_factor=(1, 1, 1),
            spatial_compression_ratio=32,
            temporal_compression_ratio=8,
        ),
        overrides,
        "vae",
    )
    vocoder_config = _config(
        dict(
            in_channels=audio_vae_config["output_channels"] * audio_vae_config["mel_bins"],
            hidden_channels=16,
            out_channels=2,
            upsample_kernel_sizes=[4, 4],
            upsample_factors=[2, 2],
            resnet_kernel_sizes=[3],
            resnet_dilations=[[1, 3, 5]],
            output_sampling_rate=16000,
        ),
        overrides,
        "vocoder",
    )
    vae = _seeded(seed + 1, lambda: AutoencoderKLLTX2Video(**vae_config))
    vae.use_framewise_encoding = False
    vae.use_framewise_decoding = False
    return dict(
        transformer=_seeded(seed, lambda: LTX2VideoTransformer3DModel(**transformer_config)),
        vae=vae,
        text_encoder=_seeded(seed + 2, lambda: Gemma3ForConditionalGeneration(gemma)),
        tokenizer=build_tiny_fast_tokenizer(model_max_length=1024),
        connectors=_seeded(seed + 3, lambda: LTX2TextConnectors(**connectors_config)),
        audio_vae=_seeded(seed + 4, lambda: AutoencoderKLLTX2Audio(**audio_vae_config)),
        vocoder=_seeded(seed + 5, lambda: LTX2Vocoder(**vocoder_config)),
        scheduler=FlowMatchEulerDiscreteScheduler(),
    )


def _mochi(seed: int, overrides: Overrides) -> dict[str, Any]:
    """Mochi-1: asymmetric DiT (text and video streams of different widths), 6x temporal VAE."""
    from diffusers import AutoencoderKLMochi, MochiTransformer3DModel

    transformer_config = _config(
        dict(
            patch_size=2,
            num_attention_heads=2,
            attention_head_dim=8,
            num_layers=TINY_BLOCKS,
            pooled_projection_dim=16,
            in_channels=12,
            qk_norm="rms_norm",
            text_embed_dim=TINY_TEXT_DIM,
            time_embed_dim=4,
            activation_fn="swiglu",
            max_sequence_length=16,
        ),
        overrides,
        "transformer",
    )
    vae_config = _config(
        dict(
            latent_channels=12,
            out_channels=3,
            encoder_block_out_channels=(32, 32, 32, 32),
            decoder_block_out_channels=(32, 32, 32, 32),
            layers_per_block=(1, 1, 1, 1, 1),
        ),
        overrides,
        "vae",
    )
    transformer = _seeded(seed, lambda: MochiTransformer3DModel(**transformer_config))
    vae = _seeded(seed + 1, lambda: AutoencoderKLMochi(**vae_config))
    return _t5_flow_components(seed, overrides, transformer, vae)


def _cogvideox15(seed: int, overrides: Overrides) -> dict[str, Any]:
    """CogVideoX 1.5: the CogVideoX twin's VAE and encoder; rotary embeddings, time patch 2."""
    from diffusers import CogVideoXTransformer3DModel

    from repvideo_eval.generation.tiny import build_tiny_components, tiny_transformer_config

    components = build_tiny_components(seed)
    config = _config(
        dict(
            tiny_transformer_config(),
            num_layers=TINY_BLOCKS,
            attention_head_dim=16,
            use_rotary_positional_embeddings=True,
            patch_size_t=2,
            patch_bias=False,
            sample_frames=17,
        ),
        overrides,
        "transformer",
    )
    components["transformer"] = _seeded(seed, lambda: CogVideoXTransformer3DModel(**config))
    return components


_BUILDERS: dict[str, Callable[[int, Overrides], dict[str, Any]]] = {
    "wan": lambda seed, o: _wan(seed, o, wan22=False),
    "wan2.2": lambda seed, o: _wan(seed, o, wan22=True),
    "hunyuanvideo": _hunyuanvideo,
    "hunyuanvideo1.5": _hunyuanvideo15,
    "ltx": _ltx,
    "ltx2": _ltx2,
    "mochi": _mochi,
    "cogvideox1.5": _cogvideox15,
}


def tiny_families() -> list[str]:
    """Families with a twin here (CogVideoX's is generation.tiny's)."""
    return sorted(_BUILDERS)


def build_family_components(family: str, seed: int, overrides: Overrides) -> dict[str, Any]:
    """Keyword arguments of the family's pipeline class; weights depend only on `seed`."""
    if family not in _BUILDERS:
        raise UserError(
            f"no tiny twin for family {family!r}",
            f"Use one of: cogvideox, {', '.join(tiny_families())}.",
        )
    try:
        return _BUILDERS[family](seed, overrides)
    except (TypeError, ValueError) as error:  # a component override the class rejects
        raise UserError(
            f"tiny {family} components cannot be built with the card's overrides: {error}",
            "Fix `components:` (fields of each component's diffusers config).",
        ) from None
