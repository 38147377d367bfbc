"""Loading GRiT checkpoints: every key and shape checked, the documented exceptions accepted."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch

from repvideo_eval.errors import UserError
from repvideo_eval.scoring.detection.grit_torch import GRIT_B, GritTorch, tiny
from repvideo_eval.scoring.detection.grit_torch.checkpoint import read_checkpoint
from repvideo_eval.scoring.detection.grit_torch.detector import tiny_vocabulary
from repvideo_eval.scoring.detection.grit_torch.model import GritNetwork, load_tokenizer

CONFIG = tiny(len(tiny_vocabulary()))
DEC, DET = "roi_heads.text_decoder.", "roi_heads.text_decoder_det."


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    vocab = tmp_path_factory.mktemp("vocab") / "vocab.txt"
    vocab.write_text("\n".join(tiny_vocabulary()) + "\n")
    return load_tokenizer(vocab)


def random_state(seed: int = 0) -> dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    return {k: v.clone() for k, v in GritNetwork(CONFIG).state_dict().items()}


def test_grit_b_key_layout_is_vbench_model():
    """Facts of vbench's GRiT-B state dict (its module tree) that the port must reproduce."""
    with torch.device("meta"):
        shapes = {k: tuple(v.shape) for k, v in GritNetwork(GRIT_B).state_dict().items()}
    vit = "backbone.bottom_up."
    assert shapes[vit + "pos_embed"] == (1, 197, 768)
    assert shapes[vit + "blocks.0.attn.rel_pos_h"] == (27, 64)  # 14x14 windows
    assert shapes[vit + "blocks.2.attn.rel_pos_w"] == (127, 64)  # global, sized for 1024 px
    assert shapes[vit + "blocks.11.mlp.fc2.weight"] == (768, 3072)
    assert shapes["backbone.fpn_stride_16_8.weight"] == (768, 768, 2, 2)
    assert shapes["backbone.fpn_stride8_norm2.weight"] == (256,)
    assert shapes["backbone.top_block.p7.weight"] == (256, 256, 3, 3)
    tower = "proposal_generator.centernet_head.bbox_tower."
    assert {k.split(".")[3] for k in shapes if k.startswith(tower)} == {
        "0",
        "1",
        "3",
        "4",
        "6",
        "7",
        "9",
        "10",
    }  # conv, GroupNorm, (ReLU) x 4
    assert shapes["proposal_generator.centernet_head.scales.4.scale"] == (1,)
    assert shapes["roi_heads.box_head.2.fc1.weight"] == (1024, 256 * 7 * 7)
    assert shapes["roi_heads.box_predictor.0.cls_score.weight"] == (2, 1024)
    assert shapes["roi_heads.box_predictor.1.bbox_pred.2.weight"] == (4, 1024)
    text = DEC + "textual."
    assert shapes[text + "embedding.words.weight"] == (30522, 768)
    assert shapes[text + "embedding.positions.weight"] == (1024, 768)
    assert shapes[text + "object_feature_projection.0.weight"] == (768, 256)
    assert shapes[text + "transformer.encoder.layer.5.output.dense.weight"] == (768, 3072)
    assert shapes[text + "output.weight"] == (30522, 768)
    assert not any("mask_head" in k or "cls_tower" in k or "text_decoder_det" in k for k in shapes)
    total = sum(torch.Size(s).numel() for k, s in shapes.items() if not k.endswith("output.weight"))
    assert 200e6 < total < 210e6


def test_grit_b_layout_covers_vbench_model_state_dict_exactly():
    """tests/scoring_grit/grit_b_keys.txt lists vbench's GRiT-B state dict (keys and shapes, from
    detectron2's build_model in the side venv): every one of its keys is one the port loads, or
    documented as ignored, with the same shape; every port key comes from it."""
    from repvideo_eval.scoring.detection.grit_torch.checkpoint import IGNORED_PREFIXES, source_keys

    keys_file = Path(__file__).parents[1] / "scoring_grit" / "grit_b_keys.txt"
    vbench = dict(
        line.split() for line in keys_file.read_text().splitlines() if line and line[0] != "#"
    )
    with torch.device("meta"):
        port = {k: "x".join(map(str, v.shape)) for k, v in GritNetwork(GRIT_B).state_dict().items()}
    covered = set()
    for key, shape in port.items():
        sources = [name for name in source_keys(key) if name in vbench]
        assert sources, key
        assert all(vbench[name] == shape for name in sources), key
        covered.update(sources)
    ignored = {k for k in vbench if k not in covered}
    assert ignored and all(k.startswith(IGNORED_PREFIXES) for k in ignored), sorted(ignored)[:5]
    assert any(k.startswith(DET) for k in covered)  # vbench's file holds the shared decoder twice


def test_vbench_layout_with_duplicates_and_mask_head_loads(tokenizer):
    state = random_state()
    # vbench's model saves its shared decoder twice and a mask head; the det copy is what
    # load_state_dict leaves in vbench's model (registered later), tied output included
    for key in [k for k in state if k.startswith(DEC)]:
        state[DET + key[len(DEC) :]] = state[key] + 1.0
    state["roi_heads.mask_head.predictor.weight"] = torch.zeros(1, 8, 1, 1)
    model = GritTorch.from_state_dict(state, tokenizer, config=CONFIG)
    loaded = model.network.state_dict()
    words = "textual.embedding.words.weight"
    assert torch.equal(loaded[DEC + words], state[DET + "textual.output.weight"])
    assert torch.equal(loaded[DEC + "textual.output.bias"], state[DET + "textual.output.bias"])
    assert torch.equal(
        loaded["backbone.bottom_up.pos_embed"], state["backbone.bottom_up.pos_embed"]
    )
    textual = model.network.roi_heads.text_decoder.textual
    assert textual.output.weight is textual.embedding.words.weight


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda s: s.pop("backbone.bottom_up.blocks.1.attn.rel_pos_h"), "lacks 1 tensors"),
        (lambda s: s.update({"roi_heads.box_head.0.fc3.weight": torch.zeros(1)}), "unknown"),
        (
            lambda s: s.update({"roi_heads.box_predictor.0.cls_score.bias": torch.zeros(3)}),
            "wrong shapes",
        ),
        (
            lambda s: s.update({DET + "textual.output.bias": torch.zeros(7)}),
            "wrong shapes",
        ),
    ],
)
def test_mismatched_checkpoints_are_one_line_user_errors(tokenizer, change, message):
    state = random_state()
    change(state)
    with pytest.raises(UserError, match=message) as caught:
        GritTorch.from_state_dict(state, tokenizer, config=CONFIG)
    assert "\n" not in str(caught.value) and "grit_b_densecap_objectdet.pth" in str(caught.value)


def test_checkpoint_is_read_weights_only(tmp_path, monkeypatch):
    path = tmp_path / "grit.pth"
    torch.save({"model": random_state(), "iteration": 0}, path)
    calls = []
    real = torch.load
    monkeypatch.setattr(torch, "load", lambda *a, **k: calls.append(k) or real(*a, **k))
    state = read_checkpoint(path)
    assert calls and all(k.get("weights_only") is True for k in calls)
    assert "backbone.bottom_up.pos_embed" in state

    hostile = tmp_path / "pickled.pth"
    with open(hostile, "wb") as handle:
        pickle.dump({"model": {}, "hook": print}, handle)
    with pytest.raises(UserError, match="weights-only"):
        read_checkpoint(hostile)
    with pytest.raises(UserError, match="fetch-weights"):
        read_checkpoint(tmp_path / "absent.pth")
