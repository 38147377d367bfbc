"""Fixtures shared by the golden tests: the offline tokenizer and the port on the golden weights
(built once per session: the GRiT-B weights take tens of seconds to rebuild), and its answers
memoised per frame and task (the golden and the dimension tests ask about the same frames; a
40-token caption costs seconds to decode)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def golden_tokenizer(tmp_path_factory):
    from transformers import BertTokenizer

    from repvideo_eval.scoring.semantic_models.tag2text import write_bert_standin

    return BertTokenizer.from_pretrained(str(write_bert_standin(tmp_path_factory.mktemp("bert"))))


@pytest.fixture(scope="session")
def golden_port(golden_tokenizer):
    """GritTorch on the golden recipe's weights, rebuilt in memory (digest checked)."""
    from repvideo_eval.scoring.detection.grit_torch import GritTorch

    from .golden import GOLDEN
    from .grit_recipe import Recipe, seeded_grit_state_dict, state_dict_digest

    state = seeded_grit_state_dict(Recipe.from_json(GOLDEN["recipe"]), golden_tokenizer)
    assert state_dict_digest(state) == GOLDEN["weights_digest"], (
        "the recipe no longer rebuilds the golden weights"
    )
    return GritTorch.from_state_dict(state, golden_tokenizer)


@pytest.fixture(scope="session")
def golden_detect(golden_port):
    """`golden_port.detect(frame, task)`, computed once per (frame pixels, task)."""
    import hashlib

    import numpy as np

    answers: dict = {}

    def detect(frame, task: str):
        array = np.ascontiguousarray(np.asarray(frame)).astype(np.uint8)
        key = (task, hashlib.sha256(array.tobytes()).hexdigest())
        if key not in answers:
            answers[key] = golden_port.detect(array, task=task)
        return answers[key]

    return detect
