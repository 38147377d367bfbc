"""RepVideo adapter for diffusers' Wan 2.1 transformer (``WanTransformer3DModel``).

Wan is not a joint text+video transformer: its blocks take the text (and image) embeddings as
cross-attention context and return only the video hidden states, and the context is the same
tensor at every block. So only the video stream is mixed; there is no text stream to cache.
This is a transfer of the mechanism to a new family, not a reproduction: no RepVideo weights
exist for Wan, so only fixed (training-free) gate settings apply.

The forward follows diffusers' ``WanTransformer3DModel.forward`` step for step, with the block
loop replaced; tests check that RepVideo off equals the stock forward bit for bit.
"""

from __future__ import annotations

from typing import Any

import torch
from diffusers import WanTransformer3DModel
from diffusers.models.modeling_outputs import Transformer2DModelOutput

from repvideo_eval.repvideo.block_loop import Streams
from repvideo_eval.repvideo.model_state import RepVideoMixin, apply_lora_scale


class RepVideoWanTransformer3DModel(RepVideoMixin, WanTransformer3DModel):
    """Wan transformer whose block loop mixes each block's video input with the cached mean."""

    repvideo_family = "wan"
    repvideo_base_class = WanTransformer3DModel

    def repvideo_blocks(self) -> list[torch.nn.Module]:
        """The block list, in order (one gate per block)."""
        return list(self.blocks)

    @apply_lora_scale("attention_kwargs")
    def forward(
        self,
        hidden_states: torch.Tensor,
        timestep: torch.Tensor,
        encoder_hidden_states: torch.Tensor,
        encoder_hidden_states_image: torch.Tensor | None = None,
        return_dict: bool = True,
        attention_kwargs: dict[str, Any] | None = None,
    ) -> torch.Tensor | Transformer2DModelOutput | tuple[torch.Tensor]:
        """Same signature and output as the stock forward; see the module docstring."""
        batch_size, _, num_frames, height, width = hidden_states.shape
        p_t, p_h, p_w = self.config.patch_size

        rotary_emb = self.rope(hidden_states)
        video = self.patch_embedding(hidden_states).flatten(2).transpose(1, 2).contiguous()

        ts_seq_len = None
        if timestep.ndim == 2:  # per-token timesteps (Wan 2.2 TI2V)
            ts_seq_len = timestep.shape[1]
            timestep = timestep.flatten()
        temb, timestep_proj, context, context_image = self.condition_embedder(
            timestep,
            encoder_hidden_states,
            encoder_hidden_states_image,
            timestep_seq_len=ts_seq_len,
        )
        timestep_proj = timestep_proj.unflatten(2 if ts_seq_len is not None else 1, (6, -1))
        if context_image is not None:
            context = torch.concat([context_image, context], dim=1)

        def run_block(i: int, block: torch.nn.Module, streams: Streams) -> Streams:
            (video,) = streams
            if torch.is_grad_enabled() and self.gradient_checkpointing:
                return (
                    self._gradient_checkpointing_func(
                        block, video, context, timestep_proj, rotary_emb
                    ),
                )
            return (block(video, context, timestep_proj, rotary_emb),)

        owned = [
            video
        ]  # the loop empties it, so the embedding is freed after block 0 as in the stock forward
        del video
        (video,) = self.repvideo_block_loop(self.blocks, owned, run_block)

        if temb.ndim == 3:
            shift, scale = (
                self.scale_shift_table.unsqueeze(0).to(temb.device) + temb.unsqueeze(2)
            ).chunk(2, dim=2)
            shift, scale = shift.squeeze(2), scale.squeeze(2)
        else:
            shift, scale = (self.scale_shift_table.to(temb.device) + temb.unsqueeze(1)).chunk(
                2, dim=1
            )
        shift, scale = shift.to(video.device), scale.to(video.device)

        video = (self.norm_out(video.float()) * (1 + scale) + shift).type_as(video)
        video = self.proj_out(video)
        video = video.reshape(
            batch_size, num_frames // p_t, height // p_h, width // p_w, p_t, p_h, p_w, -1
        )
        output = video.permute(0, 7, 1, 4, 2, 5, 3, 6).flatten(6, 7).flatten(4, 5).flatten(2, 3)

        if not return_dict:
            return (output,)
        return Transformer2DModelOutput(sample=output)
