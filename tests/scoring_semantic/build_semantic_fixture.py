"""Build the semantic dimensions' offline parity cache: random weights in vbench's official formats.

Run as a script (a subprocess, so the ~3 GB of tensors never live in the pytest process):
    python tests/scoring_semantic/build_semantic_fixture.py CACHE_DIR
Built with the quality dimensions' fixture helpers (per-file seeds,
`perturb_constants`, fp16 TorchScript CLIP) from tests/scoring/build_vbench_fixture.py.

* clip_model/ViT-B-32.pt: TorchScript, all fp16, logit_scale = ln(100) (appearance_style).
* ViCLIP/ViClip-InternVid-10M-FLT.pth = {'model': ViCLIP state_dict} with the three `torch.empty`
  parameters initialised; ViCLIP/bpe_simple_vocab_16e6.txt.gz copied from the openai-clip wheel
  *before* vbench's ViCLIP modules are imported (they shell out to wget otherwise).
* umt_model/l16_ptk710_ftk710_ftk400_f16_res224.pth: a plain fp16 state_dict of UMT ViT-L/16
  (vbench loads it with `load_state_dict(strict=False)` straight from `torch.load`, so a plain
  state dict is the only layout it can use; fp16 like the 607 MB release). The head bias of the
  class "riding a bike" is raised so that class is confidently top-1 and the "correct" branch runs.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for the fixture helpers
from scoring.build_vbench_fixture import build_clip, perturb_constants, seed_for  # noqa: E402

FIXTURE_VERSION = "1"
DONE_MARKER = f".semantic-fixture-complete-v{FIXTURE_VERSION}"
CONFIDENT_ACTION = "riding a bike"


def copy_bpe(cache: Path) -> None:
    import clip

    target = cache / "ViCLIP" / "bpe_simple_vocab_16e6.txt.gz"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(Path(clip.__file__).parent / "bpe_simple_vocab_16e6.txt.gz", target)


def build_viclip(cache: Path) -> None:
    from vbench.third_party.ViCLIP.simple_tokenizer import SimpleTokenizer
    from vbench.third_party.ViCLIP.viclip import ViCLIP

    torch.manual_seed(seed_for("viclip"))
    model = ViCLIP(
        tokenizer=SimpleTokenizer(str(cache / "ViCLIP" / "bpe_simple_vocab_16e6.txt.gz")),
        pretrain=None,
    )
    with torch.no_grad():
        model.vision_encoder.proj.normal_(std=1024**-0.5)
        model.text_encoder.text_projection.normal_(std=768**-0.5)
        model.text_encoder.positional_embedding.normal_(std=0.01)
    perturb_constants(model, seed_for("viclip"))
    torch.save({"model": model.state_dict()}, cache / "ViCLIP" / "ViClip-InternVid-10M-FLT.pth")


def build_umt(cache: Path) -> None:
    from repvideo_eval.scoring.semantic_models.umt import build_umt as build
    from repvideo_eval.scoring.semantic_models.umt import kinetics_categories

    torch.manual_seed(seed_for("umt"))
    model = build(tiny=False)
    perturb_constants(model, seed_for("umt"))
    index = {name: i for i, name in kinetics_categories().items()}[CONFIDENT_ACTION]
    with torch.no_grad():
        model.head.weight.mul_(
            50.0
        )  # spread the logits: init_scale=0.001 leaves every sigmoid at 0.5
        model.head.bias[index] += 6.0
    target = cache / "umt_model" / "l16_ptk710_ftk710_ftk400_f16_res224.pth"
    target.parent.mkdir(parents=True, exist_ok=True)
    torch.save({k: v.half() for k, v in model.state_dict().items()}, target)


def build_all(cache: Path) -> None:
    cache.mkdir(parents=True, exist_ok=True)
    if (cache / DONE_MARKER).exists():
        return
    os.environ["VBENCH_CACHE_DIR"] = str(cache)
    copy_bpe(cache)  # before any vbench ViCLIP import
    build_clip(cache, "ViT-B-32.pt", (512, 224, 12, 768, 32, 77, 49408, 512, 8, 12))
    build_viclip(cache)
    build_umt(cache)
    (cache / DONE_MARKER).write_text("ok\n")


if __name__ == "__main__":
    build_all(Path(sys.argv[1]))
