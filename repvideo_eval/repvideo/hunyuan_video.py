"""RepVideo adapter for diffusers' HunyuanVideo transformer (``HunyuanVideoTransformer3DModel``).

HunyuanVideo runs dual-stream blocks (separate video and text weights, joint attention), then
single-stream blocks (one set of weights over the concatenated ``[video | text]`` sequence). Both
kinds take and return the two streams separately (a single block concatenates and splits them
inside), and the text evolves through every block, so both streams are mixed, as the official
code mixes its whole text + video sequence.

The loop is one list, dual blocks then single blocks, with one gate per block and one cache
schedule across the transition: the cache is *not* reset when the single blocks start. The
per-stream cache equals a cache of the concatenated sequence (a mean of concatenations is the
concatenation of means), which is exactly what a single block consumes, and the hidden width is
the same on both sides, so nothing in the block structure calls for a reset; the official rule
(reset after block ``i`` when ``i % window == 0``, ``i`` counting every block) is kept unchanged.

The forward follows diffusers' ``HunyuanVideoTransformer3DModel.forward`` step for step, with the
block loops replaced; tests check that RepVideo off equals the stock forward bit for bit.
"""

from __future__ import annotations

from typing import Any

import torch
from diffusers import HunyuanVideoTransformer3DModel
from diffusers.models.modeling_outputs import Transformer2DModelOutput

from repvideo_eval.repvideo.block_loop import Streams
from repvideo_eval.repvideo.model_state import RepVideoMixin, apply_lora_scale


def hunyuan_output(
    model: Any,
    video: torch.Tensor,
    temb: torch.Tensor,
    grid: tuple[int, int, int],
    patch: tuple[int, int, int],
) -> torch.Tensor:
    """The end of both HunyuanVideo forwards (1.0 and 1.5): final norm, projection, and the video
    tokens on a (frames, height, width) ``grid`` of ``patch``es back to (batch, C, F, H, W)."""
    video = model.norm_out(video, temb)
    video = model.proj_out(video)
    video = video.reshape(video.shape[0], *grid, -1, *patch)
    video = video.permute(0, 4, 1, 5, 2, 6, 3, 7)
    return video.flatten(6, 7).flatten(4, 5).flatten(2, 3)


class RepVideoHunyuanVideoTransformer3DModel(RepVideoMixin, HunyuanVideoTransformer3DModel):
    """HunyuanVideo transformer whose block loop mixes both streams with the cached mean."""

    repvideo_family = "hunyuanvideo"
    repvideo_base_class = HunyuanVideoTransformer3DModel

    def repvideo_blocks(self) -> list[torch.nn.Module]:
        """Dual-stream blocks, then single-stream blocks (one gate each)."""
        return [*self.transformer_blocks, *self.single_transformer_blocks]

    @apply_lora_scale("attention_kwargs")
    def forward(
        self,
        hidden_states: torch.Tensor,
        timestep: torch.LongTensor,
        encoder_hidden_states: torch.Tensor,
        encoder_attention_mask: torch.Tensor,
        pooled_projections: torch.Tensor,
        guidance: torch.Tensor | None = None,
        attention_kwargs: dict[str, Any] | None = None,
        return_dict: bool = True,
    ) -> tuple[torch.Tensor] | Transformer2DModelOutput:
        """Same signature and output as the stock forward; see the module docstring."""
        batch_size, num_channels, num_frames, height, width = hidden_states.shape
        p, p_t = self.config.patch_size, self.config.patch_size_t
        post_patch_num_frames = num_frames // p_t
        post_patch_height = height // p
        post_patch_width = width // p
        first_frame_num_tokens = 1 * post_patch_height * post_patch_width

        image_rotary_emb = self.rope(hidden_states)
        temb, token_replace_emb = self.time_text_embed(timestep, pooled_projections, guidance)

        video = self.x_embedder(hidden_states)
        text = self.context_embedder(encoder_hidden_states, timestep, encoder_attention_mask)

        latent_sequence_length = video.shape[1]
        condition_sequence_length = text.shape[1]
        sequence_length = latent_sequence_length + condition_sequence_length
        attention_mask = torch.ones(
            batch_size, sequence_length, device=video.device, dtype=torch.bool
        )
        effective_condition_sequence_length = encoder_attention_mask.sum(dim=1, dtype=torch.int)
        effective_sequence_length = latent_sequence_length + effective_condition_sequence_length
        indices = torch.arange(sequence_length, device=video.device).unsqueeze(0)
        mask_indices = indices >= effective_sequence_length.unsqueeze(1)
        attention_mask = attention_mask.masked_fill(mask_indices, False)
        attention_mask = attention_mask.unsqueeze(1).unsqueeze(1)

        def run_block(i: int, block: torch.nn.Module, streams: Streams) -> Streams:
            video, text = streams
            args = (
                video,
                text,
                temb,
                attention_mask,
                image_rotary_emb,
                token_replace_emb,
                first_frame_num_tokens,
            )
            if torch.is_grad_enabled() and self.gradient_checkpointing:
                return tuple(self._gradient_checkpointing_func(block, *args))
            return tuple(block(*args))

        owned = [video, text]  # the loop empties it (see block_loop.take)
        del video, text
        video, _text = self.repvideo_block_loop(self.repvideo_blocks(), owned, run_block)

        output = hunyuan_output(
            self,
            video,
            temb,
            (post_patch_num_frames, post_patch_height, post_patch_width),
            (p_t, p, p),
        )

        if not return_dict:
            return (output,)
        return Transformer2DModelOutput(sample=output)
