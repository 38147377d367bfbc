"""vbench2_beta_long's --dev_flag fast-video scorers on random weights (reference side, own process).

    python vbench_long_fast_reference.py VIDEOS_JSON OUT_JSON tiny|full

Runs `subject_consistency_dinov2` and `background_consistency_dreamsim` unchanged. HOME and
TORCH_HOME point at a cache built by `fast_models_fixture.build_fast_cache`:

* DreamSim: `dreamsim(pretrained=True, cache_dir=os.path.expanduser("~/.cache"))`, i.e. dreamsim's
  own loader (zip check, `load_clip_as_dino`, `load_open_clip_as_dino`, PerceptualModel, peft
  `PeftModel.from_pretrained`). Its one network access, `torch.hub.load('facebookresearch/dino:main',
  'dino_vitb16')`, is answered by an offline stand-in that does what DINO's hubconf does (build
  a ViT-B/16, load `<hub dir>/checkpoints/dino_vitbase16_pretrain.pth` strictly); the ViT is the
  project's `DinoViT` (checked against vbench's DINO elsewhere), or dreamsim's tiny ViT in tiny mode.
* DINOv2: the facebookresearch/dinov2 hub code when a snapshot is given in $DINOV2_HUB_CODE
  (a folder holding `dinov2/`), else the project's `Dinov2ViT`; weights from torch hub's cache.
"""

from __future__ import annotations

import json
import os
import sys
import types
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def _stub(name: str, **attrs: object) -> None:
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    sys.modules.setdefault(name, module)


try:
    import scenedetect  # noqa: F401
except ImportError:
    _stub("scenedetect", open_video=None, SceneManager=None, split_video_ffmpeg=None)
    _stub("scenedetect.detectors", ContentDetector=None)
    _stub("scenedetect.video_splitter", split_video_ffmpeg=None)
_stub("moviepy")
_stub("moviepy.editor", VideoFileClip=None)

import torch  # noqa: E402
import torchvision.io  # noqa: E402

torchvision.io.write_video = lambda *a, **k: (
    None
)  # removed in torchvision 0.29; only imported by name here

from fast_models_fixture import TINY_DINOV2, tiny_vit_b16  # noqa: E402


def main(videos_json: str, out_json: str, size: str) -> None:
    tiny = size == "tiny"
    videos = json.loads(Path(videos_json).read_text())

    def hub_load(repo_or_dir, model, *args, **kwargs):
        if not (str(repo_or_dir).startswith("facebookresearch/dino:") and model == "dino_vitb16"):
            raise RuntimeError(
                f"offline reference: unexpected torch.hub.load({repo_or_dir!r}, {model!r})"
            )
        from repvideo_eval.scoring.models.dino_vit import DinoViT

        net = tiny_vit_b16() if tiny else DinoViT()
        state = torch.load(
            Path(torch.hub.get_dir()) / "checkpoints" / "dino_vitbase16_pretrain.pth",
            map_location="cpu",
            weights_only=True,
        )
        net.load_state_dict(state, strict=True)
        return net

    torch.hub.load = hub_load
    if (
        tiny
    ):  # dreamsim builds its CLIP/OpenCLIP-as-DINO ViTs with vit_base; shrink them like the fixture
        import dreamsim.feature_extraction.load_clip_as_dino as lc
        import dreamsim.feature_extraction.load_open_clip_as_dino as loc

        lc.vit_base = tiny_vit_b16
        loc.vit_base = tiny_vit_b16
    from dreamsim import dreamsim
    from vbench2_beta_long.background_consistency import background_consistency_dreamsim
    from vbench2_beta_long.subject_consistency import subject_consistency_dinov2

    model, preprocess = dreamsim(
        pretrained=True, cache_dir=os.path.expanduser("~/.cache"), device="cpu"
    )
    _, background = background_consistency_dreamsim(model, preprocess, videos, "cpu", False)

    hub_code = os.environ.get("DINOV2_HUB_CODE")
    if hub_code and Path(hub_code, "dinov2").is_dir():
        os.environ.setdefault("XFORMERS_DISABLED", "1")
        sys.path.insert(0, hub_code)
        from fast_models_fixture import hub_dinov2_vitb14

        dinov2 = hub_dinov2_vitb14(TINY_DINOV2 if tiny else {})
        impl = "facebookresearch/dinov2 hub code"
    else:
        from repvideo_eval.scoring.models.dinov2 import Dinov2ViT

        dinov2 = Dinov2ViT(**(TINY_DINOV2 if tiny else {}))
        impl = "repvideo_eval Dinov2ViT"
    state = torch.load(
        Path(os.environ["TORCH_HOME"]) / "hub" / "checkpoints" / "dinov2_vitb14_pretrain.pth",
        map_location="cpu",
        weights_only=True,
    )
    dinov2.load_state_dict(state, strict=True)
    dinov2.eval()
    _, subject = subject_consistency_dinov2(dinov2, videos, "cpu", False)
    out = {
        "dinov2_impl": impl,
        "subject_consistency": {r["video_path"]: r["video_results"] for r in subject},
        "background_consistency": {r["video_path"]: r["video_results"] for r in background},
    }
    Path(out_json).write_text(json.dumps(out))


if __name__ == "__main__":
    main(*sys.argv[1:4])
