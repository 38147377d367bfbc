"""scene, fast: vbench's rule, frame reading and transform against vbench's own functions; the
transformers-5 shim; checkpoint loading; the tiny-random scorer through a ScoringSession."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from repvideo_eval.errors import UserError
from repvideo_eval.scoring import ScoringSession, VideoToScore
from repvideo_eval.scoring.dimension_registry import implemented_dimensions, scorer_class
from repvideo_eval.scoring.dimensions.scene import (
    TAG2TEXT_TRANSFORM,
    read_frames_384,
    scene_hit,
    scene_label,
)
from repvideo_eval.scoring.scorer import ScorerContext, VideoRejected
from repvideo_eval.scoring.semantic_models import tag2text as t2t
from repvideo_eval.scoring.semantic_models.tag2text_compat import find_pruneable_heads_and_indices

AUX = {"scene": {"scene": {"scene": "alley"}}}  # VBench_full_info.json's nesting


@pytest.mark.parametrize(
    "label, captions",
    [
        ("alley", ["a narrow alley at night", "a street", "alleyway", "an ALLEY"]),
        (
            "living room",
            ["a living room with a sofa", "a room for living", "a livingroom", "a room"],
        ),
        ("bar", ["a barn in a field", "a bar", "the b a r"]),
        ("ski slope", ["skiers on a slope", "ski", "slope"]),
    ],
)
def test_hit_rule_is_vbench_check_generate(vbench_scene, label, captions):
    expected = vbench_scene.check_generate({"scene": label}, captions)
    assert sum(scene_hit(label, c) for c in captions) == expected
    assert expected > 0 or label == "ski slope"  # the cases exercise hits and misses


def test_label_nesting_of_the_packaged_json():
    import json
    from pathlib import Path

    import vbench

    entries = json.loads((Path(vbench.__file__).parent / "VBench_full_info.json").read_text())
    scenes = [e for e in entries if "scene" in e["dimension"]]
    assert len(scenes) == 86
    for entry in scenes:
        assert (
            scene_label(entry["auxiliary_info"]["scene"]["scene"])
            == entry["auxiliary_info"]["scene"]["scene"]["scene"]
        )
    with pytest.raises(VideoRejected):
        scene_label({"scene": ""})


@pytest.mark.parametrize("name", ["colours", "square", "short"])
def test_frames_and_transform_equal_vbench_load_video(vbench_scene, scene_videos, name):
    from vbench.utils import load_video, tag2text_transform

    ours = read_frames_384(scene_videos[name])
    theirs = load_video(
        str(scene_videos[name]), num_frames=16, return_tensor=False, width=384, height=384
    )
    assert ours.shape == (16, 384, 384, 3) and ours.dtype == np.uint8
    np.testing.assert_array_equal(ours, theirs)
    transform = tag2text_transform(384)
    for frame in ours[:3]:
        assert torch.equal(TAG2TEXT_TRANSFORM(frame), transform(frame))


def test_find_pruneable_heads_and_indices():
    heads, index = find_pruneable_heads_and_indices(
        [1], n_heads=3, head_size=2, already_pruned_heads=set()
    )
    assert heads == {1} and index.tolist() == [0, 1, 4, 5]
    # head 2 of the original layout is head 1 once head 0 is gone; head 0 is not pruned again
    heads, index = find_pruneable_heads_and_indices(
        [0, 2], n_heads=2, head_size=2, already_pruned_heads={0}
    )
    assert heads == {2} and index.tolist() == [0, 1]


def test_shim_provides_the_removed_helpers_and_generate(vbench_scene):
    import transformers.modeling_utils as modeling_utils
    from vbench.third_party.tag2Text import med

    for name in (
        "apply_chunking_to_forward",
        "find_pruneable_heads_and_indices",
        "prune_linear_layer",
    ):
        assert callable(getattr(modeling_utils, name))
    assert callable(med.BertLMHeadModel.generate)
    with pytest.raises(NotImplementedError):
        med.BertLMHeadModel.generate(None, input_ids=None, do_sample=True)


def test_standin_vocab_has_bert_special_ids():
    vocab = t2t.standin_vocab()
    assert len(vocab) == 30522 and len(set(vocab)) == 30522
    assert [vocab[i] for i in (0, 100, 101, 102, 103)] == [
        "[PAD]",
        "[UNK]",
        "[CLS]",
        "[SEP]",
        "[MASK]",
    ]
    assert {"alley", "living", "room", "picture", "of", "a", "|"} <= set(vocab)


@pytest.fixture(scope="module")
def tiny_model():
    return t2t.load_tag2text(ScorerContext(scoring_weights="tiny-random", seed=0))


def test_tokenizer_matches_vbench_conventions(tiny_model):
    tokenizer = tiny_model[0].tokenizer
    assert tokenizer.convert_tokens_to_ids(["[DEC]", "[ENC]"]) == [30522, 30523]
    assert (
        tokenizer.bos_token_id == 30522
        and tokenizer.enc_token_id == 30523
        and tokenizer.sep_token_id == 102
    )
    assert tiny_model[0].prompt_length == 4  # [CLS] a picture of
    assert tokenizer.decode(
        [101, 1000, 102], skip_special_tokens=True
    ) == tokenizer.convert_ids_to_tokens(1000)


def test_official_format_checkpoint_round_trip(tiny_model, tmp_path):
    model, _ = tiny_model
    path = tmp_path / "tag2text_swin_14m.pth"
    torch.save({"model": model.state_dict()}, path)
    fresh, _ = t2t.load_tag2text(ScorerContext(scoring_weights="tiny-random", seed=7))
    window = t2t.tiny_configs()["swin"]["window_size"]
    result = t2t.load_tag2text_file(fresh, path, window)
    assert not result.unexpected_keys
    assert all("relative_position_index" in k or "attn_mask" in k for k in result.missing_keys)
    for key, value in model.state_dict().items():
        assert torch.equal(value, fresh.state_dict()[key]), key
    # the decoder's LM head stays tied to its word embeddings (transformers 4.33 behaviour)
    decoder = fresh.text_decoder
    assert decoder.cls.predictions.decoder.weight is decoder.bert.embeddings.word_embeddings.weight


def test_loading_refuses_pickled_objects(tmp_path):
    path = tmp_path / "bad.pth"
    torch.save({"model": {}, "args": __import__("argparse").Namespace(x=1)}, path)
    model, _ = t2t.load_tag2text(ScorerContext(scoring_weights="tiny-random"))
    with pytest.raises(UserError, match="weights_only=True"):
        t2t.load_tag2text_file(model, path, 12)


def test_tiny_scorer_through_a_session(scene_videos):
    assert "scene" in implemented_dimensions()
    assert scorer_class("scene").__name__ == "Scene"
    session = ScoringSession(["scene"], scoring_weights="tiny-random")
    item = VideoToScore(scene_videos["short"], prompt="alley", auxiliary_info=AUX)
    (record,) = session.score(item)
    assert record.error is None, record.error
    assert record.aggregation_weight == 16.0 and 0.0 <= record.score <= 1.0
    details = record.details
    assert len(details["captions"]) == 16 and len(details["tags"]) == 16
    assert details["success_frame_count"] == sum(scene_hit("alley", c) for c in details["captions"])
    assert record.score == details["success_frame_count"] / 16
    assert record.weights_id == "tiny-random:seed=0:bert=standin"
    (again,) = ScoringSession(["scene"], scoring_weights="tiny-random").score(item)
    assert again.details["captions"] == details["captions"]  # seeded, deterministic
    (missing,) = session.score(VideoToScore(scene_videos["short"], prompt="alley"))
    assert missing.error and "auxiliary_info" in missing.error
