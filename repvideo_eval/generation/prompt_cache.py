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

#: Prompts kept per worker: 64 CogVideoX embeddings (226 x 4096, fp16) are ~120 MB.
CACHE_SIZE = 64


class PromptEmbeddings:
    """Conditional embeddings per prompt and the unconditional one, each encoded once."""

    def __init__(self, pipe: Any, sampler: SamplerSettings, cache_size: int = CACHE_SIZE) -> None:
        self.pipe = pipe
        self.sampler = sampler
        self.cache_size = cache_size
        self.max_length = int(pipe.transformer.config.max_text_seq_length)
        self._prompts: OrderedDict[str, torch.Tensor] = OrderedDict()
        self._negative: torch.Tensor | None = None
        self.encoder_calls = 0

    def _encode(self, text: str) -> torch.Tensor:
        self.encoder_calls += 1
        embeds, _ = self.pipe.encode_prompt(
            prompt=text,
            do_classifier_free_guidance=False,
            max_sequence_length=self.max_length,
            device=self.pipe._execution_device,
        )
        return embeds

    def conditional(self, prompt: str) -> torch.Tensor:
        if prompt in self._prompts:
            self._prompts.move_to_end(prompt)
            return self._prompts[prompt]
        with torch.inference_mode():
            embeds = self._encode(prompt)
        self._prompts[prompt] = embeds
        while len(self._prompts) > self.cache_size:
            self._prompts.popitem(last=False)
        return embeds

    def tokens_dropped(self, text: str) -> int:
        """Text-encoder tokens lost to the limit (CogVideoX: 226 T5 tokens): the pipeline keeps
        the first `max_length` tokens, end-of-sequence included, and drops the rest."""
        ids = self.pipe.tokenizer(text, add_special_tokens=True, verbose=False).input_ids
        return max(0, len(ids) - self.max_length)

    def unconditional(self, like: torch.Tensor) -> torch.Tensor:
        """The official sampler's zeroed embeddings for negative prompt "", else the encoded one."""
        if self._negative is None:
            if self.sampler.negative_prompt == "":
                self._negative = torch.zeros_like(like)
            else:
                with torch.inference_mode():
                    self._negative = self._encode(self.sampler.negative_prompt)
        return self._negative

    @property
    def uncond_kind(self) -> str:
        return "zero-embeddings" if self.sampler.negative_prompt == "" else "negative-prompt"
