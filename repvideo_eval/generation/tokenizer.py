"""A T5-style tokenizer built in memory, so tiny models need no download.

The vocabulary is characters plus word-initial characters, with SentencePiece-style `▁` word
boundaries and `</s>` appended, which is all the tiny T5 encoder needs: the same prompt always
gives the same ids, and different prompts give different ids. The same vocabulary with a chat
template stands in for HunyuanVideo 1.5's Qwen2.5-VL tokenizer.
"""

from __future__ import annotations

import functools
import string

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
from transformers import PreTrainedTokenizerFast, T5TokenizerFast

PAD, EOS, UNK = "<pad>", "</s>", "<unk>"


@functools.lru_cache(maxsize=1)
def _backend() -> Tokenizer:
    specials = [(PAD, 0.0), (EOS, 0.0), (UNK, 0.0)]
    characters = string.ascii_lowercase + string.digits + string.punctuation
    word_starts = ["▁" + c for c in string.ascii_lowercase + string.digits]
    pieces = ["▁", *word_starts, *characters]
    vocab = specials + [(piece, -1.0 - 0.01 * i) for i, piece in enumerate(pieces)]
    backend = Tokenizer(models.Unigram(vocab, unk_id=2, byte_fallback=False))
    backend.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    backend.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    backend.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    backend.post_processor = processors.TemplateProcessing(
        single=f"$A {EOS}", pair=f"$A {EOS} $B {EOS}", special_tokens=[(EOS, 1)]
    )
    return backend


def build_tiny_t5_tokenizer() -> PreTrainedTokenizerFast:
    """A fresh tokenizer instance (pipelines may mutate settings such as padding side)."""
    return T5TokenizerFast(
        tokenizer_object=_backend(), eos_token=EOS, unk_token=UNK, pad_token=PAD, extra_ids=0
    )


def tiny_vocab_size() -> int:
    return _backend().get_vocab_size()


def build_tiny_fast_tokenizer(model_max_length: int = 77) -> PreTrainedTokenizerFast:
    """The same in-memory vocabulary as a generic fast tokenizer, standing in for the Llama and
    CLIP tokenizers of HunyuanVideo's tiny twin (ids: pad 0, eos 1)."""
    return PreTrainedTokenizerFast(
        tokenizer_object=_backend(),
        eos_token=EOS,
        unk_token=UNK,
        pad_token=PAD,
        model_max_length=model_max_length,
    )


#: Roles and contents joined by spaces, then the generation prompt: the shape of Qwen's chat
#: format (system turn, user turn, assistant turn opened) without its special tokens.
TINY_CHAT_TEMPLATE = (
    "{% for message in messages %}{{ message['role'] }} {{ message['content'] }} {% endfor %}"
    "{% if add_generation_prompt %}assistant{% endif %}"
)


def build_tiny_chat_tokenizer() -> PreTrainedTokenizerFast:
    """The in-memory vocabulary with TINY_CHAT_TEMPLATE, standing in for HunyuanVideo 1.5's
    Qwen2.5-VL tokenizer (HunyuanVideo15Pipeline renders prompts with `apply_chat_template`)."""
    tokenizer = build_tiny_fast_tokenizer(model_max_length=100_000)
    tokenizer.chat_template = TINY_CHAT_TEMPLATE
    return tokenizer


def tiny_chat_crop_start(tokenizer: PreTrainedTokenizerFast, system_message: str) -> int:
    """Tokens before the user's text in TINY_CHAT_TEMPLATE: the pipeline crops them off the
    encoder output (the real pipeline crops Qwen's 108, its `prompt_template_encode_start_idx`).
    Exact because the template joins turns with spaces, where the tokenizer splits words."""
    prefix = f"system {system_message} user"
    return len(tokenizer(prefix, add_special_tokens=False).input_ids)
