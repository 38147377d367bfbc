"""Where each frame's tokens sit in a CogVideoX sequence, so statistics can index frames.

diffusers' CogVideoX concatenates ``[text tokens | video tokens]`` inside attention, and the video
tokens are frame-major (``b t n d -> b (t n) d``): token ``n`` of latent frame ``f`` is row
``f * tokens_per_frame + n`` of the video stream. A "frame" here is a *latent* frame (13 for
CogVideoX-2B's 49 RGB frames); with temporal patching (CogVideoX 1.5, ``patch_size_t``) it is
a group of ``patch_size_t`` latent frames, because that is what one token covers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TokenLayout:
    """Token geometry of one transformer call: text length, frames and the per-frame token grid."""

    text_len: int
    frames: int
    grid_h: int
    grid_w: int

    @property
    def tokens_per_frame(self) -> int:
        return self.grid_h * self.grid_w

    @property
    def video_len(self) -> int:
        return self.frames * self.tokens_per_frame

    @property
    def sequence_len(self) -> int:
        return self.text_len + self.video_len


def cogvideox_layout(config: object, latent_shape: tuple[int, ...], text_len: int) -> TokenLayout:
    """Layout from a CogVideoX transformer config and its ``hidden_states`` shape (B, F, C, H, W)."""
    _, latent_frames, _, height, width = latent_shape
    patch = int(getattr(config, "patch_size"))
    patch_t = getattr(config, "patch_size_t", None)
    frames = (
        latent_frames if patch_t is None else (latent_frames + int(patch_t) - 1) // int(patch_t)
    )
    return TokenLayout(
        text_len=int(text_len), frames=int(frames), grid_h=height // patch, grid_w=width // patch
    )
