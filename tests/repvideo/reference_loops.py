"""Independent reference implementations of RepVideo's block loop, for the fidelity tests.

They run inside the *stock* diffusers forward: the stock model's block list is replaced by a
single module that runs all original blocks the way the official code does. So the embedding,
the final layers and the unpatchify come from diffusers itself, not from the code under test.
"""

from __future__ import annotations

import copy

import torch


class OfficialConcatLoop(torch.nn.Module):
    """The official loop over the concatenated text+video sequence, list cache and stack-mean.

    Like the official code it also computes the mix where the cache holds one entry.
    """

    def __init__(self, blocks: torch.nn.ModuleList, gates: torch.Tensor, window: int) -> None:
        super().__init__()
        self.blocks = blocks
        self.gates = gates
        self.window = window

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


class PerStreamListLoop(torch.nn.Module):
    """A straightforward two-stream loop: a Python list of cached tensors per stream, mean at use."""

    def __init__(self, blocks: torch.nn.ModuleList, gates: torch.Tensor, window: int) -> None:
        super().__init__()
        self.blocks = blocks
        self.gates = gates
        self.window = window

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


class WanListLoop(torch.nn.Module):
    """The official loop on Wan's single (video) stream, list cache and stack-mean."""

    def __init__(self, blocks: torch.nn.ModuleList, gates: torch.Tensor, window: int) -> None:
        super().__init__()
        self.blocks = blocks
        self.gates = gates
        self.window = window

    def forward(self, hidden_states, encoder_hidden_states, temb, rotary_emb):
        h = hidden_states
        cache = [h]
        for i, block in enumerate(self.blocks):
            g = self.gates[i]
            h = g * torch.mean(torch.stack(cache), dim=0) + (1 - g) * h
            h = block(h, encoder_hidden_states, temb, rotary_emb)
            cache = [h] if i % self.window == 0 else cache + [h]
        return h


def stock_with_loop(
    stock_model: torch.nn.Module, loop_cls: type, gates: torch.Tensor, window: int
) -> torch.nn.Module:
    """A deep copy of a stock model whose block list is one reference-loop module."""
    model = copy.deepcopy(stock_model)
    attr = "blocks" if hasattr(model, "blocks") else "transformer_blocks"
    loop = loop_cls(getattr(model, attr), gates.detach().clone(), window)
    setattr(model, attr, torch.nn.ModuleList([loop]))
    return model


def relative_error(actual: torch.Tensor, expected: torch.Tensor) -> float:
    """Norm of the difference relative to the norm of the expected tensor."""
    return float((actual.double() - expected.double()).norm() / expected.double().norm())
