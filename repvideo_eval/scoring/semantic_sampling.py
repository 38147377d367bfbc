"""vbench's frame sampling and resizing for the semantic dimensions, on already-decoded frames.

vbench reads the semantic dimensions' frames with decord through `load_video(num_frames=16)` or
`read_frames_decord_by_fps(num_frames=8, sample="middle")`; both pick frames with
`get_frame_indices(sample="middle")`. We decode the whole video once (`decode.DecodedVideo`) and pick
the same indices from it; on H.264 files decord's random access and a full decode give the same
pixels (checked by the parity tests, which run vbench's own reader).
"""

from __future__ import annotations

import numpy as np
import torch
import torchvision.transforms.functional as TF

#: vbench's "16-mid": object_class, multiple_objects, color, spatial_relationship, scene, human_action.
SEMANTIC_NUM_FRAMES = 16
#: ViCLIP's 8 frames (temporal_style, overall_consistency).
VICLIP_NUM_FRAMES = 8


def middle_frame_indices(num_frames: int, video_length: int) -> list[int]:
    """`vbench.utils.get_frame_indices(num_frames, video_length, sample="middle")`.

    The video is cut at `linspace(0, vlen, n+1).astype(int)`; each segment [a, b-1] gives
    (a + b - 1) // 2. Shorter videos repeat their last index up to `num_frames` (vbench pads).
    """
    if video_length <= 0:
        raise ValueError("a video with no frames has no frame indices")
    count = min(num_frames, video_length)
    edges = np.linspace(start=0, stop=video_length, num=count + 1).astype(int)
    indices = [int((edges[i] + edges[i + 1] - 1) // 2) for i in range(count)]
    if len(indices) < num_frames:
        indices = indices + [indices[-1]] * (num_frames - len(indices))
    return indices


def sample_middle(frames: np.ndarray, num_frames: int) -> np.ndarray:
    """The frames vbench's `load_video(num_frames=n)` returns, from all decoded frames (T, H, W, 3)."""
    return frames[middle_frame_indices(num_frames, len(frames))]


def grit_input_size(height: int, width: int) -> tuple[int, int] | None:
    """vbench's detection size rule: if min(H, W) > 768, scale the short side to 720 (int() sizes).

    Returns the (new_h, new_w) or None when vbench keeps the native size.
    """
    if min(height, width) <= 768:
        return None
    scale = 720.0 / min(height, width)
    return int(scale * height), int(scale * width)


def resize_like_torchvision(frames: np.ndarray) -> np.ndarray:
    """object_class / multiple_objects / spatial_relationship resizing.

    vbench applies `transforms.Resize((h, w))` (bilinear, torchvision's default antialias=True)
    to `load_video`'s **float32** 0..255 tensor and feeds the floats to GRiT, so the frames are
    returned as float32 here (no rounding back to uint8).
    """
    size = grit_input_size(frames.shape[1], frames.shape[2])
    tensor = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float()
    if size is not None:
        tensor = TF.resize(tensor, list(size), antialias=True)
    return tensor.permute(0, 2, 3, 1).numpy()


def resize_like_cv2(frames: np.ndarray) -> np.ndarray:
    """color's resizing: `cv2.resize(INTER_LINEAR)` per uint8 frame (vbench's color.py)."""
    size = grit_input_size(frames.shape[1], frames.shape[2])
    if size is None:
        return frames
    import cv2

    new_h, new_w = size
    return np.stack(
        [cv2.resize(frame, (new_w, new_h), interpolation=cv2.INTER_LINEAR) for frame in frames]
    )
