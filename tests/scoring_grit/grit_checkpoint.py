"""A GRiT-B DenseCap+ObjectDet checkpoint with random weights, in the official file format.

`write_random_grit_checkpoint(cache_dir)` builds vbench's GRiT model from vbench's own config
(`GRiT_B_DenseCap_ObjectDet.yaml` through `setup_cfg(get_parser(...))`) under a fixed seed and
saves `{"model": state_dict, "iteration": 0}` (detectron2's checkpoint layout) as
`<cache_dir>/grit_model/grit_b_densecap_objectdet.pth`, the name and place vbench loads it from.

Plain random weights detect nothing (CenterNet's heatmap prior keeps every proposal under
GRiT's 0.5 score threshold) and, where boxes do pass, decode 40 random tokens per box (tens of
seconds per frame on CPU). `rigged=True` edits a few tensors so the random model answers like a
tiny trained one: the box classifier's foreground bias is raised and CenterNet's heatmap bias set
to HEATMAP_BIAS, where (measured on the synthetic 64x96 videos) some frames keep one or two boxes
and others none, so hit and miss frames both occur; and the (tied) text decoder is reduced to a
fixed chain of tokens: ObjectDet begins with [CLS]
and says "car", DenseCap begins with token 104 and says "red car", then [SEP]. The decoder's
attention and feed-forward outputs are zeroed and its position table cleared, so each step's
hidden state is LayerNorm(word embedding of the last token); the chain is written into the
word embeddings along orthogonal directions (weights tied, so they are also the output rows).
Everything else (ViT backbone, FPN, CenterNet, cascade heads, box regression) stays random.

BERT's tokenizer (`BertTokenizer.from_pretrained("bert-base-uncased")`, which GRiT's ROI heads
call at build time) comes from the hub; offline, `offline_bert_tokenizer` redirects it to the
project's stand-in vocabulary (repvideo_eval.scoring.semantic_models.tag2text.write_bert_standin),
which has the words "red" and "car" and BERT's special-token ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch

GRIT_FILE = "grit_model/grit_b_densecap_objectdet.pth"
OBJECTDET_WORD = "car"
DENSECAP_WORDS = ("red", "car")
#: CenterNet agnostic-heatmap bias of the rigged model (random init: -4.6, GRiT's 0.01 prior).
#: On the synthetic 64x96 test frames, -3.1 keeps a box on most frames, -3.3 on none.
HEATMAP_BIAS = -3.2


@contextmanager
def offline_bert_tokenizer(folder: Path) -> Iterator[None]:
    """`BertTokenizer.from_pretrained("bert-base-uncased")` -> the offline stand-in in `folder`."""
    import transformers

    from repvideo_eval.scoring.semantic_models.tag2text import write_bert_standin

    standin = write_bert_standin(folder)
    tokenizer_class = transformers.BertTokenizer
    own = tokenizer_class.__dict__.get("from_pretrained")  # usually inherited
    function = tokenizer_class.from_pretrained.__func__

    def from_pretrained(cls, name, *args, **kwargs):
        return function(
            cls, str(standin) if str(name) == "bert-base-uncased" else name, *args, **kwargs
        )

    tokenizer_class.from_pretrained = classmethod(from_pretrained)
    try:
        yield
    finally:
        if own is None:
            del tokenizer_class.from_pretrained
        else:
            tokenizer_class.from_pretrained = own


def build_grit_state_dict(seed: int = 0) -> dict[str, torch.Tensor]:
    """vbench's GRiT-B DenseCap+ObjectDet model, randomly initialised under `seed`."""
    from detectron2.modeling import build_model
    from vbench.third_party.grit_src.image_dense_captions import get_parser, setup_cfg

    cfg = setup_cfg(get_parser(torch.device("cpu"), ""))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build_model(cfg)
    return {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}


def rig(state: dict[str, torch.Tensor], tokenizer) -> None:
    """Edit `state` in place as described in the module docstring."""
    state["proposal_generator.centernet_head.agn_hm.bias"].fill_(HEATMAP_BIAS)
    for stage in range(3):
        bias = state[f"roi_heads.box_predictor.{stage}.cls_score.bias"]
        bias.zero_()
        bias[0] = 4.0  # the one foreground class (softmax over [object, background])
    ids = {
        token: tokenizer.convert_tokens_to_ids(token) for token in (OBJECTDET_WORD, *DENSECAP_WORDS)
    }
    assert tokenizer.unk_token_id not in ids.values(), ids
    cls, sep, dense_begin = tokenizer.cls_token_id, tokenizer.sep_token_id, 104
    for prefix in ("roi_heads.text_decoder.textual.", "roi_heads.text_decoder_det.textual."):
        for name, tensor in state.items():
            if name.startswith(prefix + "transformer.") and (".output.dense." in name):
                tensor.zero_()  # attention and feed-forward add nothing: hidden = LN(embedding)
        state[prefix + "embedding.positions.weight"].zero_()
        words = state[prefix + "embedding.words.weight"]
        out_bias = state[prefix + "output.bias"]
        dim = words.shape[1]
        basis = torch.linalg.qr(torch.randn(dim, 6, generator=torch.Generator().manual_seed(1)))[
            0
        ].T
        basis = basis - basis.mean(dim=1, keepdim=True)  # LayerNorm removes the mean
        basis = torch.linalg.qr(basis.T)[0].T
        e = [basis[i] / basis[i].norm() for i in range(6)]
        red, car = ids["red"], ids[OBJECTDET_WORD]
        words[cls] = e[0]
        words[dense_begin] = e[1]
        words[red] = e[1] + e[3]  # after 104: "red"
        words[car] = e[0] + e[2] + 4 * e[3]  # after [CLS]: "car"; after "red": "car"
        words[sep] = 30 * e[2]  # after "car": [SEP]
        out_bias[cls] = out_bias[dense_begin] = -100.0  # never predicted
        state[prefix + "output.weight"] = words


def write_random_grit_checkpoint(cache_dir: Path, *, seed: int = 0, rigged: bool = True) -> Path:
    """Write `<cache_dir>/grit_model/grit_b_densecap_objectdet.pth`; returns its path."""
    state = build_grit_state_dict(seed)
    if rigged:
        from transformers import BertTokenizer

        rig(state, BertTokenizer.from_pretrained("bert-base-uncased", do_lower_case=True))
    path = Path(cache_dir) / GRIT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": state, "iteration": 0}, path)
    return path
