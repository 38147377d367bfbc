"""Independent reference implementations of RepVideo's block loop, for the fidelity tests.

They run inside the *stock* diffusers forward: the stock model's block list is replaced by a
single module that runs all original blocks the way the official code does. So the embedding,
the final layers and the unpatchify come from diffusers itself, not from the code under test.
"""

from __future__ import annotations

import copy

import torch


class ReferenceLoop(torch.nn.Module):
    """What every reference loop holds: the stock blocks, one gate per block, the window."""

    def __init__(self, blocks: torch.nn.ModuleList, gates: torch.Tensor, window: int) -> None:
        super().__init__()
        self.blocks = blocks
        self.gates = gates
        self.window = window


class OfficialConcatLoop(ReferenceLoop):
    """The official loop over the concatenated text+video sequence, list cache and stack-mean.

    Like the official code it also computes the mix where the cache holds one entry.
    """

    def forward(
        self,
        hidden_states,
        encoder_hidden_states,
        temb,
        image_rotary_emb=None,
        attention_kwargs=None,
    ):
        text_len = encoder_hidden_states.shape[1]
        h = torch.cat([encoder_hidden_states, hidden_states], dim=1)
        cache = [h]
        for i, block in enumerate(self.blocks):
            agg = torch.mean(torch.stack(cache), dim=0) if len(cache) > 1 else cache[0]
            g = self.gates[i]
            h = g * agg + (1 - g) * h
            video, text = block(
                hidden_states=h[:, text_len:],
                encoder_hidden_states=h[:, :text_len],
                temb=temb,
                image_rotary_emb=image_rotary_emb,
                attention_kwargs=attention_kwargs,
            )
            h = torch.cat([text, video], dim=1)
            cache = [h] if i % self.window == 0 else cache + [h]
        return h[:, text_len:], h[:, :text_len]


class PerStreamListLoop(ReferenceLoop):
    """A straightforward two-stream loop: a Python list of cached tensors per stream, mean at use."""

    def forward(
        self,
        hidden_states,
        encoder_hidden_states,
        temb,
        image_rotary_emb=None,
        attention_kwargs=None,
    ):
        video, text = hidden_states, encoder_hidden_states
        video_cache, text_cache = [video], [text]
        for i, block in enumerate(self.blocks):
            g = self.gates[i]
            video = g * torch.stack(video_cache).mean(0) + (1 - g) * video
            text = g * torch.stack(text_cache).mean(0) + (1 - g) * text
            video, text = block(
                hidden_states=video,
                encoder_hidden_states=text,
                temb=temb,
                image_rotary_emb=image_rotary_emb,
                attention_kwargs=attention_kwargs,
            )
            if i % self.window == 0:
                video_cache, text_cache = [video], [text]
            else:
                video_cache.append(video)
                text_cache.append(text)
        return video, text


class WanListLoop(ReferenceLoop):
    """The official loop on Wan's single (video) stream, list cache and stack-mean."""

    def forward(self, hidden_states, encoder_hidden_states, temb, rotary_emb):
        h = hidden_states
        cache = [h]
        for i, block in enumerate(self.blocks):
            g = self.gates[i]
            h = g * torch.mean(torch.stack(cache), dim=0) + (1 - g) * h
            h = block(h, encoder_hidden_states, temb, rotary_emb)
            cache = [h] if i % self.window == 0 else cache + [h]
        return h


class HunyuanConcatLoop(ReferenceLoop):
    """HunyuanVideo's dual then single blocks with ONE cache of the concatenated [video | text].

    The adapter keeps one cache per stream; this loop caches the concatenation (what a single
    block consumes), so it also checks that the per-stream cache equals the concatenated one
    across the dual -> single transition. Blocks are called positionally, as the stock forward.
    """

    def __init__(self, blocks: list[torch.nn.Module], gates: torch.Tensor, window: int) -> None:
        super().__init__(torch.nn.ModuleList(blocks), gates, window)

    def forward(self, hidden_states, encoder_hidden_states, temb, *rest):
        video_len = hidden_states.shape[1]
        h = torch.cat([hidden_states, encoder_hidden_states], dim=1)
        cache = [h]
        for i, block in enumerate(self.blocks):
            g = self.gates[i]
            h = g * torch.mean(torch.stack(cache), dim=0) + (1 - g) * h
            video, text = block(h[:, :video_len], h[:, video_len:], temb, *rest)
            h = torch.cat([video, text], dim=1)
            cache = [h] if i % self.window == 0 else cache + [h]
        return h[:, :video_len], h[:, video_len:]


class MochiListLoop(ReferenceLoop):
    """Mochi's dual-stream loop: two Python lists (the widths differ, so no concatenation)."""

    def forward(
        self, hidden_states, encoder_hidden_states, temb, encoder_attention_mask, image_rotary_emb
    ):
        video, text = hidden_states, encoder_hidden_states
        caches = ([video], [text])
        for i, block in enumerate(self.blocks):
            g = self.gates[i]
            video = g * torch.stack(caches[0]).mean(0) + (1 - g) * video
            text = g * torch.stack(caches[1]).mean(0) + (1 - g) * text
            video, text = block(
                hidden_states=video,
                encoder_hidden_states=text,
                temb=temb,
                encoder_attention_mask=encoder_attention_mask,
                image_rotary_emb=image_rotary_emb,
            )
            caches = (
                ([video], [text])
                if i % self.window == 0
                else (
                    caches[0] + [video],
                    caches[1] + [text],
                )
            )
        return video, text


class LTXListLoop(ReferenceLoop):
    """LTX-Video's single (video) stream; the caption is cross-attention context, never mixed."""

    def forward(
        self, hidden_states, encoder_hidden_states, temb, image_rotary_emb, encoder_attention_mask
    ):
        h = hidden_states
        cache = [h]
        for i, block in enumerate(self.blocks):
            g = self.gates[i]
            h = g * torch.mean(torch.stack(cache), dim=0) + (1 - g) * h
            h = block(
                hidden_states=h,
                encoder_hidden_states=encoder_hidden_states,
                temb=temb,
                image_rotary_emb=image_rotary_emb,
                encoder_attention_mask=encoder_attention_mask,
            )
            cache = [h] if i % self.window == 0 else cache + [h]
        return h


class LTX2ListLoop(ReferenceLoop):
    """LTX-2's video and audio streams: two Python lists (the widths differ), one gate per block.

    The stock forward calls the block with keyword arguments; the loop passes them through, so
    everything but the two streams comes from diffusers' own forward.
    """

    def forward(self, hidden_states, audio_hidden_states, **context):
        video, audio = hidden_states, audio_hidden_states
        caches = ([video], [audio])
        for i, block in enumerate(self.blocks):
            g = self.gates[i]
            video = g * torch.stack(caches[0]).mean(0) + (1 - g) * video
            audio = g * torch.stack(caches[1]).mean(0) + (1 - g) * audio
            video, audio = block(hidden_states=video, audio_hidden_states=audio, **context)
            if i % self.window == 0:
                caches = ([video], [audio])
            else:
                caches = (caches[0] + [video], caches[1] + [audio])
        return video, audio


def stock_with_loop(
    stock_model: torch.nn.Module, loop_cls: type, gates: torch.Tensor, window: int
) -> torch.nn.Module:
    """A deep copy of a stock model whose block list is one reference-loop module.

    HunyuanVideo's two lists (dual, then single blocks) become one loop in the first list and an
    empty second list, so the stock forward's two loops run the reference once.
    """
    model = copy.deepcopy(stock_model)
    gates = gates.detach().clone()
    if hasattr(model, "single_transformer_blocks"):
        blocks = [*model.transformer_blocks, *model.single_transformer_blocks]
        model.transformer_blocks = torch.nn.ModuleList([loop_cls(blocks, gates, window)])
        model.single_transformer_blocks = torch.nn.ModuleList()
        return model
    attr = "blocks" if hasattr(model, "blocks") else "transformer_blocks"
    loop = loop_cls(getattr(model, attr), gates, window)
    setattr(model, attr, torch.nn.ModuleList([loop]))
    return model


def relative_error(actual: torch.Tensor, expected: torch.Tensor) -> float:
    """Norm of the difference relative to the norm of the expected tensor."""
    return float((actual.double() - expected.double()).norm() / expected.double().norm())
