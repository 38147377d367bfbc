"""GRiT's text decoder: six post-norm BERT layers over [region memory; text], greedy decoding.

The region's 14x14 ROIAlignV2 features (196 tokens) are projected (Linear + LayerNorm) into the
memory. Memory tokens attend to the memory only; text tokens to the memory and earlier text.
Because the memory never sees the text, its hidden states are computed once per region and each
new token only needs its own row: this module caches the memory's and the earlier tokens'
keys and values (vbench recomputes the whole prefix every step; the arithmetic of each row is
the same, the summation order of a softmax over masked entries is not, hence "within 1e-5").

Greedy search as vbench's `AutoRegressiveBeamSearch` with beam 1: the first step is a plain
argmax; if every region's first token is the end token, the search stops there and the token
sequence is that single end token (the begin token is not part of it). Otherwise each later step
sets the previous token's logit to -10000, forces the end token after an end token, and stops at
40 tokens (the begin token counted) or when every region has ended. The log-probability is the
sum over steps divided by the number of tokens that are not the end token plus one if an end
token occurred, minus one for the begin token (at least 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from repvideo_eval.scoring.detection.grit_torch.config import GritConfig


def gelu_erf(x: torch.Tensor) -> torch.Tensor:
    return x * 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0)))


class SelfAttention(nn.Module):
    def __init__(self, config: GritConfig) -> None:
        super().__init__()
        hidden = config.text_hidden
        self.heads = config.text_heads
        self.head_dim = hidden // config.text_heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)

    def split(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(*x.shape[:-1], self.heads, self.head_dim).permute(0, 2, 1, 3)

    def forward(self, x: torch.Tensor, keys: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        """Rows `x` attend to all of `keys`/`values` (already split into heads)."""
        query = self.split(self.query(x)) / math.sqrt(self.head_dim)
        probs = torch.matmul(query, keys.transpose(-1, -2)).softmax(dim=-1)
        context = torch.matmul(probs, values).permute(0, 2, 1, 3).contiguous()
        return context.view(*context.shape[:-2], -1)


class DenseLayerNorm(nn.Module):
    """BERT's output block: dense, then LayerNorm(dense + residual)."""

    def __init__(self, inputs: int, hidden: int, eps: float) -> None:
        super().__init__()
        self.dense = nn.Linear(inputs, hidden)
        self.LayerNorm = nn.LayerNorm(hidden, eps=eps)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dense(x) + residual)


class Attention(nn.Module):
    def __init__(self, config: GritConfig) -> None:
        super().__init__()
        self.self = SelfAttention(config)
        self.output = DenseLayerNorm(config.text_hidden, config.text_hidden, config.text_ln_eps)


class Intermediate(nn.Module):
    def __init__(self, config: GritConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.text_hidden, config.text_ffn)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return gelu_erf(self.dense(x))


class Layer(nn.Module):
    def __init__(self, config: GritConfig) -> None:
        super().__init__()
        self.attention = Attention(config)
        self.intermediate = Intermediate(config)
        self.output = DenseLayerNorm(config.text_ffn, config.text_hidden, config.text_ln_eps)

    def keys_values(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        attn = self.attention.self
        return attn.split(attn.key(x)), attn.split(attn.value(x))

    def forward(self, x: torch.Tensor, keys: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        attended = self.attention.output(self.attention.self(x, keys, values), x)
        return self.output(self.intermediate(attended), attended)


class Encoder(nn.Module):
    def __init__(self, config: GritConfig) -> None:
        super().__init__()
        self.layer = nn.ModuleList(Layer(config) for _ in range(config.text_layers))


class Transformer(nn.Module):
    def __init__(self, config: GritConfig) -> None:
        super().__init__()
        self.encoder = Encoder(config)


class Embedding(nn.Module):
    def __init__(self, config: GritConfig) -> None:
        super().__init__()
        self.words = nn.Embedding(config.vocab_size, config.text_hidden)
        self.positions = nn.Embedding(config.max_positions, config.text_hidden)
        self.layer_norm = nn.LayerNorm(config.text_hidden, eps=config.embedding_ln_eps)

    def forward(self, tokens: torch.Tensor, position: int) -> torch.Tensor:
        return self.layer_norm(self.words(tokens) + self.positions.weight[position])


@dataclass
class _Cache:
    """Per layer: keys and values of the memory and the tokens so far (heads split)."""

    keys: list[torch.Tensor]
    values: list[torch.Tensor]


class TextualHead(nn.Module):
    """`roi_heads.text_decoder.textual`: projection, embeddings, BERT layers, tied output."""

    def __init__(self, config: GritConfig) -> None:
        super().__init__()
        self.config = config
        self.object_feature_projection = nn.Sequential(
            nn.Linear(config.fpn_channels, config.text_hidden), nn.LayerNorm(config.text_hidden)
        )
        self.embedding = Embedding(config)
        self.transformer = Transformer(config)
        self.output = nn.Linear(config.text_hidden, config.vocab_size)
        self.output.weight = self.embedding.words.weight

    @property
    def layers(self) -> list[Layer]:
        return list(self.transformer.encoder.layer)  # type: ignore[arg-type]

    def memory_cache(self, object_features: torch.Tensor) -> _Cache:
        """Run the memory (n, 196, C) through every layer once; keep each layer's keys/values."""
        hidden = self.object_feature_projection(object_features)
        cache = _Cache([], [])
        for layer in self.layers:
            keys, values = layer.keys_values(hidden)
            cache.keys.append(keys)
            cache.values.append(values)
            hidden = layer(hidden, keys, values)
        return cache

    def step(self, cache: _Cache, tokens: torch.Tensor, position: int) -> torch.Tensor:
        """Logits (n, vocab) after `tokens` (n,) at `position`; extends `cache` with them."""
        hidden = self.embedding(tokens, position)[:, None, :]
        for index, layer in enumerate(self.layers):
            keys, values = layer.keys_values(hidden)
            cache.keys[index] = torch.cat([cache.keys[index], keys], dim=2)
            cache.values[index] = torch.cat([cache.values[index], values], dim=2)
            hidden = layer(hidden, cache.keys[index], cache.values[index])
        return self.output(hidden[:, 0]).float()


@dataclass(frozen=True)
class Decoded:
    tokens: torch.Tensor  # (n, length) int64, as vbench's `predictions` (begin token first)
    logprobs: torch.Tensor  # (n,) length-normalised log-probability
    margins: torch.Tensor  # (n, steps) gap between the two best log-probabilities per step


class TextDecoder(nn.Module):
    """`roi_heads.text_decoder`: greedy decoding of every region of one image together."""

    def __init__(self, config: GritConfig) -> None:
        super().__init__()
        self.config = config
        self.textual = TextualHead(config)

    def forward(self, object_features: torch.Tensor, begin_token: int) -> Decoded:
        config, end = self.config, self.config.end_token
        count = object_features.shape[0]
        cache = self.textual.memory_cache(object_features)
        begin = torch.full((count,), begin_token, dtype=torch.int64, device=object_features.device)
        logprobs = torch.log_softmax(self.textual.step(cache, begin, 0), dim=1)
        first_two = logprobs.topk(2, dim=1).values
        margins = [first_two[:, 0] - first_two[:, 1]]
        best, token = logprobs.topk(1)
        if (token == end).all():
            return Decoded(token, best, torch.stack(margins, dim=1))
        total = best[:, 0]
        sequence = [begin, token[:, 0]]
        forced = torch.full_like(logprobs, float("-inf"))
        forced[:, end] = 0.0
        while len(sequence) < config.max_tokens:
            last = sequence[-1]
            if (last == end).all():
                break
            logits = self.textual.step(cache, last, len(sequence) - 1)
            logits = logits.scatter(1, last.view(-1, 1), config.repeat_penalty_logit)
            logits = torch.where((last == end)[:, None], forced, logits)
            logprobs = torch.log_softmax(logits, dim=1)
            top2 = logprobs.topk(2, dim=1)
            margins.append(top2.values[:, 0] - top2.values[:, 1])
            total = total + top2.values[:, 0]
            sequence.append(top2.indices[:, 0])
        tokens = torch.stack(sequence, dim=1)
        valid = (tokens != end).sum(dim=-1) + ((tokens == end).sum(dim=-1) > 0) - 1
        return Decoded(tokens, total / valid.clip(min=1), torch.stack(margins, dim=1))
