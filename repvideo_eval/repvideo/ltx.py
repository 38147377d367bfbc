"""RepVideo adapter for diffusers' LTX-Video transformer (``LTXVideoTransformer3DModel``).

LTX-Video's blocks are video self-attention plus cross-attention to the text: the projected
caption is the same tensor at every block and no block returns it. As for Wan, there is no text
stream that evolves through the blocks, so only the video hidden states are mixed. The input is
already a token sequence (the pipeline packs the latents), and ``temb`` may be per token; neither
touches the loop.

The forward follows diffusers' ``LTXVideoTransformer3DModel.forward`` step for step, with the
block loop replaced; tests check that RepVideo off equals the stock forward bit for bit.
"""

from __future__ import annotations

from typing import Any

import torch
from diffusers import LTXVideoTransformer3DModel
from diffusers.models.modeling_outputs import Transformer2DModelOutput

from repvideo_eval.repvideo.block_loop import Streams
from repvideo_eval.repvideo.model_state import RepVideoMixin, apply_lora_scale


def additive_text_mask(mask: torch.Tensor | None, dtype: torch.dtype) -> torch.Tensor | None:
    """A 2-D keep/drop text mask as the additive bias the blocks take (as the stock forwards of
    LTX-Video and LTX-2 turn it)."""
    if mask is not None and mask.ndim == 2:
        return ((1 - mask.to(dtype)) * -10000.0).unsqueeze(1)
    return mask


class RepVideoLTXVideoTransformer3DModel(RepVideoMixin, LTXVideoTransformer3DModel):
    """LTX-Video transformer whose block loop mixes each block's video input with the cached mean."""

    repvideo_family = "ltx"
    repvideo_base_class = LTXVideoTransformer3DModel

    @apply_lora_scale("attention_kwargs")
    def forward(
        self,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor,
        timestep: torch.Tensor,  # float flow-matching times (stock: LongTensor)
        encoder_attention_mask: torch.Tensor | None,  # None is handled below, as in stock
        num_frames: int | None = None,
        height: int | None = None,
        width: int | None = None,
        rope_interpolation_scale: tuple[float, float, float] | torch.Tensor | None = None,
        video_coords: torch.Tensor | None = None,
        attention_kwargs: dict[str, Any] | None = None,
        return_dict: bool = True,
    ) -> tuple[torch.Tensor] | Transformer2DModelOutput:
        """Same signature and output as the stock forward; see the module docstring."""
        image_rotary_emb = self.rope(
            hidden_states, num_frames, height, width, rope_interpolation_scale, video_coords
        )
        encoder_attention_mask = additive_text_mask(encoder_attention_mask, hidden_states.dtype)

        batch_size = hidden_states.size(0)
        video = self.proj_in(hidden_states)
        temb, embedded_timestep = self.time_embed(
            timestep.flatten(), batch_size=batch_size, hidden_dtype=video.dtype
        )
        temb = temb.view(batch_size, -1, temb.size(-1))
        embedded_timestep = embedded_timestep.view(batch_size, -1, embedded_timestep.size(-1))
        context = self.caption_projection(encoder_hidden_states)
        context = context.view(batch_size, -1, video.size(-1))

        def run_block(i: int, block: torch.nn.Module, streams: Streams) -> Streams:
            (video,) = streams
            if torch.is_grad_enabled() and self.gradient_checkpointing:
                return (
                    self._gradient_checkpointing_func(
                        block, video, context, temb, image_rotary_emb, encoder_attention_mask
                    ),
                )
            return (
                block(
                    hidden_states=video,
                    encoder_hidden_states=context,
                    temb=temb,
                    image_rotary_emb=image_rotary_emb,
                    encoder_attention_mask=encoder_attention_mask,
                ),
            )

        owned = [video]  # the loop empties it (see block_loop.take)
        del video
        (video,) = self.repvideo_block_loop(self.repvideo_blocks(), owned, run_block)

        scale_shift_values = self.scale_shift_table[None, None] + embedded_timestep[:, :, None]
        shift, scale = scale_shift_values[:, :, 0], scale_shift_values[:, :, 1]
        video = self.norm_out(video)
        video = video * (1 + scale) + shift
        output = self.proj_out(video)

        if not return_dict:
            return (output,)
        return Transformer2DModelOutput(sample=output)
