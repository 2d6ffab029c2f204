"""Video frames in, streamed through the bundled ffmpeg: never the whole video in memory.

Alpha: frames are decoded as RGB (``rgb24``); ffmpeg drops the alpha channel of
transparent GIF/WebM/PNG sources, so transparent areas show their stored colour.
Rotation metadata is applied by ffmpeg: frames come upright, and the size reported is
the upright one.
"""

from __future__ import annotations

import glob
import logging
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import imageio_ffmpeg
import numpy as np

from dreamvideo.errors import DreamvideoError, StreamBroken
from dreamvideo.media.images import check_input


@dataclass(frozen=True)
class VideoInfo:
    """What ffmpeg says about a video's first video stream."""

    width: int
    height: int
    fps: Fraction
    duration: float | None
    codec: str
    has_audio: bool

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


IMAGE_SEQUENCE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
VIDEO_FILE_EXTENSIONS = (".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".flv",
                         ".ogv", ".wmv", ".h264", ".264")
SEQUENCE_FPS = 25  # image sequences carry no rate

# We ask ffmpeg to scale on purpose; imageio-ffmpeg would warn about it on every open.
logging.getLogger("imageio_ffmpeg").setLevel(logging.ERROR)


def _input(path: str | os.PathLike[str]) -> tuple[str, list[str]]:
    """ffmpeg's -i argument and input options: a file, a folder of images or a glob."""
    text = str(path)
    if any(c in text for c in "*?["):
        if not glob.glob(text):
            raise DreamvideoError(f"no file matches {text}")
        return text, ["-pattern_type", "glob", "-framerate", str(SEQUENCE_FPS)]
    p = Path(text)
    if p.is_dir():
        images = [f for f in sorted(p.iterdir()) if f.suffix.lower() in IMAGE_SEQUENCE_EXTENSIONS]
        if not images:
            raise DreamvideoError(f"folder {p} holds no images ({', '.join(IMAGE_SEQUENCE_EXTENSIONS)})")
        pattern = str(p / f"*{images[0].suffix}")
        return pattern, ["-pattern_type", "glob", "-framerate", str(SEQUENCE_FPS)]
    return str(check_input(p)), []


def frame_count_kind(path: str | os.PathLike[str]) -> str:
    """``"still"`` for a one-frame image file, ``"video"`` for a video file or an animated
    image, ``"other"`` for anything else (folders, globs, unknown files)."""
    p = Path(path)
    if not p.is_file():
        return "other"
    if p.suffix.lower() in VIDEO_FILE_EXTENSIONS:
        return "video"
    from PIL import Image

    try:
        with Image.open(p) as image:
            return "video" if getattr(image, "n_frames", 1) > 1 else "still"
    except Exception:  # not an image Pillow knows: let ffmpeg decide
        return "other"


def _open(path: str, input_params: list[str] | None = None,
          output_params: list[str] | None = None) -> tuple[Iterator, dict]:
    gen = imageio_ffmpeg.read_frames(path, pix_fmt="rgb24", input_params=input_params,
                                     output_params=output_params)
    try:
        meta = next(gen)
    except (OSError, RuntimeError, StopIteration) as e:
        gen.close()
        if "does not contain any stream" in str(e):
            raise DreamvideoError(f"{path} has no video stream") from None
        raise DreamvideoError(f"cannot read {path} as a video ({ffmpeg_reason(e)})") from None
    return gen, meta


def ffmpeg_reason(error: BaseException) -> str:
    """The lines of ffmpeg's stderr that say what went wrong, not its banner."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    useful = [line for line in lines if re.search(r"error|invalid|not found|no such|unsupported", line, re.I)]
    return "; ".join(dict.fromkeys(useful[-3:])) or (lines[-1] if lines else type(error).__name__)


def probe(path: str | os.PathLike[str]) -> VideoInfo:
    """Upright size, exact rate, duration of the video stream, codec and audio, without
    decoding frames."""
    name, params = _input(path)
    gen, meta = _open(name, params)
    gen.close()
    width, height = meta["size"]
    codec = str(meta.get("codec", "")).rstrip(",")
    has_audio = "audio_codec" in meta
    duration = meta.get("duration") or None
    if duration and has_audio and not params:  # the file's duration may be the soundtrack's
        duration -= _audio_overhang(name)
    return VideoInfo(width, height, exact_fps(meta["fps"]), duration, codec, has_audio)


def _audio_overhang(path: str) -> float:
    """Seconds by which the first audio stream's packets end after the video's: a file's
    duration is its longest stream's. Read from packet timestamps (stream copy: nothing is
    decoded), so a file cut short, whose streams both stop early, keeps its duration."""
    proc = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-nostdin", "-i", path,
                           "-map", "0:v:0", "-map", "0:a:0", "-c", "copy", "-f", "framecrc", "-"],
                          capture_output=True, text=True)
    bases = {int(i): int(n) / int(d) for i, n, d in re.findall(r"^#tb (\d+): (\d+)/(\d+)", proc.stdout, re.M)}
    ends: dict[int, float] = {}
    for line in proc.stdout.splitlines():
        fields = [f.strip() for f in line.split(",")]
        if line.startswith("#") or len(fields) < 4 or not fields[2].lstrip("-").isdigit():
            continue
        stream = int(fields[0])
        end = (int(fields[2]) + int(fields[3])) * bases.get(stream, 0.0)
        ends[stream] = max(ends.get(stream, end), end)
    if proc.returncode != 0 or len(ends) < 2:
        return 0.0
    return max(0.0, ends[1] - ends[0])


def count_frames(path: str | os.PathLike[str]) -> int:
    """The frames a written video holds (a PNG folder: its PNGs), counted from the stream's
    packets without decoding them."""
    p = Path(path)
    if p.is_dir():
        return sum(1 for f in p.iterdir() if f.suffix.lower() == ".png")
    proc = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-nostdin", "-i", str(p),
                           "-map", "0:v:0", "-c", "copy", "-f", "framecrc", "-"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise DreamvideoError(f"cannot count the frames of {p}: {proc.stderr.strip()[-300:]}")
    return sum(1 for line in proc.stdout.splitlines() if line and not line.startswith("#"))


def read_frames(path: str | os.PathLike[str], size: tuple[int, int] | None = None,
                start: float | None = None, end: float | None = None) -> Iterator[np.ndarray]:
    """Yield RGB uint8 frames (H, W, 3) at a constant rate, scaled by ffmpeg to ``size``
    (width, height) if given, from ``start`` to ``end`` seconds.

    A generator: ffmpeg is stopped when it is exhausted, closed or garbage collected.
    A stream that breaks off half-way raises :class:`DreamvideoError` after the last good frame.
    """
    name, input_params = _input(path)
    if start:
        input_params = [*input_params, "-ss", f"{start:.6f}"]
    output_params = ["-fps_mode", "cfr"]
    if end is not None:
        output_params += ["-t", f"{end - (start or 0.0):.6f}"]
    if size:
        output_params += ["-vf", f"scale={size[0]}:{size[1]}:flags=area"]
    gen, meta = _open(name, input_params, output_params)
    width, height = meta["size"]
    try:
        for buffer in gen:
            yield np.frombuffer(buffer, np.uint8).reshape(height, width, 3)
    except (OSError, RuntimeError) as e:
        raise StreamBroken(f"{path} is corrupt or cut off ({ffmpeg_reason(e)})") from None
    finally:
        gen.close()
