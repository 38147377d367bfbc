"""Build the scene parity fixture: a random Tag2Text checkpoint in the official format and an
offline `bert-base-uncased` stand-in for both venvs.

    python tests/scoring_scene/build_scene_fixture.py CACHE_DIR

Writes, under CACHE_DIR:
* `caption_model/tag2text_swin_14m.pth`: `{"model": state_dict}` of vbench's Tag2Text_Caption
  (Swin-B/384 as vbench configures it, the tagging head from `q2l_config.json`) with the BERT
  tag encoder / caption decoder cut to 2 layers (`med_config_2layer.json`, passed to vbench's own
  `Tag2Text_Caption(med_config=...)`), random weights, seeded. Some weights are scaled so that
  tags and captions depend on the frame (see `_make_frame_dependent`).
* `med_config_2layer.json`: vbench's `med_config.json` with `num_hidden_layers: 2`.
* `bert-standin/`: config.json, tokenizer_config.json, vocab.txt (our side).
* `hf_home/hub/models--bert-base-uncased/...`: the same files in the Hugging Face cache layout
  plus a small `pytorch_model.bin`, for vbench's `from_pretrained("bert-base-uncased")` calls in
  the reference venv (`HF_HOME=<this>`, `HF_HUB_OFFLINE=1`).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import torch

DONE_MARKER = ".scene-fixture-ready"
SEED = 1234
SNAPSHOT = "0" * 40


def reference_configs():
    from repvideo_eval.scoring.semantic_models.tag2text import official_configs

    configs = official_configs()
    configs["med"].num_hidden_layers = 2
    return configs


def _make_frame_dependent(model: torch.nn.Module, generator: torch.Generator) -> None:
    """Random init gives one tag set and one caption for every frame; sharpen what depends on the image.

    * tag logits: `fc.W` x30 and `fc.b` uniform in [-1, 1], so the (first) tags change with the frame;
    * the caption decoder's cross-attention output x6, so the tag embedding moves the next token;
    * +4 on the LM bias of [SEP], so beams end (eos hypotheses, early stop) after min_length.
    """
    with torch.no_grad():
        model.fc.W.mul_(30.0)
        model.fc.b.copy_(torch.rand(model.fc.b.shape, generator=generator) * 2.0 - 1.0)
        for layer in model.text_decoder.bert.encoder.layer:
            layer.crossattention.output.dense.weight.mul_(6.0)
        model.text_decoder.cls.predictions.bias[model.tokenizer.sep_token_id] += 4.0


def build(cache: Path) -> None:
    from repvideo_eval.scoring.semantic_models.tag2text import (
        build_tag2text,
        init_tokenizer,
        write_bert_standin,
    )

    cache.mkdir(parents=True, exist_ok=True)
    standin = write_bert_standin(cache / "bert-standin")
    configs = reference_configs()
    med = json.loads(
        (
            Path(__import__("vbench").__file__).parent
            / "third_party"
            / "tag2Text"
            / "med_config.json"
        ).read_text()
    )
    med["num_hidden_layers"] = 2
    (cache / "med_config_2layer.json").write_text(json.dumps(med, indent=1))

    snapshot = cache / "hf_home" / "hub" / "models--bert-base-uncased" / "snapshots" / SNAPSHOT
    snapshot.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "tokenizer_config.json", "vocab.txt"):
        shutil.copyfile(standin / name, snapshot / name)
    # BertModel.from_pretrained needs a weight file; its values are replaced by the checkpoint.
    torch.save(
        {
            "embeddings.LayerNorm.weight": torch.ones(768),
            "embeddings.LayerNorm.bias": torch.zeros(768),
        },
        snapshot / "pytorch_model.bin",
    )
    refs = snapshot.parents[1] / "refs"
    refs.mkdir(parents=True, exist_ok=True)
    (refs / "main").write_text(SNAPSHOT)

    torch.manual_seed(SEED)
    model = build_tag2text(init_tokenizer(standin), configs)
    _make_frame_dependent(model, torch.Generator().manual_seed(SEED))
    target = cache / "caption_model" / "tag2text_swin_14m.pth"
    target.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": model.state_dict()}, target)
    (cache / DONE_MARKER).write_text("ok\n")


if __name__ == "__main__":
    build(Path(sys.argv[1]))
