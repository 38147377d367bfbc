"""RepVideo adapter for diffusers' HunyuanVideo 1.5 transformer (``HunyuanVideo15Transformer3DModel``).

HunyuanVideo 1.5 has dual-stream blocks only (video and text weights apart, joint attention):
each block takes and returns the video stream and the combined condition stream (image, ByT5
and Qwen tokens, reordered valid-first by the forward), and the condition stream evolves through
every block. So both streams are mixed, with one gate and one cache schedule, as the official
code mixes its whole text + video sequence. Padded condition tokens are mixed too; the attention
mask keeps them out of every attention, as in the stock model.

The forward follows diffusers' ``HunyuanVideo15Transformer3DModel.forward`` step for step, with
the block loop replaced; tests check that RepVideo off equals the stock forward bit for bit.
"""

from __future__ import annotations

from typing import Any, cast

import torch
from diffusers import HunyuanVideo15Transformer3DModel
from diffusers.models.modeling_outputs import Transformer2DModelOutput

from repvideo_eval.repvideo.block_loop import Streams
from repvideo_eval.repvideo.hunyuan_video import hunyuan_output
from repvideo_eval.repvideo.model_state import RepVideoMixin, apply_lora_scale


class RepVideoHunyuanVideo15Transformer3DModel(RepVideoMixin, HunyuanVideo15Transformer3DModel):
    """HunyuanVideo 1.5 transformer whose block loop mixes both streams with the cached mean."""

    repvideo_family = "hunyuanvideo1.5"
    repvideo_base_class = HunyuanVideo15Transformer3DModel

    def _condition_stream(
        self,
        batch_size: int,
        timestep: torch.Tensor,
        encoder_hidden_states: torch.Tensor,
        encoder_attention_mask: torch.Tensor,
        encoder_hidden_states_2: torch.Tensor | None,
        encoder_attention_mask_2: torch.Tensor | None,
        image_embeds: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The stock forward's condition tokens and mask: [valid image, ByT5, Qwen, then padding]."""
        text = self.context_embedder(encoder_hidden_states, timestep, encoder_attention_mask)
        text = text + self.cond_type_embed(torch.zeros_like(text[:, :, 0], dtype=torch.long))

        text_2 = self.context_embedder_2(encoder_hidden_states_2)
        text_2 = text_2 + self.cond_type_embed(torch.ones_like(text_2[:, :, 0], dtype=torch.long))

        image = self.image_embedder(image_embeds)
        is_t2v = torch.all(image_embeds == 0)
        if is_t2v:
            image = image * 0.0
            image_mask = torch.zeros(
                (batch_size, image.shape[1]),
                dtype=encoder_attention_mask.dtype,
                device=encoder_attention_mask.device,
            )
        else:
            image_mask = torch.ones(
                (batch_size, image.shape[1]),
                dtype=encoder_attention_mask.dtype,
                device=encoder_attention_mask.device,
            )
        image = image + self.cond_type_embed(2 * torch.ones_like(image[:, :, 0], dtype=torch.long))

        text_mask = encoder_attention_mask.bool()
        text_mask_2 = encoder_attention_mask_2.bool()  # type: ignore[union-attr]
        image_mask = image_mask.bool()
        tokens = []
        masks = []
        for t, tm, t2, tm2, im, imm in zip(text, text_mask, text_2, text_mask_2, image, image_mask):
            tokens.append(
                torch.cat(
                    [
                        im[imm],
                        t2[tm2],
                        t[tm],
                        im[~imm],
                        torch.zeros_like(t2[~tm2]),
                        torch.zeros_like(t[~tm]),
                    ],
                    dim=0,
                )
            )
            masks.append(
                torch.cat([imm[imm], tm2[tm2], tm[tm], imm[~imm], tm2[~tm2], tm[~tm]], dim=0)
            )
        return torch.stack(tokens), torch.stack(masks)

    @apply_lora_scale("attention_kwargs")
    def forward(
        self,
        hidden_states: torch.Tensor,
        timestep: torch.Tensor,  # float flow-matching times (stock: LongTensor)
        encoder_hidden_states: torch.Tensor,
        encoder_attention_mask: torch.Tensor,
        timestep_r: torch.LongTensor | None = None,
        encoder_hidden_states_2: torch.Tensor | None = None,
        encoder_attention_mask_2: torch.Tensor | None = None,
        image_embeds: torch.Tensor | None = None,
        attention_kwargs: dict[str, Any] | None = None,
        return_dict: bool = True,
    ) -> tuple[torch.Tensor] | Transformer2DModelOutput:
        """Same signature and output as the stock forward; see the module docstring."""
        batch_size, num_channels, num_frames, height, width = hidden_states.shape
        p_t, p_h, p_w = self.config.patch_size_t, self.config.patch_size, self.config.patch_size
        post_patch_num_frames = num_frames // p_t
        post_patch_height = height // p_h
        post_patch_width = width // p_w

        image_rotary_emb = self.rope(hidden_states)
        temb = self.time_embed(timestep, timestep_r=timestep_r)
        video = self.x_embedder(hidden_states)
        text, text_mask = self._condition_stream(
            batch_size,
            timestep,
            encoder_hidden_states,
            encoder_attention_mask,
            encoder_hidden_states_2,
            encoder_attention_mask_2,
            cast(torch.Tensor, image_embeds),  # the stock forward needs it too (zeros for T2V)
        )

        def run_block(i: int, block: torch.nn.Module, streams: Streams) -> Streams:
            video, text = streams
            if torch.is_grad_enabled() and self.gradient_checkpointing:
                return tuple(
                    self._gradient_checkpointing_func(
                        block, video, text, temb, text_mask, image_rotary_emb
                    )
                )
            return tuple(block(video, text, temb, text_mask, image_rotary_emb))

        owned = [video, text]  # the loop empties it (see block_loop.take)
        del video, text
        video, _text = self.repvideo_block_loop(self.repvideo_blocks(), owned, run_block)

        grid = (post_patch_num_frames, post_patch_height, post_patch_width)
        output = hunyuan_output(self, video, temb, grid, (p_t, p_h, p_w))

        if not return_dict:
            return (output,)
        return Transformer2DModelOutput(sample=output)
