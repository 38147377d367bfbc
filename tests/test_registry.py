"""Model cards, suites and dimensions load strictly; bad input names the problem and the fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from repvideo_eval import registry
from repvideo_eval.errors import UserError
from repvideo_eval.generation.naming import safe_prompt_stem, video_file_stem
from repvideo_eval.scoring.dimension_registry import parse_dimensions


def test_registered_cards_and_their_settings() -> None:
    assert {
        "cogvideox-2b",
        "repvideo-2b",
        "cogvideox-5b",
        "cogvideox-tiny",
        "repvideo-tiny",
    } <= set(registry.list_models())
    base, rep, big = (
        registry.load_card(n) for n in ("cogvideox-2b", "repvideo-2b", "cogvideox-5b")
    )
    assert base.hub_id == "THUDM/CogVideoX-2b" and base.dtype == "float16"
    assert rep.transformer_weights == "Vchitect/RepVideo"
    assert (
        rep.repvideo is not None
        and rep.repvideo.cache_window == 6
        and rep.repvideo.gates == "learned"
    )
    assert big.dtype == "bfloat16"
    s = base.sampler
    assert (
        s.scheduler,
        s.num_inference_steps,
        s.guidance_scale,
        s.use_dynamic_cfg,
        s.dynamic_cfg_exp,
    ) == ("dpm++2m", 50, 6.0, True, 5.0)
    assert (s.num_frames, s.height, s.width, s.fps, s.negative_prompt) == (49, 480, 720, 8, "")
    assert rep.sampler == base.sampler  # one shared sampler definition
    assert (
        registry.load_card("repvideo-tiny").sampler == registry.load_card("cogvideox-tiny").sampler
    )


def test_card_hash_changes_with_settings_not_with_labels() -> None:
    card = registry.load_card("repvideo-tiny")
    relabelled = registry.card_from_dict({**card.to_dict(), "name": "other", "description": "x"})
    assert relabelled.card_hash == card.card_hash
    other_window = registry.card_from_dict(
        {**card.to_dict(), "repvideo": {"cache_window": 3, "gates": "learned"}}
    )
    assert other_window.card_hash != card.card_hash


def test_aliases_expand_to_baseline_and_method() -> None:
    assert registry.resolve_model_names("repvideo") == ["cogvideox-2b", "repvideo-2b"]
    assert registry.resolve_model_names("cogvideox-tiny, repvideo-tiny,cogvideox-tiny") == [
        "cogvideox-tiny",
        "repvideo-tiny",
    ]


@pytest.mark.parametrize(
    "card, message",
    [
        (
            {
                "name": "x",
                "family": "cogvideox",
                "source": "hub",
                "dtype": "float16",
                "sampler": "tiny",
            },
            "missing weights",
        ),
        (
            {
                "name": "x",
                "family": "cogvideox",
                "source": "hub",
                "weights": "a/b",
                "dtype": "fp8",
                "sampler": "tiny",
            },
            "dtype",
        ),
        (
            {
                "name": "x",
                "family": "cogvideox",
                "source": "hub",
                "weights": "a/b",
                "dtype": "float16",
                "sampler": "nope",
            },
            "unknown sampler preset",
        ),
        (
            {
                "name": "x",
                "family": "cogvideox",
                "source": "hub",
                "weights": "a/b",
                "dtype": "float16",
                "sampler": "tiny",
                "colour": 1,
            },
            "unknown key",
        ),
        (
            {
                "name": "x",
                "family": "cogvideox",
                "source": "hub",
                "weights": "a/b",
                "dtype": "float16",
                "sampler": "tiny",
                "repvideo": {"gates": "fixed"},
            },
            "gate_value",
        ),
    ],
)
def test_malformed_cards_are_user_errors(card: dict, message: str) -> None:
    with pytest.raises(UserError, match=message):
        registry.card_from_dict(card)


def test_unknown_model_lists_the_valid_ones() -> None:
    with pytest.raises(UserError, match="unknown model 'nope'.*cogvideox-2b"):
        registry.load_card("nope")


def test_vbench_suite_comes_from_the_packaged_json() -> None:
    suite = registry.load_suite("vbench")
    assert len(suite.prompts) == 946 and suite.samples_per_prompt == 5
    assert len(suite.dimensions) == 16
    spatial = registry.load_suite("vbench/spatial_relationship")
    assert len(spatial.prompts) == 84 and spatial.dimensions == ("spatial_relationship",)
    aux = spatial.prompts[0].auxiliary_info["spatial_relationship"]["spatial_relationship"]
    assert set(aux) == {"object_a", "object_b", "relationship"}
    assert suite.seed_for(3, 2) == 300002  # VBench's 100000 * prompt index + sample index
    with pytest.raises(UserError, match="unknown suite vbench/nope"):
        registry.load_suite("vbench/nope")


def test_suite_from_text_and_yaml_paths(tmp_path: Path) -> None:
    text = tmp_path / "mine.txt"
    text.write_text("a dog\n\n  a cat  \n", encoding="utf-8")
    suite = registry.load_suite(str(text))
    assert [p.text for p in suite.prompts] == ["a dog", "a cat"]
    yml = tmp_path / "s.yaml"
    yml.write_text(
        "name: s\nsamples_per_prompt: 2\ndimensions: [temporal_flickering]\nprompts: [a, {prompt: b}]\n"
    )
    suite = registry.load_suite(str(yml))
    assert suite.samples_per_prompt == 2 and [p.text for p in suite.prompts] == ["a", "b"]
    empty = tmp_path / "empty.txt"
    empty.write_text("\n \n")
    with pytest.raises(UserError, match="has no prompts"):
        registry.load_suite(str(empty))


def test_unknown_dimension_is_a_user_error() -> None:
    with pytest.raises(UserError, match="Unknown dimension"):
        parse_dimensions("temporal_flickering,warp_factor", ())


@pytest.mark.parametrize(
    "prompt",
    ["a/b", ".hidden", "x" * 201, "café au lait", "tab\there", "日本の猫"],
)
def test_unsafe_prompts_get_safe_unique_names(prompt: str) -> None:
    stem = safe_prompt_stem(prompt)
    assert "/" not in stem and not stem.startswith(".") and stem.isascii() and stem.isprintable()
    assert len(stem.encode()) <= 200
    assert safe_prompt_stem(prompt + " ") != stem or prompt.endswith(" ")


def test_safe_prompts_keep_vbench_file_names() -> None:
    prompt = registry.load_suite("vbench").prompts[0].text
    assert video_file_stem(prompt, 3) == f"{prompt}-3"
    names = {video_file_stem(p.text, 0) for p in registry.load_suite("vbench").prompts}
    assert len(names) == len({p.text for p in registry.load_suite("vbench").prompts})
    assert json.dumps(sorted(names))  # every name is a plain string


def test_vbench_flicker_prompts_get_25_samples_and_others_5() -> None:
    from repvideo_eval.generation.items import generation_items

    suite = registry.load_suite("vbench/temporal_flickering")
    assert len(suite.prompts) == 75 and all(suite.samples_for(p) == 25 for p in suite.prompts)
    card = registry.load_card("cogvideox-tiny")
    items = generation_items(card, suite, Path("/tmp/unused"))
    assert len(items) == 75 * 25
    assert items[24].video_path.endswith(f"{suite.prompts[0].text}-24.mp4")
    other = registry.load_suite("vbench/subject_consistency")
    assert all(other.samples_for(p) == 5 for p in other.prompts)


def test_vbench_mini_covers_all_16_dimensions_once() -> None:
    suite = registry.load_suite("vbench-mini")
    covered = {d for p in suite.prompts for d in p.dimensions}
    assert covered == set(registry.load_suite("vbench").dimensions) and len(covered) == 16
    assert len(suite.prompts) <= 16 and all(suite.samples_for(p) == 1 for p in suite.prompts)


def test_transformer_config_overrides_are_validated_hashed_and_round_trip() -> None:
    base = registry.load_card("cogvideox-2b")
    assert dict(base.transformer_config) == {"norm_eps": 1e-6}
    again = registry.card_from_dict(base.to_dict())
    assert again == base and again.card_hash == base.card_hash
    plain = registry.card_from_dict({**base.to_dict(), "transformer_config": {}})
    assert plain.card_hash != base.card_hash
    assert "transformer_config" not in plain.generation_dict()  # no overrides, no hash input
    with pytest.raises(UserError, match="transformer_config must map config field names"):
        registry.card_from_dict({**base.to_dict(), "transformer_config": {"norm_eps": [1e-6]}})
    with pytest.raises(UserError, match="transformer_config.norm_eps is the string '1e-6'"):
        registry.card_from_dict({**base.to_dict(), "transformer_config": {"norm_eps": "1e-6"}})
    tiny = registry.load_card("cogvideox-tiny").to_dict()
    with pytest.raises(UserError, match="transformer_config applies to hub weights"):
        registry.card_from_dict({**tiny, "transformer_config": {"norm_eps": 1e-6}})


def test_hub_id_is_written_weights_in_card_files() -> None:
    """`ModelCard.hub_id` keeps its on-disk name, so card files, run.json and hashes stay as they are."""
    card = registry.load_card("cogvideox-2b")
    data = card.to_dict()
    assert data["weights"] == card.hub_id == "THUDM/CogVideoX-2b" and "hub_id" not in data
    assert registry.card_from_dict(data) == card
    assert "weights" in card.generation_dict()
    with pytest.raises(UserError, match="unknown key.*hub_id"):
        registry.card_from_dict({**data, "hub_id": "THUDM/CogVideoX-2b"})
