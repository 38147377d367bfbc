"""Every family diffusers ships: cards with sources, tiny twins, video-shape rules, the generic
card form, per-family prompt encoding, and one-line errors for what cannot run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from repvideo_eval import registry
from repvideo_eval.errors import UserError
from repvideo_eval.families import FAMILIES, SUPPORTED_FAMILIES

REPO = Path(__file__).resolve().parents[2]
#: family -> (real card(s), tiny twin) shipped in models/
SHIPPED = {
    "cogvideox": (("cogvideox-2b", "cogvideox-5b"), "cogvideox-tiny"),
    "cogvideox1.5": (("cogvideox1.5-5b",), "cogvideox1.5-tiny"),
    "wan": (("wan2.1-1.3b", "wan2.1-14b", "wan2.2-a14b"), "wan-tiny"),
    "wan2.2": (("wan2.2-ti2v-5b",), "wan2.2-tiny"),
    "hunyuanvideo": (("hunyuanvideo",), "hunyuanvideo-tiny"),
    "hunyuanvideo1.5": (("hunyuanvideo1.5",), "hunyuanvideo1.5-tiny"),
    "ltx": (("ltx-video",), "ltx-tiny"),
    "ltx2": (("ltx-2",), "ltx2-tiny"),
    "mochi": (("mochi-1",), "mochi-tiny"),
}
TINY_TWINS = sorted({twin for _, twin in SHIPPED.values()} | {"wan2.2-a14b-tiny"})


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, str(REPO / "run_eval.py"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def card_with(name: str, **changes: object) -> dict:
    """A card's mapping with top-level or `sampler.` fields changed."""
    data = registry.load_card(name).to_dict()
    for key, value in changes.items():
        if key.startswith("sampler."):
            data["sampler"][key.split(".", 1)[1]] = value
        else:
            data[key] = value
    return data


def test_every_supported_family_ships_real_cards_and_a_tiny_twin() -> None:
    assert set(SHIPPED) == set(SUPPORTED_FAMILIES)
    for family, (reals, twin) in SHIPPED.items():
        for name in reals:
            card = registry.load_card(name)
            assert card.family == family and card.source == "hub" and card.twin
            assert registry.load_card(card.twin).family in (family, "wan")
            text = (REPO / "models" / f"{name}.yaml").read_text(encoding="utf-8")
            assert "source: https://" in text or "source: http" in text, name
        tiny = registry.load_card(twin)
        assert tiny.is_tiny and tiny.family == family


def test_list_shows_every_family_card_and_its_tiny_twin(tmp_path: Path) -> None:
    result = run_cli("list", "models", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = {
        line.split()[0]: line.split()[1]
        for line in result.stdout.splitlines()[1:]
        if line.startswith("    ") is False and line.startswith("  ")
    }
    for family, (reals, twin) in SHIPPED.items():
        for name in (*reals, twin):
            assert rows.get(name) == family, name


def test_cogvideox_card_hashes_are_unchanged_by_the_generic_sampler() -> None:
    """Card hashes address videos on disk; the new optional fields must not move them."""
    expected = {
        "cogvideox-2b": "35bd97bd27db",
        "cogvideox-5b": "1ac796d0c304",
        "cogvideox-tiny": "f8766109b75d",
        "repvideo-2b": "60b1b739e349",
        "repvideo-tiny": "5f187aada6cb",
    }
    assert {name: registry.load_card(name).card_hash for name in expected} == expected


@pytest.mark.parametrize(
    ("family", "bad_frames", "good"),
    [
        ("wan", 80, "use 77 or 81"),
        ("cogvideox1.5", 41, "use 33 or 49"),  # 41 = 4 x 10 + 1: CogVideoX's rule, not 1.5's
        ("ltx", 160, "use 153 or 161"),
        ("ltx2", 120, "use 113 or 121"),
        ("mochi", 84, "use 79 or 85"),
        ("hunyuanvideo", 130, "use 129 or 133"),
        ("hunyuanvideo1.5", 122, "use 121 or 125"),
    ],
)
def test_frames_breaking_the_vae_rule_name_the_rule_and_the_fix(
    family: str, bad_frames: int, good: str
) -> None:
    real = SHIPPED[family][0][0]
    with pytest.raises(UserError, match=f"{bad_frames} frames break the {family} VAE rule.*{good}"):
        registry.card_from_dict(card_with(real, **{"sampler.num_frames": bad_frames}))


def test_sizes_breaking_the_spatial_multiple_are_refused() -> None:
    with pytest.raises(UserError, match="width 720 is not a multiple of 32 .*use 704 or 736"):
        registry.card_from_dict(card_with("ltx-video", **{"sampler.width": 720}))
    with pytest.raises(UserError, match="height 720 is not a multiple of 32 .*use 704 or 736"):
        registry.card_from_dict(card_with("wan2.2-ti2v-5b", **{"sampler.height": 720}))


def test_sampler_vocabulary_is_the_family_s() -> None:
    with pytest.raises(
        UserError, match="'dpm\\+\\+2m' does not apply to wan; use one of flow-euler, flow-unipc"
    ):
        registry.card_from_dict(card_with("wan-tiny", **{"sampler.scheduler": "dpm++2m"}))
    with pytest.raises(UserError, match="use_dynamic_cfg is CogVideoX's rule"):
        registry.card_from_dict(card_with("ltx-tiny", **{"sampler.use_dynamic_cfg": True}))
    with pytest.raises(UserError, match="shift applies to flow-matching schedulers only"):
        registry.card_from_dict(card_with("cogvideox-tiny", **{"sampler.shift": 3.0}))


def test_vbench_mode_auto_follows_each_family_s_length() -> None:
    from repvideo_eval.cli.run import resolve_vbench_mode

    for family, (reals, twin) in SHIPPED.items():
        for name in reals:
            card = registry.load_card(name)
            seconds = card.sampler.num_frames / card.sampler.fps
            assert resolve_vbench_mode("auto", (card,)) == ("long" if seconds >= 5 else "standard")
        assert resolve_vbench_mode("auto", (registry.load_card(twin),)) == "standard"
    # Every shipped real card is 5 s or longer (VBench-Long), e.g. Wan 2.1: 81 frames at 16 fps.
    assert resolve_vbench_mode("auto", (registry.load_card("wan2.1-1.3b"),)) == "long"


def test_unknown_pipeline_class_and_unsupported_family_are_one_line_errors(monkeypatch) -> None:
    import dataclasses

    from repvideo_eval import families

    with pytest.raises(UserError, match="unknown pipeline class 'AnimateDiffPipeline'; supported"):
        registry.card_from_dict(card_with("wan-tiny", pipeline="AnimateDiffPipeline"))
    with pytest.raises(UserError, match="pipeline LTXPipeline does not belong to family 'wan'"):
        registry.card_from_dict(card_with("wan-tiny", pipeline="LTXPipeline"))
    # every family diffusers ships is supported today; a documented-only one is refused with
    # its reason (here ltx2 marked unsupported, as it was before its audio was handled)
    assert [name for name, facts in FAMILIES.items() if not facts.supported] == []
    monkeypatch.setitem(FAMILIES, "ltx2", dataclasses.replace(FAMILIES["ltx2"], supported=False))
    monkeypatch.setitem(families.UNSUPPORTED_REASONS, "ltx2", "its pipeline returns audio")
    with pytest.raises(
        UserError, match="family 'ltx2' is not supported yet: its pipeline returns audio"
    ):
        registry.card_from_dict(card_with("ltx2-tiny"))


def test_ltx2_audio_guidance_follows_the_card_s_guidance_scale() -> None:
    """LTX2Pipeline runs a negative branch when its video or audio scale is > 1: the harness sets
    the audio scale from guidance_scale, and a card may not set it apart."""
    from repvideo_eval.generation.family_calls import call_kwargs, uses_negative_branch

    for scale in (1.0, 3.0):
        card = registry.card_from_dict(card_with("ltx2-tiny", **{"sampler.guidance_scale": scale}))
        kwargs = call_kwargs(card, 16)
        assert kwargs["audio_guidance_scale"] == kwargs["guidance_scale"] == scale
        assert uses_negative_branch(card) == (scale > 1)
    data = card_with("ltx2-tiny")
    data["sampler"]["pipeline_kwargs"] = {"audio_guidance_scale": 7.0}
    with pytest.raises(
        UserError, match="pipeline_kwargs.audio_guidance_scale is set by the harness"
    ):
        registry.card_from_dict(data)


def test_ltx2_extra_guidance_passes_follow_the_pipeline_s_rules() -> None:
    """LTX2Pipeline's defaults (0.42.1: STG 1, modality 3) turn both passes on; the shipped cards
    turn them off; an audio scale of 0 falls back to the video one, as the pipeline does."""
    from repvideo_eval.generation.family_calls import extra_guidance_passes

    assert extra_guidance_passes(registry.load_card("ltx-2")) == []
    assert extra_guidance_passes(registry.load_card("ltx2-tiny")) == []
    assert extra_guidance_passes(registry.load_card("ltx-tiny")) == []
    both = ["spatio-temporal guidance", "modality isolation guidance"]

    def passes(**kwargs: float) -> list[str]:
        data = card_with("ltx2-tiny")
        data["sampler"]["pipeline_kwargs"] = kwargs
        return extra_guidance_passes(registry.card_from_dict(data))

    assert passes() == both  # the pipeline's own defaults
    assert passes(stg_scale=0.0, modality_scale=1.0) == both  # the audio twins stay on
    off = dict(stg_scale=0.0, audio_stg_scale=0.0, modality_scale=1.0, audio_modality_scale=1.0)
    assert passes(**off) == []
    assert passes(**{**off, "stg_scale": 1.0}) == ["spatio-temporal guidance"]  # audio 0 -> video
    assert passes(**{**off, "audio_modality_scale": 2.0}) == ["modality isolation guidance"]


def _write_card(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"pipeline": "FooVideoPipeline"}, "unknown pipeline class 'FooVideoPipeline'"),
        ({"sampler.num_frames": 10}, "10 frames break the wan VAE rule"),
    ],
)
def test_bad_card_on_the_command_line_exits_2_with_one_line_and_writes_nothing(
    tmp_path: Path, change: dict, message: str
) -> None:
    card = _write_card(tmp_path / "mine.yaml", card_with("wan-tiny", **change))
    out = tmp_path / "out"
    result = run_cli(
        "--model", str(card), "--suite", "smoke", "--output-dir", str(out), cwd=tmp_path
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr
    assert "Traceback" not in result.stderr and not out.exists()


def test_repvideo_on_a_transformer_it_cannot_wrap_is_refused_before_loading(monkeypatch) -> None:
    from repvideo_eval.generation import preflight
    from repvideo_eval.repvideo import apply

    card = registry.card_from_dict(
        card_with("ltx-tiny", repvideo={"cache_window": 2, "gates": "fixed", "gate_value": 0.5})
    )
    monkeypatch.setattr(apply, "supported_classes", lambda: ["CogVideoXTransformer3DModel"])
    with pytest.raises(
        UserError,
        match="RepVideo cannot wrap LTXVideoTransformer3DModel.*Remove its repvideo block",
    ):
        preflight.check_model_can_run(card, "cpu")
    preflight.check_model_can_run(registry.load_card("repvideo-tiny"), "cpu")  # wrapped: fine


def test_hub_id_missing_from_the_offline_cache_names_the_download(monkeypatch, tmp_path) -> None:
    from repvideo_eval.generation import preflight

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    card = registry.load_card("wan2.1-1.3b")
    with pytest.raises(
        UserError,
        match=r"weights Wan-AI/Wan2.1-T2V-1.3B-Diffusers for wan2.1-1.3b .*huggingface-cli download Wan-AI/Wan2.1-T2V-1.3B-Diffusers.*--model wan-tiny",
    ):
        preflight.check_model_can_run(card, "cuda", cuda_available=True)


@pytest.fixture(scope="module")
def tiny_pipes():
    """One loaded pipeline per tiny twin (weights only: cheap), shared by the tests below."""
    from repvideo_eval.generation.pipelines import load_pipeline

    return {name: load_pipeline(registry.load_card(name), "cpu") for name in TINY_TWINS}


def _encoder_hooks(pipe) -> list[int]:
    calls: list[int] = []
    pipe.text_encoder.register_forward_hook(lambda *args: calls.append(1))
    return calls


@pytest.mark.parametrize("name", TINY_TWINS)
def test_each_prompt_and_the_negative_are_encoded_once_per_worker(tiny_pipes, name: str) -> None:
    from repvideo_eval.generation.family_calls import uses_negative_branch
    from repvideo_eval.generation.prompt_cache import PromptEmbeddings

    card = registry.load_card(name)
    pipe = tiny_pipes[name]
    calls = _encoder_hooks(pipe)
    embeddings = PromptEmbeddings(pipe, card.sampler, family=card.family)
    for prompt in ("a red car", "a blue boat", "a red car", "a red car"):
        encoded = embeddings.conditional_kwargs(prompt)
        if uses_negative_branch(card):
            negative = embeddings.negative_kwargs(encoded)
            assert set(negative) == {f"negative_{k}" for k in encoded}
    negative_encodes = int(uses_negative_branch(card) and not embeddings.zeroes_empty_negative)
    assert len(calls) == embeddings.encoder_calls == 2 + negative_encodes
    if card.family == "hunyuanvideo":  # pooled CLIP embedding and Llama mask travel together
        assert set(encoded) == {"prompt_embeds", "pooled_prompt_embeds", "prompt_attention_mask"}
    if card.family == "hunyuanvideo1.5":  # Qwen and ByT5 embeddings, each with its mask
        assert set(encoded) == {
            "prompt_embeds",
            "prompt_embeds_mask",
            "prompt_embeds_2",
            "prompt_embeds_mask_2",
        }


def test_ltx2_twin_keeps_the_video_and_records_the_audio_dropped(tiny_pipes) -> None:
    """LTX2Pipeline returns a soundtrack with the frames: the harness keeps the card's frames and
    says in the sampler trace (the sidecar's) that the audio was discarded. (The whole CLI run of
    this twin is slow-marked in test_families_end_to_end.py.)"""
    from repvideo_eval.generation.pipelines import sample_video

    card = registry.load_card("ltx2-tiny")
    frames, info = sample_video(tiny_pipes["ltx2-tiny"], card, "a red car", seed=3)
    s = card.sampler
    assert frames.shape == (s.num_frames, s.height, s.width, 3)
    assert 0.0 <= frames.min() < frames.max() <= 1.0
    assert info["audio"]["discarded"] is True
    channels, samples = info["audio"]["shape"]
    assert channels == tiny_pipes["ltx2-tiny"].vocoder.config.out_channels and samples > 0
    assert info["guidance_applied"] == [s.guidance_scale] * s.num_inference_steps
    assert info["uncond"] == "negative-prompt"


def test_hunyuanvideo15_twin_encodes_as_its_pipeline_does(tiny_pipes) -> None:
    """The offline chat template is cropped where the user's text starts (the system message is
    seen by the encoder, not kept), the card's text length holds, ByT5 encodes quoted text only,
    and the guider's scale is the card's."""
    from repvideo_eval.generation.family_calls import encode_text

    pipe = tiny_pipes["hunyuanvideo1.5-tiny"]
    card = registry.load_card("hunyuanvideo1.5-tiny")
    length = card.sampler.max_sequence_length
    assert pipe.guider.guidance_scale == card.sampler.guidance_scale != 6.5
    seen: list[int] = []
    pipe.text_encoder.register_forward_pre_hook(
        lambda module, args, kwargs: seen.append(kwargs["input_ids"].shape[1]), with_kwargs=True
    )
    plain = encode_text(pipe, card.family, "a car", length)
    crop = pipe.prompt_template_encode_start_idx
    system = pipe.tokenizer(pipe.system_message, add_special_tokens=False).input_ids
    assert seen == [crop + length] and crop > len(system)  # the system message went in
    kept = pipe.tokenizer("a car assistant", add_special_tokens=False).input_ids
    assert int(plain["prompt_embeds_mask"].sum()) == len(kept) < length  # cropped exactly
    assert plain["prompt_embeds"].shape[1] == length
    assert not plain["prompt_embeds_mask_2"].any() and not plain["prompt_embeds_2"].any()
    quoted = encode_text(pipe, card.family, 'a sign that reads "OPEN"', length)
    assert quoted["prompt_embeds_mask_2"].any() and quoted["prompt_embeds_2"].any()
    assert quoted["prompt_embeds_2"].shape[1] == pipe.tokenizer_2_max_length == 256
    changed = registry.card_from_dict(card_with(card.name, **{"sampler.guidance_scale": 6.5}))
    from repvideo_eval.generation.family_calls import apply_guider_scale

    apply_guider_scale(pipe, changed)
    assert type(pipe.guider).__name__ == "ClassifierFreeGuidance"
    assert pipe.guider.guidance_scale == 6.5 and pipe.guider.num_conditions == 2
    # at or below 1 no pipeline runs a negative branch: the guider is off (0.5 would run one)
    apply_guider_scale(
        pipe, registry.card_from_dict(card_with(card.name, **{"sampler.guidance_scale": 0.5}))
    )
    assert pipe.guider.num_conditions == 1
    apply_guider_scale(pipe, card)


def test_generic_hub_form_loads_a_saved_pipeline_folder_like_its_twin(tiny_pipes, tmp_path) -> None:
    """The hub path of a non-CogVideoX family: a diffusers folder named by `weights:`, the
    pipeline class from the card, a component override applied by from_pretrained."""
    from repvideo_eval.generation.pipelines import load_pipeline, sample_video

    tiny_pipes["ltx-tiny"].save_pretrained(tmp_path / "ltx")
    twin = registry.load_card("ltx-tiny")
    card = registry.card_from_dict(
        card_with("ltx-tiny", source="hub", tiny_seed=None, weights=str(tmp_path / "ltx"))
    )
    a, _ = sample_video(load_pipeline(card, "cpu"), card, "a red car", seed=3)
    b, _ = sample_video(tiny_pipes["ltx-tiny"], twin, "a red car", seed=3)
    np.testing.assert_array_equal(a, b)
    override = registry.card_from_dict(
        {**card.to_dict(), "components": {"transformer": {"norm_eps": 1.0e-3}}}
    )
    pipe = load_pipeline(override, "cpu")
    assert pipe.transformer.config.norm_eps == 1.0e-3


def test_every_card_round_trips_through_its_dict_with_the_same_hash() -> None:
    """Workers rebuild the card from `to_dict()` and compare hashes with the work items."""
    for name in registry.list_models():
        card = registry.load_card(name)
        again = registry.card_from_dict(card.to_dict())
        assert again == card and again.card_hash == card.card_hash, name
    ltx = registry.load_card("ltx-video")
    assert dict(ltx.sampler.pipeline_kwargs) == {
        "decode_timestep": 0.03,
        "decode_noise_scale": 0.025,
    }
    assert ltx.generation_dict()["sampler"]["pipeline_kwargs"]["decode_timestep"] == 0.03


def test_wan_2_2_twins_have_their_real_structure(tiny_pipes) -> None:
    """A14B: two experts split at boundary 0.875; TI2V-5B: one expert, per-token timesteps."""
    a14b, ti2v = tiny_pipes["wan2.2-a14b-tiny"], tiny_pipes["wan2.2-tiny"]
    assert a14b.transformer_2 is not None and a14b.config.boundary_ratio == 0.875
    assert ti2v.transformer_2 is None and ti2v.config.expand_timesteps is True
    assert ti2v.vae.config.z_dim == 48 and ti2v.vae_scale_factor_spatial == 16
