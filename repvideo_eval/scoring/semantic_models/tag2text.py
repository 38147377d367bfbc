"""Tag2Text captioner (scene) from vbench's own architecture, built and loaded our way.

vbench (`scene.py`, `utils.init_submodules`) builds `tag2text_caption(pretrained=
$VBENCH_CACHE_DIR/caption_model/tag2text_swin_14m.pth, image_size=384, vit="swin_b")`:
Swin-B/384 (`config_swinB_384.json`), a BERT tag encoder and caption decoder (`med_config.json`,
12 layers), and a 2-layer query-to-label tagging head (`q2l_config.json`) whose weights
`BertModel.from_pretrained("bert-base-uncased")` would initialise before the checkpoint
replaces them. Its tokenizer is `BertTokenizer.from_pretrained("bert-base-uncased")` plus the
tokens `[DEC]` (bos) and `[ENC]`.

Here `Tag2Text_Caption.__init__` is replayed attribute by attribute (same classes, same order,
same tying) without any `from_pretrained`, so nothing is fetched at build time; then the
checkpoint is read with `torch.load(weights_only=True)` and prepared exactly as vbench's
`load_checkpoint_swinbase` does (relative-position tables interpolated to the window,
`relative_position_index`/`attn_mask` buffers dropped, `strict=False`). Captioning is vbench's
own `Tag2Text_Caption.generate`, with the decoder's `generate` supplied by `tag2text_compat`.

transformers 4.33 ties the caption decoder's output projection to its word embeddings
(`init_weights` -> `tie_weights`); transformers 5 does not do that for vbench's class, so the
tie is made here explicitly.

Offline stand-in for `bert-base-uncased` (tiny-random mode and the parity tests only):
`write_bert_standin` writes `config.json` (BertConfig defaults), `tokenizer_config.json`
(`do_lower_case`) and a constructed 30522-token `vocab.txt`: BERT's special tokens at BERT's
ids ([PAD] 0, [unused0-98], [UNK] 100, [CLS] 101, [SEP] 102, [MASK] 103), then printable
ASCII characters, their `##` continuations, a few function words ("of", "the", ...), the
words of Tag2Text's 3429 tags, and filler words
`qx<n>`. Official mode uses the real `bert-base-uncased` tokenizer from the Hugging Face hub,
as vbench does.
"""

from __future__ import annotations

import copy
import json
import logging
import string
import tempfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from repvideo_eval.atomic import write_text_atomic
from repvideo_eval.scoring.checkpoints import load_state_file
from repvideo_eval.scoring.models.loading import resolve_for, seeded, tiny_weights_id
from repvideo_eval.scoring.scorer import ScorerContext
from repvideo_eval.scoring.semantic_models import weight_files  # noqa: F401  (registers the files)
from repvideo_eval.scoring.semantic_models.tag2text_compat import import_tag2text

logger = logging.getLogger(__name__)

BERT_VOCAB_SIZE = 30522
PROMPT = "a picture of "
THRESHOLD = 0.7
NUM_CLASS = 3429
IMAGE_SIZE = 384


# --------------------------------------------------------------------------- configurations
def _vbench_tag2text_dir() -> Path:
    import vbench

    return Path(vbench.__file__).parent / "third_party" / "tag2Text"


def official_configs() -> dict[str, Any]:
    """vbench's three config files: swin (dict), med and q2l (BertConfig)."""
    from transformers import BertConfig

    folder = _vbench_tag2text_dir()
    return {
        "swin": json.loads((folder / "config_swinB_384.json").read_text()),
        "med": BertConfig.from_json_file(str(folder / "med_config.json")),
        "q2l": BertConfig.from_json_file(str(folder / "q2l_config.json")),
    }


def tiny_configs() -> dict[str, Any]:
    """A small twin: Swin with one block per stage (width 16 -> 128), 32-wide 2-layer BERTs."""
    configs = official_configs()
    configs["swin"] = dict(
        configs["swin"], embed_dim=16, depths=[1, 1, 1, 1], num_heads=[1, 1, 2, 2], vision_width=128
    )
    for key, layers in (("med", 2), ("q2l", 1)):
        config = configs[key]
        config.hidden_size, config.num_hidden_layers = 32, layers
        config.num_attention_heads, config.intermediate_size = 2, 64
    return configs


# --------------------------------------------------------------------------- tokenizer
def standin_vocab() -> list[str]:
    """The constructed 30522-token vocabulary (see module docstring); deterministic."""
    tags = import_tag2text().tra_array
    tokens = ["[PAD]"] + [f"[unused{i}]" for i in range(99)] + ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    chars = [c for c in string.ascii_lowercase + string.digits + string.punctuation]
    tokens += chars + ["##" + c for c in chars]
    seen = set(tokens)
    for tag in ["of", "the", "in", "on", "with", "and", "at", "an", "is", "are", "picture", *tags]:
        for word in str(tag).lower().split():
            if word not in seen and all(c in string.ascii_lowercase for c in word):
                seen.add(word)
                tokens.append(word)
    filler = 0
    while len(tokens) < BERT_VOCAB_SIZE:
        tokens.append(f"qx{filler}")
        filler += 1
    return tokens


def write_bert_standin(folder: Path) -> Path:
    """Write the offline `bert-base-uncased` stand-in (config, tokenizer config, vocab) to `folder`."""
    from transformers import BertConfig

    write_text_atomic(folder / "vocab.txt", "\n".join(standin_vocab()) + "\n")
    write_text_atomic(folder / "tokenizer_config.json", json.dumps({"do_lower_case": True}))
    config = BertConfig().to_dict()
    config.update({"architectures": ["BertModel"], "model_type": "bert"})
    write_text_atomic(folder / "config.json", json.dumps(config, indent=1))
    return folder


def init_tokenizer(source: str | Path = "bert-base-uncased"):
    """vbench's `init_tokenizer` under transformers 5: BERT + bos `[DEC]` + `[ENC]` (`enc_token_id`).

    transformers 5 has no `additional_special_tokens_ids`, so `enc_token_id` is looked up by
    name; 4.33's BERT tokenizer cleaned up tokenization spaces on decode by default, 5 does not,
    so that is switched back on.
    """
    from transformers import BertTokenizer

    tokenizer = BertTokenizer.from_pretrained(str(source))
    tokenizer.add_special_tokens({"bos_token": "[DEC]"})
    tokenizer.add_special_tokens({"additional_special_tokens": ["[ENC]"]})
    tokenizer.enc_token_id = tokenizer.convert_tokens_to_ids("[ENC]")
    tokenizer.clean_up_tokenization_spaces = True
    return tokenizer


def standin_tokenizer():
    """`init_tokenizer` on a freshly written stand-in (offline)."""
    with tempfile.TemporaryDirectory(prefix="bert-standin-") as folder:
        return init_tokenizer(write_bert_standin(Path(folder)))


# --------------------------------------------------------------------------- model
def build_tag2text(tokenizer, configs: dict[str, Any]) -> nn.Module:
    """`Tag2Text_Caption(image_size=384, vit="swin_b")`'s __init__, replayed without downloads."""
    module = import_tag2text()
    from vbench.third_party.tag2Text.med import BertLMHeadModel, BertModel
    from vbench.third_party.tag2Text.swin_transformer import SwinTransformer

    swin = configs["swin"]
    assert swin["image_res"] == IMAGE_SIZE
    model = module.Tag2Text_Caption.__new__(module.Tag2Text_Caption)
    nn.Module.__init__(model)
    model.visual_encoder = SwinTransformer(
        img_size=swin["image_res"],
        patch_size=4,
        in_chans=3,
        embed_dim=swin["embed_dim"],
        depths=swin["depths"],
        num_heads=swin["num_heads"],
        window_size=swin["window_size"],
        mlp_ratio=4.0,
        qkv_bias=True,
        drop_rate=0.0,
        drop_path_rate=0.1,
        ape=False,
        patch_norm=True,
        use_checkpoint=False,
    )
    vision_width = swin["vision_width"]
    model.tokenizer = tokenizer

    decoder_config = copy.deepcopy(configs["med"])
    decoder_config.encoder_width = (
        decoder_config.hidden_size
    )  # vbench: 768 = the tag encoder's width
    model.text_decoder = BertLMHeadModel(config=decoder_config)
    # transformers 4.33's init_weights ties the LM head to the word embeddings
    model.text_decoder.cls.predictions.decoder.weight = (
        model.text_decoder.bert.embeddings.word_embeddings.weight
    )

    encoder_config = copy.deepcopy(configs["med"])
    encoder_config.encoder_width = vision_width
    model.tag_encoder = BertModel(config=encoder_config, add_pooling_layer=False)

    model.prompt = PROMPT
    model.prompt_length = len(tokenizer(PROMPT).input_ids) - 1
    model.threshold = THRESHOLD
    model.num_class = NUM_CLASS

    q2l_config = copy.deepcopy(configs["q2l"])
    q2l_config.encoder_width = vision_width
    # vbench: BertModel.from_pretrained("bert-base-uncased", config=q2l_config) then
    # resize_token_embeddings; the embeddings are deleted just below and every remaining weight
    # comes from the Tag2Text checkpoint.
    model.vision_multi = BertModel(config=q2l_config, add_pooling_layer=False)
    model.label_embed = nn.Embedding(NUM_CLASS, q2l_config.hidden_size)
    model.fc = module.GroupWiseLinear(NUM_CLASS, q2l_config.hidden_size, bias=True)
    model.del_selfattention()
    module.tie_encoder_decoder_weights(model.tag_encoder, model.vision_multi, "", " ")
    model.tag_array = module.tra_array
    return model


def prepare_state_dict(checkpoint: dict, window_size: int) -> dict[str, torch.Tensor]:
    """vbench's `load_checkpoint_swinbase` edits on `checkpoint["model"]`."""
    from vbench.third_party.tag2Text.swin_transformer import interpolate_relative_pos_embed

    state_dict = dict(checkpoint["model"])
    for key in list(state_dict):
        if "relative_position_bias_table" in key:
            state_dict[key] = interpolate_relative_pos_embed(
                state_dict[key], (2 * window_size - 1) ** 2, param_name=key
            )
        elif "relative_position_index" in key or "attn_mask" in key:
            del state_dict[key]
    return state_dict


def load_tag2text_file(model: nn.Module, path: Path, window_size: int) -> Any:
    """Load an official-format checkpoint (`{"model": state_dict}`) with weights_only=True, strict=False."""
    checkpoint = load_state_file(path)
    if not isinstance(checkpoint, dict) or "model" not in checkpoint:
        raise ValueError(
            f"{path} is not a Tag2Text checkpoint (expected a dict with a 'model' state dict)"
        )
    result = model.load_state_dict(prepare_state_dict(checkpoint, window_size), strict=False)
    if result.missing_keys:
        logger.warning(
            "Tag2Text checkpoint lacks %d keys (vbench loads with strict=False too): %s",
            len(result.missing_keys),
            result.missing_keys[:5],
        )
    return result


def load_tag2text(context: ScorerContext) -> tuple[Any, str]:
    """(Tag2Text captioner in eval mode on the context device, weights_id)."""
    tiny = context.tiny_random
    configs = tiny_configs() if tiny else official_configs()
    tokenizer = standin_tokenizer() if tiny else init_tokenizer("bert-base-uncased")
    with seeded(context.seed):
        model = build_tag2text(tokenizer, configs)
    if tiny:
        weights_id = tiny_weights_id(context) + ":bert=standin"
    else:
        resolved = resolve_for(context, "tag2text_swin_14m")
        load_tag2text_file(model, resolved.path, configs["swin"]["window_size"])
        weights_id = resolved.weights_id
    return model.to(context.device).eval(), weights_id
