"""What a sidecar records about the software and hardware that made a video."""

from __future__ import annotations

import platform
from importlib import metadata

import torch

TRACKED_PACKAGES = ("repvideo-eval", "torch", "diffusers", "transformers", "vbench", "ray", "numpy")


def package_versions() -> dict[str, str]:
    versions: dict[str, str] = {"python": platform.python_version()}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def device_description(device: str) -> str:
    if device.startswith("cuda") and torch.cuda.is_available():
        index = torch.device(device).index or 0
        return f"{device} ({torch.cuda.get_device_name(index)})"
    return f"{device} ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"
