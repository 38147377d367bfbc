"""Text embeddings computed once per worker and reused across a prompt's samples.

A VBench prompt is sampled 5 times (25 for temporal flickering) and, with the official sampler,
every video's unconditional branch is the same zero embedding: encoding per video would run
T5-XXL 2 x 4720 times where 946 + 1 calls suffice. Prompts are kept in a small LRU on the
device, since items of one prompt arrive together (generation.items orders them so). The key is
the text the model is given (a prompt set's line), never the suite prompt it is named after.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import torch

from repvideo_eval.config import SamplerSettings
from repvideo_eval.families import FAMILIES
from repvideo_eval.generation.family_calls import encode_text, text_length

#: Prompts kept per worker: 64 CogVideoX embeddings (226 x 4096, fp16) are ~120 MB.
CACHE_SIZE = 64

Encoded = dict[str, torch.Tensor]


class PromptEmbeddings:
    """Conditional embeddings per prompt and the unconditional one, each encoded once.

    An encoding is the dict of the family's pipeline keywords (embeddings, masks, pooled
    embeddings: generation.family_calls.encode_text); `conditional`/`unconditional` give its
    main tensor, `conditional_kwargs`/`negative_kwargs` the whole dict.
    """

    def __init__(
        self,
        pipe: Any,
        sampler: SamplerSettings,
        cache_size: int = CACHE_SIZE,
        family: str = "cogvideox",
    ) -> None:
        self.pipe = pipe
        self.sampler = sampler
        self.family = family
        self.cache_size = cache_size
        self.max_length = text_length(pipe, sampler, family)
        self._prompts: OrderedDict[str, Encoded] = OrderedDict()
        self._negative: Encoded | None = None
        self.encoder_calls = 0

    def _encode(self, text: str) -> Encoded:
        self.encoder_calls += 1
        with torch.inference_mode():
            return encode_text(self.pipe, self.family, text, self.max_length)

    def conditional_kwargs(self, prompt: str) -> Encoded:
        if prompt in self._prompts:
            self._prompts.move_to_end(prompt)
            return self._prompts[prompt]
        encoded = self._encode(prompt)
        self._prompts[prompt] = encoded
        while len(self._prompts) > self.cache_size:
            self._prompts.popitem(last=False)
        return encoded

    def conditional(self, prompt: str) -> torch.Tensor:
        return self.conditional_kwargs(prompt)["prompt_embeds"]

    @property
    def zeroes_empty_negative(self) -> bool:
        return self.sampler.negative_prompt == "" and FAMILIES[self.family].zero_empty_negative

    def negative_kwargs(self, like: Encoded) -> Encoded:
        """The negative branch's keywords: CogVideoX's zeroed embeddings for negative prompt "",
        else the encoded negative prompt (the empty string too, as diffusers does)."""
        if self._negative is None:
            if self.zeroes_empty_negative:
                self._negative = {name: torch.zeros_like(t) for name, t in like.items()}
            else:
                self._negative = self._encode(self.sampler.negative_prompt)
        return {f"negative_{name}": tensor for name, tensor in self._negative.items()}

    def tokens_dropped(self, text: str) -> int:
        """Text-encoder tokens lost to the limit (CogVideoX: 226 T5 tokens): the pipeline keeps
        the first `max_length` tokens, end-of-sequence included, and drops the rest."""
        ids = self.pipe.tokenizer(text, add_special_tokens=True, verbose=False).input_ids
        return max(0, len(ids) - self.max_length)

    def unconditional(self, like: torch.Tensor) -> torch.Tensor:
        return self.negative_kwargs({"prompt_embeds": like})["negative_prompt_embeds"]

    @property
    def uncond_kind(self) -> str:
        return "zero-embeddings" if self.zeroes_empty_negative else "negative-prompt"
