"""The probes during real tiny-pipeline sampling: same video, conditional branch, step labels."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from repvideo_eval import registry
from repvideo_eval.analysis.branch import conditional_row
from repvideo_eval.analysis.probes import RepresentationProbe
from repvideo_eval.generation.pipelines import load_pipeline, sample_video


@pytest.fixture(scope="module")
def rep_pipe():
    card = registry.load_card("repvideo-tiny")
    return card, load_pipeline(card, "cpu")


def test_sampled_frames_are_identical_with_and_without_probes(rep_pipe) -> None:
    card, pipe = rep_pipe
    steps = set(
        range(1, card.sampler.num_inference_steps + 1)
    )  # probe every step, attention included
    plain, _ = sample_video(pipe, card, "a red car driving down a road", seed=5)
    with RepresentationProbe(pipe.transformer, steps, guided=True, query_frame=1) as probe:
        probed, _ = sample_video(pipe, card, "a red car driving down a road", seed=5)
    assert probe.captures.attentions, "the probes did run"
    np.testing.assert_array_equal(plain, probed)


def test_diffusers_batches_uncond_first_and_the_probe_reads_the_cond_row(rep_pipe) -> None:
    # sample_video's unconditional branch uses zeroed text embeddings: row 0 of every guided
    # transformer call must be all zeros and row 1 the prompt, so conditional_row(2, True) == 1.
    card, pipe = rep_pipe
    text_rows: list[torch.Tensor] = []
    handle = pipe.transformer.register_forward_pre_hook(
        lambda m, a, kw: text_rows.append(kw["encoder_hidden_states"].detach().clone()),
        with_kwargs=True,
    )
    try:
        with RepresentationProbe(pipe.transformer, {1}, guided=True) as probe:
            sample_video(pipe, card, "a bicycle and a car", seed=1)
    finally:
        handle.remove()
    assert len(text_rows) == card.sampler.num_inference_steps
    for text in text_rows:
        assert text.shape[0] == 2
        assert torch.count_nonzero(text[0]) == 0 and torch.count_nonzero(text[1]) > 0
    assert conditional_row(2, guided=True) == 1 and probe.branch_row == 1


def test_step_labels_follow_the_scheduler(rep_pipe) -> None:
    card, pipe = rep_pipe
    with RepresentationProbe(pipe.transformer, {2}, guided=True, attention=False) as probe:
        sample_video(pipe, card, "waves crashing on rocks", seed=2)
    assert probe.captures.calls == card.sampler.num_inference_steps
    assert probe.captures.timesteps == {2: float(pipe.scheduler.timesteps[1])}
    assert {c.step for c in probe.captures.similarities} == {2}


def test_conditional_row_rules() -> None:
    assert conditional_row(4, guided=True) == 2
    assert conditional_row(1, guided=False) == 0
    with pytest.raises(ValueError):
        conditional_row(3, guided=True)
