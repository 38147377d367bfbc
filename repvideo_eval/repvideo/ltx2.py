"""RepVideo adapter for diffusers' LTX-2 transformer (``LTX2VideoTransformer3DModel``).

LTX-2 generates audio with the video: every block carries two streams, the video tokens and the
audio tokens, each with its own self-attention, cross-attention to its own projection of the
prompt and feed-forward, plus audio-to-video and video-to-audio cross-attention between them.
Both streams evolve through every block and feed each other, as the text and video streams of
CogVideoX's joint attention do; so both are mixed, with one gate and one cache schedule per
block, which is the official computation over their concatenation (a mean of concatenations is
the concatenation of means; docs/repvideo.md). The prompt projections are the same tensors at
every block and no block returns them, so they are context, never mixed.

The forward follows diffusers' ``LTX2VideoTransformer3DModel.forward`` step for step, with the
block loop replaced; tests check that RepVideo off equals the stock forward bit for bit.
"""

from __future__ import annotations

from typing import Any

import torch
from diffusers import LTX2VideoTransformer3DModel
from diffusers.models.transformers.transformer_ltx2 import AudioVisualModelOutput

from repvideo_eval.repvideo.block_loop import Streams
from repvideo_eval.repvideo.ltx import additive_text_mask
from repvideo_eval.repvideo.model_state import RepVideoMixin, apply_lora_scale


class RepVideoLTX2VideoTransformer3DModel(RepVideoMixin, LTX2VideoTransformer3DModel):
    """LTX-2 transformer whose block loop mixes the video and audio inputs with the cached mean."""

    repvideo_family = "ltx2"
    repvideo_base_class = LTX2VideoTransformer3DModel

    def _modulation(
        self,
        batch_size: int,
        timestep: torch.Tensor,
        audio_timestep: torch.Tensor,
        sigma: torch.Tensor | None,
        audio_sigma: torch.Tensor | None,
        use_cross_timestep: bool,
        video_dtype: torch.dtype,
        audio_dtype: torch.dtype,
    ) -> dict[str, Any]:
        """The stock forward's timestep embeddings and modulation parameters (its step 3)."""
        config: Any = self.config

        def embed(module: Any, t: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
            out, _ = module(t, batch_size=batch_size, hidden_dtype=dtype)
            return out.view(batch_size, -1, out.shape[-1])

        temb, embedded = self.time_embed(
            timestep.flatten(), batch_size=batch_size, hidden_dtype=video_dtype
        )
        temb_audio, audio_embedded = self.audio_time_embed(
            audio_timestep.flatten(), batch_size=batch_size, hidden_dtype=audio_dtype
        )
        out: dict[str, Any] = {
            "temb": temb.view(batch_size, -1, temb.size(-1)),
            "embedded_timestep": embedded.view(batch_size, -1, embedded.size(-1)),
            "temb_audio": temb_audio.view(batch_size, -1, temb_audio.size(-1)),
            "audio_embedded_timestep": audio_embedded.view(batch_size, -1, audio_embedded.size(-1)),
        }
        if self.prompt_modulation and config.use_prompt_adaln_single:  # LTX-2.3
            out["temb_prompt"] = embed(self.prompt_adaln, sigma.flatten(), video_dtype)  # type: ignore[union-attr]
            out["temb_prompt_audio"] = embed(
                self.audio_prompt_adaln,
                audio_sigma.flatten(),  # type: ignore[union-attr]
                audio_dtype,
            )
        else:
            out["temb_prompt"] = out["temb_prompt_audio"] = None
        gate_scale = config.cross_attn_timestep_scale_multiplier / config.timestep_scale_multiplier
        video_t = audio_sigma.flatten() if use_cross_timestep else timestep.flatten()  # type: ignore[union-attr]
        audio_t = sigma.flatten() if use_cross_timestep else audio_timestep.flatten()  # type: ignore[union-attr]
        out["temb_ca_scale_shift"] = embed(
            self.av_cross_attn_video_scale_shift, video_t, video_dtype
        )
        out["temb_ca_gate"] = embed(
            self.av_cross_attn_video_a2v_gate, video_t * gate_scale, video_dtype
        )
        out["temb_ca_audio_scale_shift"] = embed(
            self.av_cross_attn_audio_scale_shift, audio_t, audio_dtype
        )
        out["temb_ca_audio_gate"] = embed(
            self.av_cross_attn_audio_v2a_gate, audio_t * gate_scale, audio_dtype
        )
        return out

    @apply_lora_scale("attention_kwargs")
    def forward(
        self,
        hidden_states: torch.Tensor,
        audio_hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor,
        audio_encoder_hidden_states: torch.Tensor,
        timestep: torch.Tensor,  # float flow-matching times (stock: LongTensor)
        audio_timestep: torch.Tensor | None = None,
        sigma: torch.Tensor | None = None,
        audio_sigma: torch.Tensor | None = None,
        encoder_attention_mask: torch.Tensor | None = None,
        audio_encoder_attention_mask: torch.Tensor | None = None,
        num_frames: int | None = None,
        height: int | None = None,
        width: int | None = None,
        fps: float = 24.0,
        audio_num_frames: int | None = None,
        video_coords: torch.Tensor | None = None,
        audio_coords: torch.Tensor | None = None,
        isolate_modalities: bool = False,
        spatio_temporal_guidance_blocks: list[int] | None = None,
        perturbation_mask: torch.Tensor | None = None,
        use_cross_timestep: bool = False,
        attention_kwargs: dict[str, Any] | None = None,
        video_self_attention_mask: torch.Tensor | None = None,
        video_keyframes_mask: torch.Tensor | None = None,
        return_dict: bool = True,
    ) -> tuple[torch.Tensor, torch.Tensor] | AudioVisualModelOutput:
        """Same signature and output as the stock forward; see the module docstring."""
        config: Any = self.config
        audio_timestep = audio_timestep if audio_timestep is not None else timestep
        audio_sigma = audio_sigma if audio_sigma is not None else sigma
        encoder_attention_mask = additive_text_mask(encoder_attention_mask, hidden_states.dtype)
        audio_encoder_attention_mask = additive_text_mask(
            audio_encoder_attention_mask, audio_hidden_states.dtype
        )
        if video_self_attention_mask is not None:
            video_self_attention_mask = (
                1 - video_self_attention_mask.to(hidden_states.dtype)
            ) * -10000.0
        batch_size = hidden_states.size(0)

        if video_coords is None:
            video_coords = self.rope.prepare_video_coords(
                batch_size,
                num_frames,  # type: ignore[arg-type]
                height,  # type: ignore[arg-type]
                width,  # type: ignore[arg-type]
                hidden_states.device,
                fps=fps,
            )
        if audio_coords is None:
            audio_coords = self.audio_rope.prepare_audio_coords(
                batch_size,
                audio_num_frames,  # type: ignore[arg-type]
                audio_hidden_states.device,
            )
        video_rotary_emb = self.rope(video_coords, device=hidden_states.device)
        audio_rotary_emb = self.audio_rope(audio_coords, device=audio_hidden_states.device)
        ca_video_rotary_emb = self.cross_attn_rope(
            video_coords[:, 0:1, :], device=hidden_states.device
        )
        ca_audio_rotary_emb = self.cross_attn_audio_rope(
            audio_coords[:, 0:1, :], device=audio_hidden_states.device
        )

        video = self.proj_in(hidden_states)
        audio = self.audio_proj_in(audio_hidden_states)
        if config.use_keyframes_abs_pos_embedding and video_keyframes_mask is not None:
            marker = (video_keyframes_mask > 0).to(dtype=video.dtype)
            video = video + marker * self.keyframes_abs_pos_embedding.to(dtype=video.dtype)

        mod = self._modulation(
            batch_size,
            timestep,
            audio_timestep,
            sigma,
            audio_sigma,
            use_cross_timestep,
            video.dtype,
            audio.dtype,
        )
        embedded_timestep = mod.pop("embedded_timestep")
        audio_embedded_timestep = mod.pop("audio_embedded_timestep")

        if config.use_prompt_embeddings:  # LTX-2.0
            encoder_hidden_states = self.caption_projection(encoder_hidden_states)
            encoder_hidden_states = encoder_hidden_states.view(batch_size, -1, video.size(-1))
            audio_encoder_hidden_states = self.audio_caption_projection(audio_encoder_hidden_states)
            audio_encoder_hidden_states = audio_encoder_hidden_states.view(
                batch_size, -1, audio.size(-1)
            )

        stg_blocks = set(spatio_temporal_guidance_blocks or [])
        if stg_blocks and perturbation_mask is None:
            perturbation_mask = torch.zeros((batch_size,))
        if perturbation_mask is not None and perturbation_mask.ndim == 1:
            perturbation_mask = perturbation_mask[:, None, None]
        all_perturbed = (
            torch.all(perturbation_mask == 0) if perturbation_mask is not None else False
        )

        def run_block(i: int, block: torch.nn.Module, streams: Streams) -> Streams:
            video, audio = streams
            block_mask = perturbation_mask if i in stg_blocks else None
            block_all_perturbed = all_perturbed if i in stg_blocks else False
            if torch.is_grad_enabled() and self.gradient_checkpointing:
                return tuple(
                    self._gradient_checkpointing_func(
                        block,
                        video,
                        audio,
                        encoder_hidden_states,
                        audio_encoder_hidden_states,
                        mod["temb"],
                        mod["temb_audio"],
                        mod["temb_ca_scale_shift"],
                        mod["temb_ca_audio_scale_shift"],
                        mod["temb_ca_gate"],
                        mod["temb_ca_audio_gate"],
                        mod["temb_prompt"],
                        mod["temb_prompt_audio"],
                        video_rotary_emb,
                        audio_rotary_emb,
                        ca_video_rotary_emb,
                        ca_audio_rotary_emb,
                        encoder_attention_mask,
                        audio_encoder_attention_mask,
                        video_self_attention_mask,
                        None,  # audio_self_attention_mask
                        None,  # a2v_cross_attention_mask
                        None,  # v2a_cross_attention_mask
                        not isolate_modalities,
                        not isolate_modalities,
                        block_mask,
                        block_all_perturbed,
                    )
                )
            return tuple(
                block(
                    hidden_states=video,
                    audio_hidden_states=audio,
                    encoder_hidden_states=encoder_hidden_states,
                    audio_encoder_hidden_states=audio_encoder_hidden_states,
                    video_rotary_emb=video_rotary_emb,
                    audio_rotary_emb=audio_rotary_emb,
                    ca_video_rotary_emb=ca_video_rotary_emb,
                    ca_audio_rotary_emb=ca_audio_rotary_emb,
                    encoder_attention_mask=encoder_attention_mask,
                    audio_encoder_attention_mask=audio_encoder_attention_mask,
                    self_attention_mask=video_self_attention_mask,
                    audio_self_attention_mask=None,
                    a2v_cross_attention_mask=None,
                    v2a_cross_attention_mask=None,
                    use_a2v_cross_attention=not isolate_modalities,
                    use_v2a_cross_attention=not isolate_modalities,
                    perturbation_mask=block_mask,
                    all_perturbed=block_all_perturbed,
                    **mod,
                )
            )

        owned = [video, audio]  # the loop empties it (see block_loop.take)
        del video, audio
        video, audio = self.repvideo_block_loop(self.repvideo_blocks(), owned, run_block)

        values = self.scale_shift_table[None, None] + embedded_timestep[:, :, None]
        shift, scale = values[:, :, 0], values[:, :, 1]
        video = self.norm_out(video)
        video = video * (1 + scale) + shift
        output = self.proj_out(video)

        audio_values = (
            self.audio_scale_shift_table[None, None] + audio_embedded_timestep[:, :, None]
        )
        audio_shift, audio_scale = audio_values[:, :, 0], audio_values[:, :, 1]
        audio = self.audio_norm_out(audio)
        audio = audio * (1 + audio_scale) + audio_shift
        audio_output = self.audio_proj_out(audio)

        if not return_dict:
            return (output, audio_output)
        return AudioVisualModelOutput(sample=output, audio_sample=audio_output)
