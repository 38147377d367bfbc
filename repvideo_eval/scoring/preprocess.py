"""vbench's frame preprocessing, reproduced on tensors.

`vbench.utils.load_video` returns `torch.Tensor(uint8 array)`, i.e. **float32 values 0..255**
(its comment says uint8), shaped (T, C, H, W). Its transforms then run on those floats:

* `clip_transform(224)`: Resize(224, bicubic, antialias=False) on the short side, CenterCrop(224),
  `/255`, CLIP mean/std. No clamp after bicubic, so values may leave 0..255 before the division.
* `dino_transform(224)`: Resize(224, bilinear, antialias=False) on the short side (no crop, so
  the result is non-square), `/255`, ImageNet mean/std.

torchvision's functional resize/center_crop are the same functions `transforms.Resize` and
`CenterCrop` call, so output sizes (int() of the long side) and crop offsets match.
"""

from __future__ import annotations

import numpy as np
import torch
import torchvision.transforms.functional as TF
from torchvision.transforms import InterpolationMode

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def frames_as_float(frames: np.ndarray) -> torch.Tensor:
    """(T, H, W, 3) uint8 -> (T, 3, H, W) float32 0..255, as `load_video` returns them."""
    return torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float()


def clip_transform(frames: torch.Tensor, size: int = 224) -> torch.Tensor:
    """vbench `clip_transform(size)` on float 0..255 frames."""
    frames = TF.resize(frames, size, interpolation=InterpolationMode.BICUBIC, antialias=False)
    frames = TF.center_crop(frames, size)
    return TF.normalize(frames.float().div(255.0), CLIP_MEAN, CLIP_STD)


def dino_transform(frames: torch.Tensor, size: int = 224) -> torch.Tensor:
    """vbench `dino_transform(size)` on float 0..255 frames."""
    frames = TF.resize(frames, size, interpolation=InterpolationMode.BILINEAR, antialias=False)
    return TF.normalize(frames.float().div(255.0), IMAGENET_MEAN, IMAGENET_STD)


def pad_amounts(height: int, width: int, divisor: int) -> tuple[int, int, int, int]:
    """(left, right, top, bottom) replicate padding to a multiple of `divisor`, split like AMT/RAFT."""
    pad_h = (((height // divisor) + 1) * divisor - height) % divisor
    pad_w = (((width // divisor) + 1) * divisor - width) % divisor
    return pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2


def batches(count: int, batch_size: int):
    """(start, stop) index ranges covering 0..count in chunks of batch_size."""
    for start in range(0, count, batch_size):
        yield start, min(start + batch_size, count)
