"""benchmarks/gpu_check.py runs on this CPU, so its first GPU run is not its first run."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "gpu_check.py"


def _gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_check"] = module
    spec.loader.exec_module(module)
    return module


def _report(folder: Path) -> str:
    (report,) = folder.glob("gpu-check-*.md")
    return report.read_text()


def test_harness_section_writes_a_report(tmp_path: Path) -> None:
    code = _gpu_check().main(
        ["--device", "cpu", "--sections", "harness", "--rounds", "1", "--out", str(tmp_path)]
    )
    text = _report(tmp_path)
    assert code == 0, text
    assert "## Harness vs a bare diffusers pipeline call" in text
    assert "| cogvideox-tiny | 2 | 1 |" in text and '"harness_over_bare"' in text
    assert "FAILED" not in text


def test_a_failing_section_is_reported_and_sets_the_exit_code(tmp_path: Path, monkeypatch) -> None:
    module = _gpu_check()

    def broken(ctx):
        raise RuntimeError("boom")

    sections = tuple((k, t, broken if k == "tiny" else f) for k, t, f in module.SECTIONS)
    monkeypatch.setattr(module, "SECTIONS", sections)
    code = module.main(["--device", "cpu", "--sections", "tiny,memory", "--out", str(tmp_path)])
    text = _report(tmp_path)
    assert code == 1
    assert "FAILED" in text and "boom" in text
    assert "skipped: needs the full-size pipeline" in text


@pytest.mark.slow
def test_make_gpu_check_cpu_runs_every_section(tmp_path: Path) -> None:
    """What `make gpu-check-cpu` runs (scoring kept to one small video)."""
    code = _gpu_check().main(
        ["--device", "cpu", "--out", str(tmp_path), "--scoring-args"]
        + ["--videos 1 --frames 8 --dimensions subject_consistency"]
    )
    text = _report(tmp_path)
    assert code == 0, text
    for title in ("Tiny twins", "eager", "compiled", "Harness", "Peak memory", "Scoring"):
        assert "## " in text and title in text
    assert "skipped" not in text.split("## Peak memory")[0]


def test_the_cpu_dtype_is_the_fastest_of_the_probe_and_the_report_says_it(
    tmp_path: Path, monkeypatch
) -> None:
    """On a CPU without fp16 arithmetic float16 is ~50x slower: the check must not use it."""
    module = _gpu_check()
    probe = {"float32": 0.014, "bfloat16": 0.004, "float16": 0.2}
    monkeypatch.setattr(module, "probe_cpu_dtypes", lambda: probe)
    code = module.main(["--device", "cpu", "--sections", "", "--out", str(tmp_path)])
    text = _report(tmp_path)
    assert code == 0, text
    assert "CPU dtype: **bfloat16** (chosen by the probe" in text
    assert '"used": "bfloat16"' in text
    card = module.sized_card("cogvideox-2b-random", module.SIZES["small"], "cpu", "bfloat16")
    assert card.dtype == "bfloat16" and module.registry.load_card(card.name).dtype == "float16"


def test_fastest_dtype_and_an_explicit_cpu_dtype(tmp_path: Path, monkeypatch) -> None:
    module = _gpu_check()
    assert module.fastest_dtype({"float32": 0.01, "bfloat16": 0.02, "float16": 0.5}) == "float32"
    assert module.fastest_dtype({"float32": 0.3, "bfloat16": 0.2, "float16": 0.1}) == "float16"
    assert module.fastest_dtype({"float32": 0.1, "bfloat16": 0.1, "float16": 0.1}) == "float32"
    # Level within the noise margin: float32 stays (a noisy probe must not swap it).
    assert module.fastest_dtype({"float32": 0.1, "bfloat16": 0.085, "float16": 0.5}) == "float32"
    assert module.fastest_dtype({"float32": 0.1, "bfloat16": 0.08, "float16": 0.5}) == "bfloat16"
    timings = module.probe_cpu_dtypes(repeats=1)  # the real probe runs on this CPU
    assert set(timings) == {"float32", "bfloat16", "float16"} and min(timings.values()) > 0

    monkeypatch.setattr(module, "probe_cpu_dtypes", lambda: timings)
    args = ["--device", "cpu", "--sections", "", "--cpu-dtype", "float32", "--out", str(tmp_path)]
    assert module.main(args) == 0
    assert "CPU dtype: **float32** (set by --cpu-dtype" in _report(tmp_path)


def test_the_probe_reports_the_median_round_per_dtype(monkeypatch) -> None:
    """The dtypes take turns in each round, and the median round counts: one stalled round (a
    neighbour's burst of load) does not decide the dtype."""
    module = _gpu_check()
    # Rounds take the dtypes in turn; in the second round float32 stalls for 100 s.
    durations = iter([1.0, 2.0, 3.0, 100.0, 2.0, 3.0, 1.0, 2.0, 3.0])
    readings: list[float] = []

    def fake_clock() -> float:  # even calls start a measurement, odd calls end it
        readings.append(0.0 if len(readings) % 2 == 0 else next(durations))
        return readings[-1]

    monkeypatch.setattr(module.time, "perf_counter", fake_clock)
    timings = module.probe_cpu_dtypes(repeats=3)
    assert timings == {"float32": 1.0, "bfloat16": 2.0, "float16": 3.0}
    assert module.fastest_dtype(timings) == "float32"


def test_an_unknown_family_is_one_line_and_exit_2(tmp_path: Path, capsys) -> None:
    code = _gpu_check().main(["--device", "cpu", "--families", "sora", "--out", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "unknown families sora" in err and "wan2.1-t2v-1.3b" in err
    assert not list(tmp_path.iterdir())


def test_every_shipped_architecture_has_a_family_video() -> None:
    from repvideo_eval.generation.random_twins import architecture_names

    module = _gpu_check()
    assert set(module.FAMILY_ARCHITECTURES) <= set(architecture_names())
    assert set(architecture_names()) - set(module.FAMILY_ARCHITECTURES) == {"cogvideox-5b"}
    assert module.parse_families("all") == list(module.FAMILY_ARCHITECTURES)
    for architecture in module.FAMILY_ARCHITECTURES:
        assert module.random_card_of(architecture)


def test_each_family_video_is_the_real_cards_sampler() -> None:
    """--families measures each family at its real card's video, steps and guidance batch, read
    from the random twin card (e.g. Mochi's 163 frames, HunyuanVideo's batch of 1)."""
    module = _gpu_check()
    for real_name in (
        "mochi-1",
        "hunyuanvideo",
        "hunyuanvideo1.5",
        "wan2.2-a14b",
        "cogvideox1.5-5b",
        "ltx-2",
    ):
        real = module.registry.load_card(real_name)
        twin = module.registry.load_card(f"{real_name}-random")
        architecture = twin.hub_id.removeprefix("random:")
        frames, height, width, steps, cfg, source = module.family_video(architecture)
        s = real.sampler
        assert (frames, height, width, steps) == (
            s.num_frames,
            s.height,
            s.width,
            s.num_inference_steps,
        )
        assert cfg is (real.family != "hunyuanvideo")  # embedded guidance: no negative branch
        assert source == f"card {twin.name}"


def test_the_families_section_measures_one_family_at_small_size(tmp_path: Path) -> None:
    """LTX-Video at full widths, one block, a (2, 2, 2) latent: step, decode, weights row."""
    code = _gpu_check().main(
        ["--device", "cpu", "--sections", "", "--families", "ltx-video", "--cpu-dtype", "bfloat16"]
        + ["--out", str(tmp_path)]
    )
    text = _report(tmp_path)
    assert code == 0, text
    assert "## Every family: seconds per video and peak memory" in text
    row = next(line for line in text.splitlines() if line.startswith("| ltx-video |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[2] == "(2, 2, 2)" and cells[3] == "2"  # CFG batch
    assert float(cells[4]) > 0 and float(cells[5]) > 0
    assert float(cells[7]) == pytest.approx(13.23, abs=0.01)  # 2B + VAE + T5-XXL in bf16/fp16
    assert "FAILED" not in text


def test_ltx2_step_inputs_carry_the_audio_stream() -> None:
    """LTX-2's step denoises the audio latents with the video: the card's 126 audio frames at
    full size (121 frames at 24 fps), the small count on a CPU, both text streams."""
    from repvideo_eval.generation.random_twins import build_empty_component

    module = _gpu_check()
    transformer = build_empty_component("ltx-2", "transformer", {"num_layers": 1})
    full = module.denoiser_inputs(transformer, 2, (16, 16, 24), torch.bfloat16, "meta")
    assert full["audio_hidden_states"].shape == (2, 126, 128)
    assert full["encoder_hidden_states"].shape == full["audio_encoder_hidden_states"].shape
    assert full["encoder_hidden_states"].shape == (2, 1024, 3840)
    assert full["hidden_states"].shape == (2, 16 * 16 * 24, 128)
    small = module.denoiser_inputs(transformer, 1, (2, 2, 2), torch.bfloat16, "meta", 16, 4)
    assert small["audio_hidden_states"].shape == (1, 4, 128) and small["audio_num_frames"] == 4
    real = module.registry.load_card("ltx-2").sampler
    audio_per_second = 16000 / 160 / 4  # the transformer's audio rate (architecture file)
    assert module.AUDIO_TOKENS["LTX2VideoTransformer3DModel"] == round(
        real.num_frames / real.fps * audio_per_second
    )


@pytest.mark.slow
def test_every_family_runs_at_small_size(tmp_path: Path) -> None:
    """What `make gpu-check-cpu` adds: every family's transformer step and VAE decode."""
    code = _gpu_check().main(
        ["--device", "cpu", "--sections", "", "--families", "all", "--out", str(tmp_path)]
    )
    text = _report(tmp_path)
    assert code == 0, text
    module = _gpu_check()
    for architecture in module.FAMILY_ARCHITECTURES:
        assert f"| {architecture} | small" in text


def test_latent_geometry_of_every_family_vae() -> None:
    """(channels, temporal, spatial) from each VAE's config or own attributes (meta builds)."""
    from repvideo_eval.generation.random_twins import build_empty_component

    module = _gpu_check()
    expected = {
        "cogvideox1.5-5b": (16, 4, 8),
        "hunyuanvideo": (16, 4, 8),
        "hunyuanvideo1.5-480p-t2v": (32, 4, 16),
        "ltx-video": (128, 8, 32),
        "ltx-2": (128, 8, 32),
        "mochi-1": (12, 6, 8),
        "wan2.1-t2v-1.3b": (16, 4, 8),
        "wan2.2-ti2v-5b": (48, 4, 16),
    }
    for name, geometry in expected.items():
        assert module.latent_geometry(build_empty_component(name, "vae")) == geometry, name
