"""RepVideo adapter for diffusers' Mochi transformer (``MochiTransformer3DModel``).

Mochi's blocks are dual-stream (asymmetric widths: the text stream is narrower than the video
stream) with joint attention, and the text evolves through the blocks, so both streams are mixed
with one gate and one cache schedule, as the official code mixes its whole sequence. The widths
differ, but each stream is cached and averaged on its own, so they never meet.

The last block is ``context_pre_only``: its text input still enters the joint attention (so it
is mixed like any other), but the block returns that text unchanged and nothing reads it after
the loop. Being the last block, its output is never cached or read, so no special case.

The forward follows diffusers' ``MochiTransformer3DModel.forward`` step for step, with the block
loop replaced; tests check that RepVideo off equals the stock forward bit for bit.
"""

from __future__ import annotations

from typing import Any

import torch
from diffusers import MochiTransformer3DModel
from diffusers.models.modeling_outputs import Transformer2DModelOutput

from repvideo_eval.repvideo.block_loop import Streams
from repvideo_eval.repvideo.model_state import RepVideoMixin, apply_lora_scale


class RepVideoMochiTransformer3DModel(RepVideoMixin, MochiTransformer3DModel):
    """Mochi transformer whose block loop mixes both streams with the cached mean."""

    repvideo_family = "mochi"
    repvideo_base_class = MochiTransformer3DModel

    @apply_lora_scale("attention_kwargs")
    def forward(
        self,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor,
        timestep: torch.LongTensor,
        encoder_attention_mask: torch.Tensor,
        attention_kwargs: dict[str, Any] | None = None,
        return_dict: bool = True,
    ) -> tuple[torch.Tensor] | Transformer2DModelOutput:
        """Same signature and output as the stock forward; see the module docstring."""
        batch_size, num_channels, num_frames, height, width = hidden_states.shape
        p = self.config.patch_size
        post_patch_height = height // p
        post_patch_width = width // p

        temb, text = self.time_embed(
            timestep,
            encoder_hidden_states,
            encoder_attention_mask,
            hidden_dtype=hidden_states.dtype,
        )
        video = hidden_states.permute(0, 2, 1, 3, 4).flatten(0, 1)
        video = self.patch_embed(video)
        video = video.unflatten(0, (batch_size, -1)).flatten(1, 2)
        image_rotary_emb = self.rope(
            self.pos_frequencies,
            num_frames,
            post_patch_height,
            post_patch_width,
            device=video.device,
            dtype=torch.float32,
        )

        def run_block(i: int, block: torch.nn.Module, streams: Streams) -> Streams:
            video, text = streams
            if torch.is_grad_enabled() and self.gradient_checkpointing:
                return tuple(
                    self._gradient_checkpointing_func(
                        block, video, text, temb, encoder_attention_mask, image_rotary_emb
                    )
                )
            return tuple(
                block(
                    hidden_states=video,
                    encoder_hidden_states=text,
                    temb=temb,
                    encoder_attention_mask=encoder_attention_mask,
                    image_rotary_emb=image_rotary_emb,
                )
            )

        owned = [video, text]  # the loop empties it (see block_loop.take)
        del video, text
        video, _text = self.repvideo_block_loop(self.repvideo_blocks(), owned, run_block)

        video = self.norm_out(video, temb)
        video = self.proj_out(video)
        video = video.reshape(batch_size, num_frames, post_patch_height, post_patch_width, p, p, -1)
        video = video.permute(0, 6, 1, 2, 4, 3, 5)
        output = video.reshape(batch_size, -1, num_frames, height, width)

        if not return_dict:
            return (output,)
        return Transformer2DModelOutput(sample=output)
