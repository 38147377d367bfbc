"""The GRiT port against vbench's detectron2 GRiT, live, in the grit-check venv (`-m grit`).

Both load the same checkpoint file, written from the golden recipe (grit_recipe.py: live text
decoder, several boxes, multi-token captions with `##` wordpieces):
  * on the golden frames, in both task modes: texts, ObjectDet texts, integer boxes and token
    ids equal, float boxes and scores within 1e-5, and vbench's live output still equal to
    golden_grit_b.json (so the file that CI checks against is current);
  * (vbench's four dimension loops on the port against vbench's answers run without detectron2,
    from the golden file: test_grit_torch_dimensions.py.)
Skipped without detectron2 (and `make test` deselects `slow`).
"""

from __future__ import annotations

import hashlib

import pytest
import torch

from .golden import GOLDEN, TASKS, TOLERANCE, assert_port_answers
from .grit_checkpoint import offline_bert_tokenizer
from .grit_frames import golden_frames
from .grit_recipe import Recipe, seeded_grit_state_dict

pytestmark = [pytest.mark.grit, pytest.mark.slow]


@pytest.fixture(autouse=True, scope="module")
def _needs_detectron2() -> None:
    pytest.importorskip(
        "detectron2",
        reason="detectron2 is not installed (not on PyPI): run `make grit-check DETECTRON2_SRC=...`",
    )


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """(checkpoint path, tokenizer, port), with BERT's tokenizer redirected offline."""
    from transformers import BertTokenizer

    from repvideo_eval.scoring.detection.grit_torch import GritTorch

    folder = tmp_path_factory.mktemp("grit-golden")
    with offline_bert_tokenizer(folder / "bert"):
        tokenizer = BertTokenizer.from_pretrained("bert-base-uncased", do_lower_case=True)
        state = seeded_grit_state_dict(Recipe.from_json(GOLDEN["recipe"]), tokenizer)
        path = folder / "grit_model" / "grit_b_densecap_objectdet.pth"
        path.parent.mkdir()
        torch.save({"model": state, "iteration": 0}, path)
        del state
        port = GritTorch.from_checkpoint(path, tokenizer)
        yield path, tokenizer, port


@pytest.mark.parametrize("task", TASKS)
def test_port_equals_detectron2_and_the_golden_file(setup, task):
    from .grit_reference import ReferenceGrit

    path, tokenizer, port = setup
    reference = ReferenceGrit(str(path), task)
    end = tokenizer.sep_token_id
    for name, frame in golden_frames().items():
        want, _ = reference.run(frame)
        got = port.detect(frame, task=task)
        where = f"{name}/{task}"
        golden = GOLDEN["frames"][name]
        assert hashlib.sha256(frame.tobytes()).hexdigest() == golden["sha256"], where
        if task in golden:
            for key in ("texts", "object_texts", "int_boxes", "token_ids", "object_token_ids"):
                assert want[key] == golden[task][key], (
                    f"{where}: vbench differs from the golden {key}"
                )
            torch.testing.assert_close(
                torch.tensor(want["boxes"]).reshape(-1, 4),
                torch.tensor(golden[task]["boxes"]).reshape(-1, 4),
                rtol=TOLERANCE,
                atol=TOLERANCE,
            )
        assert_port_answers(got, want, end, where)
