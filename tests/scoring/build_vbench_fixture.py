"""Build the offline parity fixture: random weights in vbench's official formats and names.

Run as a script (a subprocess, so the ~3 GB of tensors never live in the pytest process):
    python tests/scoring/build_vbench_fixture.py CACHE_DIR
Follows /work/shared/reference/vbench-parity-fixtures.md: every model is built from the installed
architecture code under a per-file seed, constant-initialised tensors are perturbed (so dropping
a LayerNorm bias or a BN statistic would show), CLIP files are fp16 TorchScript archives.
"""

from __future__ import annotations

import math
import os
import sys
import zlib
from pathlib import Path

import torch

FIXTURE_VERSION = "1"
DONE_MARKER = f".fixture-complete-v{FIXTURE_VERSION}"


def seed_for(name: str) -> int:
    return 1234 + zlib.crc32(name.encode())


def perturb_constants(module: torch.nn.Module, seed: int) -> None:
    """Give random values to every multi-element float tensor initialised to a constant."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in list(module.state_dict(keep_vars=True).items()):
            data = tensor.data if isinstance(tensor, torch.nn.Parameter) else tensor
            if not data.is_floating_point() or data.numel() < 2:
                continue
            flat = data.reshape(-1)
            if not bool((flat == flat[0]).all()):
                continue
            noise = torch.randn(data.shape, generator=gen)
            if name.endswith("running_var"):
                data.copy_(0.5 + torch.rand(data.shape, generator=gen))
            elif float(flat[0]) == 0.0:
                data.copy_(0.05 * noise)
            else:
                data.copy_(data * (1.0 + 0.1 * noise))


def build_dino(cache: Path) -> None:
    import timm

    torch.manual_seed(seed_for("dino"))
    model = timm.models.vision_transformer.VisionTransformer(
        patch_size=16,
        embed_dim=768,
        depth=12,
        num_heads=12,
        qkv_bias=True,
        num_classes=0,
        global_pool="token",
    )
    perturb_constants(model, seed_for("dino"))
    target = cache / "dino_model" / "dino_vitbase16_pretrain.pth"
    target.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), target)


def build_clip(cache: Path, file_name: str, args: tuple) -> None:
    from clip.model import CLIP

    torch.manual_seed(seed_for(file_name))
    model = CLIP(*args).eval()
    perturb_constants(model, seed_for(file_name))
    with torch.no_grad():
        model.logit_scale.fill_(math.log(100.0))
    resolution = args[1]
    image = torch.randn(1, 3, resolution, resolution)
    tokens = torch.randint(0, 49408, (1, 77))
    traced = torch.jit.trace(model, (image, tokens), check_trace=False).half()
    target = cache / "clip_model" / file_name
    target.parent.mkdir(parents=True, exist_ok=True)
    torch.jit.save(traced, str(target))


def build_aesthetic_head(cache: Path) -> None:
    torch.manual_seed(seed_for("aesthetic"))
    head = torch.nn.Linear(768, 1)
    with torch.no_grad():
        head.weight.mul_(8.0)  # spread the outputs so the /10 and the mean matter
        head.bias.fill_(4.5)
    target = cache / "aesthetic_model" / "emb_reader" / "sa_0_4_vit_l_14_linear.pth"
    target.parent.mkdir(parents=True, exist_ok=True)
    torch.save(head.state_dict(), target)


def build_amt(cache: Path) -> None:
    import vbench
    from omegaconf import OmegaConf
    from vbench.third_party.amt.utils.build_utils import build_from_cfg

    cfg = Path(vbench.__file__).parent / "third_party" / "amt" / "cfgs" / "AMT-S.yaml"
    torch.manual_seed(seed_for("amt"))
    model = build_from_cfg(OmegaConf.load(cfg).network)
    perturb_constants(model, seed_for("amt"))
    target = cache / "amt_model" / "amt-s.pth"
    target.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": model.state_dict()}, target)


def build_raft(cache: Path) -> None:
    from easydict import EasyDict
    from vbench.third_party.RAFT.core.raft import RAFT

    torch.manual_seed(seed_for("raft"))
    model = RAFT(EasyDict(small=False, mixed_precision=False, alternate_corr=False))
    perturb_constants(model, seed_for("raft"))
    target = cache / "raft_model" / "models" / "raft-things.pth"
    target.parent.mkdir(parents=True, exist_ok=True)
    torch.save({f"module.{k}": v for k, v in model.state_dict().items()}, target)


def build_musiq(cache: Path) -> None:
    from pyiqa.archs.musiq_arch import MUSIQ

    torch.manual_seed(seed_for("musiq"))
    model = MUSIQ(pretrained=False)
    perturb_constants(model, seed_for("musiq"))
    target = cache / "pyiqa_model" / "musiq_spaq_ckpt-358bb6af.pth"
    target.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), target)


def build_all(cache: Path) -> None:
    cache.mkdir(parents=True, exist_ok=True)
    if (cache / DONE_MARKER).exists():
        return
    os.environ["VBENCH_CACHE_DIR"] = str(cache)
    build_dino(cache)
    build_clip(cache, "ViT-B-32.pt", (512, 224, 12, 768, 32, 77, 49408, 512, 8, 12))
    build_aesthetic_head(cache)
    build_amt(cache)
    build_raft(cache)
    build_musiq(cache)
    build_clip(cache, "ViT-L-14.pt", (768, 224, 24, 1024, 14, 77, 49408, 768, 12, 12))
    (cache / DONE_MARKER).write_text("ok\n")


if __name__ == "__main__":
    build_all(Path(sys.argv[1]))
