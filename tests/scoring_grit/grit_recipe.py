"""A seeded GRiT-B checkpoint recipe that needs no detectron2: the golden file's weights.

`seeded_grit_state_dict(recipe)` returns every tensor of vbench's GRiT-B DenseCap+ObjectDet
model (the keys and shapes in grit_b_keys.txt, the official checkpoint's layout) from
`recipe.seed` alone, so the side environment (detectron2) and CI (no detectron2) build the same
weights bit for bit. Each tensor comes from its own generator, seeded by sha256(seed, key), as
integers (`torch.randint`, exact on every machine) mapped to a uniform distribution with the
tensor's standard deviation; no floating-point random sampler is involved, so another machine's
vectorised maths cannot change a weight.

Standard deviations: norm weights 1 ± 0.1, biases 0.02, matrices and convolutions 1/sqrt(fan_in),
relative-position tables 0.1, the absolute position table 0.5, word and position embeddings
0.02. Then a few tensors are set so the random model behaves like a small trained one
(`Recipe` names each knob):
  * CenterNet's agnostic heatmap: its convolution scaled by `heatmap_gain`, its bias set to
    `heatmap_bias`, so some frames keep several proposals above GRiT's score threshold and some
    none; the box regression bias `box_bias` makes boxes a few strides wide, so neighbours
    overlap (NMS has work) and boxes near the edge cross it (clipping has work);
  * the three cascade classifiers' foreground bias `foreground_bias`;
  * the text decoder stays live (attention and feed-forward random, nothing zeroed). Its output
    bias is -100 for every token except `caption_tokens` (words and `##` wordpieces of the
    offline BERT stand-in vocabulary) and [SEP] (`sep_bias`), so captions are made of known
    tokens; the last layer's output LayerNorm weight is multiplied by `text_gain`, which scales
    every logit (the output matrix is the tied word embedding) so the two best tokens at each
    step are far apart. `text_decoder_det.*` are the same tensors as `text_decoder.*` (one module
    in vbench's model), and `output.weight` is `embedding.words.weight` (tied).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

KEYS_FILE = Path(__file__).with_name("grit_b_keys.txt")
DECODER = "roi_heads.text_decoder.textual."
DECODER_DET = "roi_heads.text_decoder_det.textual."
SEP_TOKEN = "[SEP]"


@dataclass(frozen=True)
class Recipe:
    """The seed and the few set tensors (see the module docstring)."""

    seed: int
    heatmap_gain: float = 3.0
    heatmap_bias: float = -5.5
    box_bias: float = 4.0
    foreground_bias: float = 3.0
    text_gain: float = 15.0
    sep_bias: float = 16.0
    caption_tokens: tuple[str, ...] = (
        "car", "dog", "red", "blue", "man", "tree", "on", "the", "of", "white", "green",
        "sky", "black", "cat", "road", "house", "##s", "##e", "##r", "##a", "##y", "##n", "##t",
    )  # fmt: skip

    def as_json(self) -> dict:
        return {**asdict(self), "caption_tokens": list(self.caption_tokens)}

    @classmethod
    def from_json(cls, data: dict) -> Recipe:
        return cls(**{**data, "caption_tokens": tuple(data["caption_tokens"])})


def grit_b_shapes() -> dict[str, tuple[int, ...]]:
    """The official GRiT-B DenseCap+ObjectDet keys and shapes, in vbench's state_dict order."""
    shapes = {}
    for line in KEYS_FILE.read_text().splitlines():
        if line and not line.startswith("#"):
            name, shape = line.split()
            shapes[name] = tuple(int(n) for n in shape.split("x"))
    return shapes


def _uniform(seed: int, name: str, shape: tuple[int, ...], std: float) -> torch.Tensor:
    """Uniform values with standard deviation `std`, from integers only (machine-independent)."""
    digest = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    generator = torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") >> 1)
    values = torch.empty(shape, dtype=torch.int32).random_(0, 2**24, generator=generator)
    values = values.to(torch.float32).sub_((2**24 - 1) / 2)  # exact: |x| < 2**23, halves
    return values.mul_(2 * math.sqrt(3) * std / 2**24)


def _std(name: str, shape: tuple[int, ...]) -> tuple[float, float]:
    """(offset, standard deviation) of a tensor's initial values, by its kind."""
    if name.endswith(".scale"):
        return 1.0, 0.1
    if len(shape) == 1:
        return (1.0, 0.1) if name.endswith(".weight") else (0.0, 0.02)
    if name.endswith(("rel_pos_h", "rel_pos_w")):
        return 0.0, 0.1
    if name.endswith("pos_embed"):
        return 0.0, 0.5
    if name.endswith(("embedding.words.weight", "embedding.positions.weight")):
        return 0.0, 0.02
    return 0.0, 1.0 / math.sqrt(math.prod(shape[1:]))


def seeded_grit_state_dict(recipe: Recipe, tokenizer) -> dict[str, torch.Tensor]:
    """Every tensor of the official checkpoint layout, from `recipe` (see the module docstring).

    `tokenizer` maps `recipe.caption_tokens` to ids (the offline BERT stand-in).
    """
    state: dict[str, torch.Tensor] = {}
    for name, shape in grit_b_shapes().items():
        if name.startswith(DECODER_DET) or name == DECODER + "output.weight":
            continue  # shared with text_decoder / tied to the word embedding: filled below
        offset, std = _std(name, shape)
        state[name] = _uniform(recipe.seed, name, shape, std) + offset
    _rig(state, recipe, tokenizer)
    state[DECODER + "output.weight"] = state[DECODER + "embedding.words.weight"]
    for name in grit_b_shapes():
        if name.startswith(DECODER_DET):
            state[name] = state[DECODER + name[len(DECODER_DET) :]]
    return {name: state[name] for name in grit_b_shapes()}


def _rig(state: dict[str, torch.Tensor], recipe: Recipe, tokenizer) -> None:
    head = "proposal_generator.centernet_head."
    state[head + "agn_hm.weight"].mul_(recipe.heatmap_gain)
    state[head + "agn_hm.bias"].fill_(recipe.heatmap_bias)
    state[head + "bbox_pred.bias"].add_(recipe.box_bias)
    for stage in range(3):
        state[f"roi_heads.box_predictor.{stage}.cls_score.bias"][0] += recipe.foreground_bias
    state[DECODER + "transformer.encoder.layer.5.output.LayerNorm.weight"].mul_(recipe.text_gain)
    ids = tokenizer.convert_tokens_to_ids(list(recipe.caption_tokens))
    unknown = [
        t for t, i in zip(recipe.caption_tokens, ids, strict=True) if i == tokenizer.unk_token_id
    ]
    if unknown:
        raise ValueError(f"caption tokens not in the vocabulary: {unknown}")
    bias = state[DECODER + "output.bias"]
    allowed = torch.tensor(ids)
    kept = bias[allowed].clone()
    bias.fill_(-100.0)
    bias[allowed] = kept * 50.0  # std 1 logit offsets between the caption tokens
    bias[tokenizer.sep_token_id] = recipe.sep_bias


def state_dict_digest(state: dict[str, torch.Tensor], stride: int = 101) -> str:
    """sha256 over every key, shape and every `stride`-th value, in key order (a fast check that
    two environments built the same weights; a whole-file hash would take seconds)."""
    digest = hashlib.sha256()
    for name in sorted(state):
        tensor = state[name]
        digest.update(f"{name}:{tuple(tensor.shape)}".encode())
        digest.update(tensor.reshape(-1)[::stride].contiguous().numpy().tobytes())
    return digest.hexdigest()
