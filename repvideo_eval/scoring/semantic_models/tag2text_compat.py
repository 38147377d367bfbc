"""Make vbench's Tag2Text (`vbench/third_party/tag2Text`) import and caption under transformers 5.

vbench 0.1.5 pins transformers 4.33.2. Its `med.py` (a BLIP-style BERT) needs, from that release:

1. `transformers.modeling_utils.{apply_chunking_to_forward, find_pruneable_heads_and_indices,
   prune_linear_layer}` at import. transformers 5 keeps the first and the last in
   `transformers.pytorch_utils`; `find_pruneable_heads_and_indices` is gone (written below).
2. `PreTrainedModel.invert_attention_mask` and `get_head_mask` (ModuleUtilsMixin in 4.33, gone in
   5), called by `BertModel.forward`. Provided on vbench's `BertPreTrainedModel` with 4.33's code.
3. `init_weights()` as 4.33 ran it (5's version requires `post_init()`, which med.py never
   calls): initialise each submodule once, then tie the LM head to the word embeddings.
4. `BertLMHeadModel.generate` (PreTrainedModel lost `generate` in 4.50). vbench calls it with
   `num_beams=3, max_length=30, min_length=10, eos=[SEP], pad=[PAD], repetition_penalty=1.0`.
   We do not mix in transformers 5's `GenerationMixin`: its cache objects, input preparation and
   beam search differ from 4.33's, and what vbench's numbers depend on is 4.33's behaviour, which
   `beam_search_v433` reproduces step by step (checked against 4.33.2 in the reference venv by
   `tests/scoring_scene/test_scene_parity.py`). Two 4.33 behaviours matter:

   * **No KV cache is ever used.** med.py's `prepare_inputs_for_generation(input_ids, past=None,
     ...)` reads `past`, but 4.33 passes `past_key_values`; so `past` is always None and every step
     runs the decoder on the whole prefix. We do the same (bit-identical logits).
   * **`encoder_hidden_states` is expanded twice.** Tag2Text repeats the tag embedding per beam
     itself, and 4.33's `_expand_inputs_for_generation` repeat-interleaves every tensor in the
     model kwargs by `num_beams` again (B*nb*nb rows). med.py's attention then truncates the
     keys/values to the first B*nb rows (`key_layer[:query_layer.shape[0]]`), so beam row r
     attends to row r // nb of the singly expanded tensor, i.e. **frame b of a batch is captioned
     from the tags/image of frame b // num_beams** (frames 0..5 for a 16-frame batch). We keep this.

   Beam search itself follows 4.33's `beam_search` + `BeamSearchScorer` + `BeamHypotheses`
   (length_penalty 1.0, early_stopping False, one hypothesis kept) with `MinLengthLogitsProcessor`
   as the only logits processor (4.33 adds no repetition-penalty processor when it is 1.0).

`install()` patches only vbench's classes and the `transformers.modeling_utils` namespace of
this process; nothing in site-packages is edited. Call it before importing
`vbench.third_party.tag2Text` (`import_tag2text()` does both).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from collections.abc import Iterable
from typing import Any

import torch
from torch import nn

_INSTALLED = False


def find_pruneable_heads_and_indices(
    heads: Iterable[int], n_heads: int, head_size: int, already_pruned_heads: set[int]
) -> tuple[set[int], torch.Tensor]:
    """transformers 4.33's helper: heads still to prune (minus pruned ones) and the kept indices.

    Returns the set of heads to prune (excluding `already_pruned_heads`) and the flat indices of
    the rows/columns to keep in a (n_heads * head_size)-wide projection.
    """
    mask = torch.ones(n_heads, head_size)
    heads = set(heads) - already_pruned_heads
    for head in heads:
        # the index shifts down by the number of already pruned heads before it
        head = head - sum(1 if h < head else 0 for h in already_pruned_heads)
        mask[head] = 0
    mask = mask.view(-1).contiguous().eq(1)
    index = torch.arange(len(mask))[mask].long()
    return heads, index


def _invert_attention_mask(self, encoder_attention_mask: torch.Tensor) -> torch.Tensor:
    """transformers 4.33 `ModuleUtilsMixin.invert_attention_mask` (finfo.min, model dtype)."""
    if encoder_attention_mask.dim() == 3:
        extended = encoder_attention_mask[:, None, :, :]
    if encoder_attention_mask.dim() == 2:
        extended = encoder_attention_mask[:, None, None, :]
    extended = extended.to(dtype=self.dtype)
    return (1.0 - extended) * torch.finfo(self.dtype).min


def _get_head_mask(self, head_mask, num_hidden_layers: int, is_attention_chunked: bool = False):
    """transformers 4.33 `get_head_mask`; vbench never passes a head mask (the None branch)."""
    if head_mask is None:
        return [None] * num_hidden_layers
    if head_mask.dim() == 1:
        head_mask = head_mask.unsqueeze(0).unsqueeze(0).unsqueeze(-1).unsqueeze(-1)
        head_mask = head_mask.expand(num_hidden_layers, -1, -1, -1, -1)
    elif head_mask.dim() == 2:
        head_mask = head_mask.unsqueeze(1).unsqueeze(-1).unsqueeze(-1)
    head_mask = head_mask.to(dtype=self.dtype)
    if is_attention_chunked:
        head_mask = head_mask.unsqueeze(-1)
    return head_mask


def _init_weights_v433(self) -> None:
    """transformers 4.33 `PreTrainedModel.init_weights` (5's needs `post_init`, which med.py never calls).

    Initialise every submodule once (`_is_hf_initialized`, as 4.33), then tie the output
    embeddings to the input embeddings (`tie_word_embeddings`, default True).
    """

    def initialise(module: Any) -> None:
        if getattr(module, "_is_hf_initialized", False):
            return
        self._init_weights(module)
        module._is_hf_initialized = True

    self.apply(initialise)
    # 4.33 tie_weights: only the LM head model has output embeddings (cls.predictions.decoder)
    cls = getattr(self, "cls", None)
    if cls is not None and getattr(self.config, "tie_word_embeddings", True):
        cls.predictions.decoder.weight = self.bert.embeddings.word_embeddings.weight


class _Hypotheses:
    """transformers 4.33 `BeamHypotheses` (length_penalty 1.0, early_stopping False)."""

    def __init__(self, num_beams: int, length_penalty: float = 1.0) -> None:
        self.num_beams = num_beams
        self.length_penalty = length_penalty
        self.beams: list[tuple[float, torch.Tensor]] = []
        self.worst_score = 1e9

    def add(self, hyp: torch.Tensor, sum_logprobs: float) -> None:
        score = sum_logprobs / (hyp.shape[-1] ** self.length_penalty)
        if len(self.beams) < self.num_beams or score > self.worst_score:
            self.beams.append((score, hyp))
            if len(self.beams) > self.num_beams:
                ranked = sorted((s, i) for i, (s, _) in enumerate(self.beams))
                del self.beams[ranked[0][1]]
                self.worst_score = ranked[1][0]
            else:
                self.worst_score = min(score, self.worst_score)

    def is_done(self, best_sum_logprobs: float, cur_len: int) -> bool:
        if len(self.beams) < self.num_beams:
            return False
        return self.worst_score >= best_sum_logprobs / cur_len**self.length_penalty


@torch.no_grad()
def beam_search_v433(
    decoder: nn.Module,
    input_ids: torch.Tensor,
    *,
    num_beams: int,
    max_length: int,
    min_length: int,
    eos_token_id: int,
    pad_token_id: int,
    **model_kwargs,
) -> torch.Tensor:
    """`decoder.generate(input_ids, num_beams=..., ...)` as transformers 4.33.2 runs it for med.py.

    Returns (batch, length) token ids, padded like 4.33's `BeamSearchScorer.finalize`.
    """
    if num_beams < 2:
        raise ValueError("only beam search (num_beams >= 2) is reproduced")
    batch_size = input_ids.shape[0]
    # 4.33 `_expand_inputs_for_generation`: input_ids and EVERY tensor kwarg, by num_beams.
    input_ids = input_ids.repeat_interleave(num_beams, dim=0)
    kwargs = {
        k: (v.repeat_interleave(num_beams, dim=0) if isinstance(v, torch.Tensor) else v)
        for k, v in model_kwargs.items()
    }
    device = input_ids.device
    hyps = [_Hypotheses(num_beams) for _ in range(batch_size)]
    done = [False] * batch_size
    beam_scores = torch.zeros((batch_size, num_beams), dtype=torch.float, device=device)
    beam_scores[:, 1:] = -1e9
    beam_scores = beam_scores.view(-1)
    while True:
        # med.py's prepare_inputs_for_generation with past=None: whole prefix, all-ones mask.
        outputs = decoder(
            input_ids=input_ids,
            attention_mask=input_ids.new_ones(input_ids.shape),
            past_key_values=None,
            encoder_hidden_states=kwargs.get("encoder_hidden_states"),
            encoder_attention_mask=kwargs.get("encoder_attention_mask"),
            is_decoder=True,
            return_dict=True,
        )
        scores = nn.functional.log_softmax(outputs.logits[:, -1, :], dim=-1)
        if input_ids.shape[-1] < min_length:  # MinLengthLogitsProcessor
            scores[:, eos_token_id] = -float("inf")
        scores = scores + beam_scores[:, None].expand_as(scores)
        vocab_size = scores.shape[-1]
        scores = scores.view(batch_size, num_beams * vocab_size)
        top_scores, top_tokens = torch.topk(scores, 2 * num_beams, dim=1, largest=True, sorted=True)
        top_indices = torch.div(top_tokens, vocab_size, rounding_mode="floor")
        top_tokens = top_tokens % vocab_size

        # BeamSearchScorer.process
        cur_len = input_ids.shape[-1] + 1
        next_scores = torch.zeros((batch_size, num_beams), dtype=top_scores.dtype, device=device)
        next_tokens = torch.zeros((batch_size, num_beams), dtype=top_tokens.dtype, device=device)
        next_indices = torch.zeros((batch_size, num_beams), dtype=top_indices.dtype, device=device)
        for b in range(batch_size):
            if done[b]:
                next_tokens[b, :] = pad_token_id
                continue
            slot = 0
            for rank, (token, score, index) in enumerate(
                zip(top_tokens[b], top_scores[b], top_indices[b])
            ):
                row = b * num_beams + index
                if token.item() == eos_token_id:
                    if rank >= num_beams:
                        continue
                    hyps[b].add(input_ids[row].clone(), score.item())
                else:
                    next_scores[b, slot] = score
                    next_tokens[b, slot] = token
                    next_indices[b, slot] = row
                    slot += 1
                if slot == num_beams:
                    break
            done[b] = done[b] or hyps[b].is_done(top_scores[b].max().item(), cur_len)
        beam_scores = next_scores.view(-1)
        beam_rows = next_indices.view(-1)
        input_ids = torch.cat([input_ids[beam_rows, :], next_tokens.view(-1).unsqueeze(-1)], dim=-1)
        if all(done) or input_ids.shape[-1] >= max_length:
            break

    # BeamSearchScorer.finalize (one hypothesis kept per input)
    for b in range(batch_size):
        if done[b]:
            continue
        for k in range(num_beams):
            row = b * num_beams + k
            hyps[b].add(input_ids[row], beam_scores[row].item())
    best = [sorted(h.beams, key=lambda x: x[0]).pop()[1] for h in hyps]
    lengths = [len(h) for h in best]
    width = min(max(lengths) + 1, max_length)
    decoded = input_ids.new(batch_size, width)
    if min(lengths) != max(lengths):
        decoded.fill_(pad_token_id)
    for i, hyp in enumerate(best):
        decoded[i, : lengths[i]] = hyp
        if lengths[i] < width:
            decoded[i, lengths[i]] = eos_token_id
    return decoded


def _generate(
    self,
    input_ids=None,
    max_length=30,
    min_length=10,
    num_beams=1,
    eos_token_id=None,
    pad_token_id=None,
    repetition_penalty=1.0,
    do_sample=False,
    **model_kwargs,
):
    """`BertLMHeadModel.generate` for vbench's beam-search call (transformers 4.33.2 semantics)."""
    if do_sample or repetition_penalty != 1.0 or num_beams < 2:
        raise NotImplementedError(
            "only vbench's scene call (beam search, repetition_penalty=1.0) is supported"
        )
    return beam_search_v433(
        self,
        input_ids,
        num_beams=num_beams,
        max_length=max_length,
        min_length=min_length,
        eos_token_id=eos_token_id,
        pad_token_id=pad_token_id,
        **model_kwargs,
    )


def install() -> None:
    """Provide the removed helpers, then patch vbench's med.py classes (idempotent)."""
    global _INSTALLED
    if _INSTALLED:
        return
    import transformers.modeling_utils as modeling_utils
    import transformers.pytorch_utils as pytorch_utils

    for name, value in (
        ("apply_chunking_to_forward", pytorch_utils.apply_chunking_to_forward),
        ("prune_linear_layer", pytorch_utils.prune_linear_layer),
        ("find_pruneable_heads_and_indices", find_pruneable_heads_and_indices),
    ):
        if not hasattr(modeling_utils, name):
            setattr(modeling_utils, name, value)
    med = importlib.import_module("vbench.third_party.tag2Text.med")
    for name, value in (
        ("invert_attention_mask", _invert_attention_mask),
        ("get_head_mask", _get_head_mask),
    ):
        if not hasattr(med.BertPreTrainedModel, name):
            setattr(med.BertPreTrainedModel, name, value)
    med.BertPreTrainedModel.init_weights = _init_weights_v433
    med.BertLMHeadModel.generate = _generate
    _INSTALLED = True


def _checkpoint_wrapper(*args, **kwargs):
    raise NotImplementedError(
        "fairscale is not installed; vbench's ViT activation checkpointing is unavailable"
    )


def import_tag2text():
    """`vbench.third_party.tag2Text.tag2text` after `install()`.

    Its `vit.py` imports `fairscale...checkpoint_wrapper` (a vbench pin, not a project
    dependency), used only for ViT gradient checkpointing, never by scene (Swin-B, eval). When
    fairscale is missing, stub modules stand in during this import only and are removed after,
    so no later `import fairscale` sees them.
    """
    install()
    name = "vbench.third_party.tag2Text.tag2text"
    if name in sys.modules or importlib.util.find_spec("fairscale") is not None:
        return importlib.import_module(name)
    parts = [
        "fairscale",
        "fairscale.nn",
        "fairscale.nn.checkpoint",
        "fairscale.nn.checkpoint.checkpoint_activations",
    ]
    for part in parts:
        stub = types.ModuleType(part)
        stub.__path__ = []  # a package, so the next part can be imported
        sys.modules[part] = stub
    sys.modules[parts[-1]].checkpoint_wrapper = _checkpoint_wrapper
    try:
        return importlib.import_module(name)
    finally:
        for part in parts:
            sys.modules.pop(part, None)
