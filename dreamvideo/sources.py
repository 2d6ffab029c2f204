"""Video frames in, streamed through the bundled ffmpeg: never the whole video in memory.

Alpha: frames are decoded as RGB (``rgb24``); ffmpeg drops the alpha channel of
transparent GIF/WebM/PNG sources, so transparent areas show their stored colour.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import imageio_ffmpeg
import numpy as np

from dreamvideo.errors import DreamvideoError
from dreamvideo.images import check_input


@dataclass(frozen=True)
class VideoInfo:
    """What ffmpeg says about a video's first video stream."""

    width: int
    height: int
    fps: Fraction
    duration: float | None
    codec: str
    has_audio: bool
    rotation: int

    @property
    def frames(self) -> int | None:
        """Frame count estimated from duration and rate (None when unknown)."""
        return None if not self.duration else round(self.duration * self.fps)


def exact_fps(fps: float) -> Fraction:
    """ffmpeg prints rates rounded (29.97); recover NTSC rates like 30000/1001 exactly."""
    if fps <= 0:
        raise DreamvideoError(f"the video reports a frame rate of {fps}")
    ntsc = fps * 1.001
    if abs(fps - round(fps)) > 1e-3 and abs(ntsc - round(ntsc)) < 0.01:
        return Fraction(round(ntsc) * 1000, 1001)
    return Fraction(fps).limit_denominator(1000)


def _open(path: Path, output_params: list[str] | None = None) -> tuple[Iterator, dict]:
    gen = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24", output_params=output_params)
    try:
        meta = next(gen)
    except (OSError, RuntimeError, StopIteration) as e:
        gen.close()
        reason = " ".join(str(e).split())[-300:] or "no video stream"
        raise DreamvideoError(f"cannot read {path} as a video ({reason})") from None
    return gen, meta


def probe(path: str | os.PathLike[str]) -> VideoInfo:
    """Size, exact rate, duration, codec, audio and rotation, without decoding frames."""
    p = check_input(path)
    gen, meta = _open(p)
    gen.close()
    width, height = meta["size"]
    codec = str(meta.get("codec", "")).rstrip(",")
    return VideoInfo(width, height, exact_fps(meta["fps"]), meta.get("duration") or None, codec,
                     "audio_codec" in meta, int(meta.get("rotate", 0)))


def read_frames(path: str | os.PathLike[str], size: tuple[int, int] | None = None) -> Iterator[np.ndarray]:
    """Yield RGB uint8 frames (H, W, 3), scaled by ffmpeg to ``size`` (width, height) if given.

    A generator: ffmpeg is stopped when it is exhausted, closed or garbage collected.
    """
    p = check_input(path)
    params = ["-vf", f"scale={size[0]}:{size[1]}:flags=area"] if size else None
    gen, meta = _open(p, params)
    width, height = meta["size"]
    try:
        for buffer in gen:
            yield np.frombuffer(buffer, np.uint8).reshape(height, width, 3)
    finally:
        gen.close()
