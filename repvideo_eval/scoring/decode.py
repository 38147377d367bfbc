"""Decode a video file once per decoder and hand the same pixels to every scorer.

vbench reads frames with two libraries, and each dimension must see what vbench's code sees:

* OpenCV (`cv2.VideoCapture`, BGR uint8, read until the first failed `read()`):
  temporal_flickering (kept BGR), motion_smoothness and dynamic_degree (converted to RGB);
  dynamic_degree also reads `CAP_PROP_FPS` from OpenCV.
* decord (`VideoReader(num_threads=1).get_batch(range(len))`, RGB uint8): subject_consistency,
  background_consistency, aesthetic_quality, imaging_quality (all through `vbench.utils.load_video`).

On H.264 yuv420p files both give bit-identical RGB frames (checked in tests/scoring), but other
codecs or damaged files may differ in frame count, so each decoder runs at most once per video
and only when a requested dimension needs it.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Literal

import numpy as np

Decoder = Literal["cv2", "decord"]

#: The most pixels (frames x height x width) one video may decode to, per decoder: 256 Mi pixels,
#: 768 MiB of uint8 RGB. Generated videos are far below it (49x480x720 is 17 M; 129x720x1280, 119 M)
#: while a small crafted file can claim gigabytes (a 198 KB 8192x8192 video decodes to 2.8 GB).
#: A video over it is an error row naming the flag that raises it (`--max-video-pixels`).
DEFAULT_MAX_VIDEO_PIXELS = 256 * 2**20


class VideoDecodeError(Exception):
    """The file cannot be decoded into frames; the message is the per-video error reason."""


class DecodedVideo:
    """Lazily decoded frames of one file, cached per decoder."""

    def __init__(self, path: Path, max_pixels: int = DEFAULT_MAX_VIDEO_PIXELS) -> None:
        self.path = Path(path)
        self.max_pixels = int(max_pixels)
        self._cv2: np.ndarray | None = None
        self._cv2_fps: float | None = None
        self._decord: np.ndarray | None = None
        self._decord_fps: float | None = None

    def _check_file(self) -> None:
        if not self.path.is_file():
            raise VideoDecodeError(f"file not found: {self.path}")
        if self.path.stat().st_size == 0:
            raise VideoDecodeError("empty file (0 bytes)")
        frames, height, width = probe_size(self.path)
        self._check_budget(max(frames, 1) * height * width, f"{frames} frames of {width}x{height}")

    def _check_budget(self, pixels: int, what: str) -> None:
        """Refuse before decoding: the container's header says how large the frames will be."""
        if pixels > self.max_pixels:
            raise VideoDecodeError(
                f"the video has {what} = {pixels:,} pixels, over the budget of "
                f"{self.max_pixels:,}; raise it with --max-video-pixels if this is intended"
            )

    def cv2_bgr(self) -> np.ndarray:
        """All frames as OpenCV returns them: (T, H, W, 3) uint8, BGR order."""
        if self._cv2 is None:
            self._check_file()
            import cv2

            capture = cv2.VideoCapture(str(self.path))
            try:
                fps = float(capture.get(cv2.CAP_PROP_FPS))
                frames = []
                pixels = 0
                while capture.isOpened():
                    ok, frame = capture.read()
                    if not ok:
                        break
                    frames.append(frame)
                    pixels += frame.shape[0] * frame.shape[1]  # headers may understate the count
                    self._check_budget(pixels, f"at least {len(frames)} frames")
            finally:
                capture.release()
            if not frames:
                raise VideoDecodeError(
                    "no decodable frames (OpenCV read 0 frames; corrupt or not a video)"
                )
            shapes = {f.shape for f in frames}
            if len(shapes) > 1:
                raise VideoDecodeError(f"frames change size within the video: {sorted(shapes)}")
            self._cv2 = np.stack(frames)
            self._cv2_fps = fps
        return self._cv2

    def cv2_rgb(self) -> np.ndarray:
        """OpenCV frames converted BGR->RGB (what `cv2.cvtColor(COLOR_BGR2RGB)` gives)."""
        return self.cv2_bgr()[..., ::-1]

    def cv2_fps(self) -> float:
        """The container frame rate as OpenCV reports it (dynamic_degree's frame stride)."""
        self.cv2_bgr()
        assert self._cv2_fps is not None
        return self._cv2_fps

    def decord_rgb(self) -> np.ndarray:
        """All frames as decord returns them: (T, H, W, 3) uint8, RGB order."""
        if self._decord is None:
            self._check_file()
            try:
                import decord

                decord.bridge.set_bridge("native")
                reader = decord.VideoReader(str(self.path), num_threads=1)
                count = len(reader)
                if count == 0:
                    raise VideoDecodeError("the video has zero frames")
                _, height, width = probe_size(self.path)
                self._check_budget(count * height * width, f"{count} frames of {width}x{height}")
                self._decord = reader.get_batch(list(range(count))).asnumpy().astype(np.uint8)
                self._decord_fps = float(reader.get_avg_fps())
                del reader
            except VideoDecodeError:
                raise
            except Exception as exc:  # decord raises its own DECORDError / RuntimeError types
                text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                text = re.sub(
                    r"^\[[0-9:]+\] \S+:\d+: ", "", text
                )  # drop decord's "[time] file:line: " prefix
                raise VideoDecodeError(f"decord cannot read the file: {text[:200]}") from None
        return self._decord

    def frames(self, decoder: Decoder) -> np.ndarray:
        """Frames from the named decoder: cv2 -> BGR, decord -> RGB (as vbench has them)."""
        return self.cv2_bgr() if decoder == "cv2" else self.decord_rgb()

    def fps(self) -> float:
        """Frame rate from whichever decoder already ran (OpenCV preferred)."""
        if self._cv2_fps is not None:
            return self._cv2_fps
        if self._decord_fps is not None:
            return self._decord_fps
        return self.cv2_fps()


def probe_size(path: Path) -> tuple[int, int, int]:
    """(frames, height, width) as the container's header states them, without decoding a frame
    (OpenCV's properties; zeros where the header is silent or unreadable)."""
    import cv2

    capture = cv2.VideoCapture(str(path))
    try:
        props = (cv2.CAP_PROP_FRAME_COUNT, cv2.CAP_PROP_FRAME_HEIGHT, cv2.CAP_PROP_FRAME_WIDTH)
        values = [capture.get(prop) for prop in props]
    finally:
        capture.release()
    return tuple(int(v) if math.isfinite(v) and v > 0 else 0 for v in values)  # type: ignore[return-value]


def valid_fps(fps: float) -> bool:
    """A usable frame rate: finite and positive (broken headers give 0 or NaN)."""
    return math.isfinite(fps) and fps > 0


def min_side_for_pyramid(levels: int, stride: int = 8) -> int:
    """Smallest padded side for which a `levels`-level correlation pyramid at 1/`stride` is sound.

    RAFT and AMT average-pool the 1/8-resolution correlation volume `levels - 1` times and then
    sample it with `2 * x / (W - 1) - 1`: a level only 1 cell wide divides by zero and the flow
    becomes NaN. vbench does not check this (a 128x96 video gets NaN flow scores and counts as
    static), so we reject such videos with this reason instead: every level needs >= 2 cells.
    """
    return stride * 2**levels
