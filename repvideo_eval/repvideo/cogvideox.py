"""RepVideo adapter for diffusers' CogVideoX transformer (2B, 5B, 1.5, I2V variants).

One forward serves every CogVideoX version: 2B uses a fixed sin-cos position table inside
``patch_embed``; 5B and 1.5 take rotary embeddings (``image_rotary_emb``) from the pipeline; 1.5
patchifies time too (``patch_size_t``); 1.5 I2V adds an ``ofs`` embedding. None of that touches
the block loop, so the mix is the same for all: text (``encoder_hidden_states``) and video
(``hidden_states``) streams, one gate, one cache schedule — the official computation over the
concatenated sequence.

The forward below follows diffusers' ``CogVideoXTransformer3DModel.forward`` step for step, with
the block loop replaced; the fidelity tests check that RepVideo switched off equals the stock
forward bit for bit, which would catch any drift after a diffusers upgrade.
"""

from __future__ import annotations

from typing import Any

import torch
from diffusers import CogVideoXTransformer3DModel
from diffusers.models.modeling_outputs import Transformer2DModelOutput

from repvideo_eval.repvideo.block_loop import Streams
from repvideo_eval.repvideo.model_state import RepVideoMixin, apply_lora_scale


class RepVideoCogVideoXTransformer3DModel(RepVideoMixin, CogVideoXTransformer3DModel):
    """CogVideoX transformer whose block loop mixes each block's input with the cached mean."""

    repvideo_family = "cogvideox"
    repvideo_base_class = CogVideoXTransformer3DModel

    @apply_lora_scale("attention_kwargs")
    def forward(
        self,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor,
        timestep: int | float | torch.LongTensor,
        timestep_cond: torch.Tensor | None = None,
        ofs: int | float | torch.LongTensor | None = None,
        image_rotary_emb: tuple[torch.Tensor, torch.Tensor] | None = None,
        attention_kwargs: dict[str, Any] | None = None,
        return_dict: bool = True,
    ) -> tuple[torch.Tensor] | Transformer2DModelOutput:
        """Same signature and output as the stock forward; see the module docstring."""
        batch_size, num_frames, _, height, width = hidden_states.shape

        emb = self.time_embedding(
            self.time_proj(timestep).to(dtype=hidden_states.dtype), timestep_cond
        )
        if self.ofs_embedding is not None:
            ofs_emb = self.ofs_proj(ofs).to(dtype=hidden_states.dtype)
            emb = emb + self.ofs_embedding(ofs_emb)

        sequence = self.embedding_dropout(self.patch_embed(encoder_hidden_states, hidden_states))
        text_len = encoder_hidden_states.shape[1]
        streams = [
            sequence[:, text_len:],
            sequence[:, :text_len],
        ]  # (video, text); the loop empties it
        del (
            sequence
        )  # only the views (owned by the loop) keep the embedding alive, as in the stock forward

        def run_block(i: int, block: torch.nn.Module, streams: Streams) -> Streams:
            video, text = streams
            if torch.is_grad_enabled() and self.gradient_checkpointing:
                return tuple(
                    self._gradient_checkpointing_func(
                        block, video, text, emb, image_rotary_emb, attention_kwargs
                    )
                )
            return tuple(
                block(
                    hidden_states=video,
                    encoder_hidden_states=text,
                    temb=emb,
                    image_rotary_emb=image_rotary_emb,
                    attention_kwargs=attention_kwargs,
                )
            )

        video, _text = self.repvideo_block_loop(self.transformer_blocks, streams, run_block)

        video = self.norm_final(video)
        video = self.norm_out(video, temb=emb)
        video = self.proj_out(video)

        p = self.config.patch_size
        p_t = self.config.patch_size_t
        if p_t is None:
            output = video.reshape(batch_size, num_frames, height // p, width // p, -1, p, p)
            output = output.permute(0, 1, 4, 2, 5, 3, 6).flatten(5, 6).flatten(3, 4)
        else:
            output = video.reshape(
                batch_size, (num_frames + p_t - 1) // p_t, height // p, width // p, -1, p_t, p, p
            )
            output = (
                output.permute(0, 1, 5, 4, 2, 6, 3, 7).flatten(6, 7).flatten(4, 5).flatten(1, 2)
            )

        if not return_dict:
            return (output,)
        return Transformer2DModelOutput(sample=output)
