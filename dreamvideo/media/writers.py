"""Frames out: H.264 MP4, VP9 WebM, GIF or a folder of PNGs, through the bundled ffmpeg.

Whoever opens the encoder closes it: :func:`open_writer` is a context manager that
writes to a temporary name beside the output, muxes the source's audio in (cut or padded to the
same range), and renames only when every frame is in. yuv420p needs even sizes, so
MP4 and WebM crop an odd last row or column (never pad: no black line).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import imageio.v3 as iio
import imageio_ffmpeg
import numpy as np

from dreamvideo.errors import DreamvideoError
from dreamvideo.media.outputs import atomic_output
from dreamvideo.media.provenance import FOLDER_FILE, video_comment

VIDEO_EXTENSIONS = (".mp4", ".webm", ".gif")
_EVEN = "crop=trunc(iw/2)*2:trunc(ih/2)*2"
_PALETTE = "split[a][b];[a]palettegen=stats_mode=diff[p];[b][p]paletteuse"
CONTAINERS = {  # extension: (video codecs it takes, the first the default; audio codec)
    ".mp4": (("libx264", "libx265", "libaom-av1"), "aac"),
    ".webm": (("libvpx-vp9", "libaom-av1"), "libopus"),
    ".gif": (("gif",), None),
    ".mkv": (("libx264", "libx265", "libaom-av1", "libvpx-vp9"), None),  # segments of a render (checkpoint)
}
STREAMS = tuple(ext for ext, (_, audio) in CONTAINERS.items() if audio and ext in VIDEO_EXTENSIONS)
"""The outputs that are streams with sound and metadata (MP4, WebM), encoded in segments
as a render goes; GIFs and PNG folders are neither."""


def is_stream(path: str | os.PathLike[str]) -> bool:
    """Whether the output at ``path`` is one of :data:`STREAMS`."""
    return Path(path).suffix.lower() in STREAMS


_CODEC_ARGS = {  # codec: (output pixel format, arguments, default quality: CRF, lower is better)
    "libx264": ("yuv420p", ["-crf", "{quality}", "-preset", "medium"], 18),
    "libx265": ("yuv420p", ["-crf", "{quality}", "-preset", "medium", "-tag:v", "hvc1"], 22),
    "libvpx-vp9": ("yuv420p", ["-crf", "{quality}", "-b:v", "0", "-row-mt", "1"], 32),
    "libaom-av1": ("yuv420p", ["-crf", "{quality}", "-b:v", "0", "-cpu-used", "6"], 30),
    "gif": ("pal8", [], 0),
}


def frame_file(index: int) -> str:
    """The file name of frame ``index`` (counted from 0) in a folder of frames, the output's
    or a render's own: ``000001.png`` for the first, so they sort in order."""
    return f"{index + 1:06d}.png"


@dataclass(frozen=True)
class AudioSource:
    """Where the soundtrack comes from, and the range of it to keep (seconds)."""

    path: str
    start: float = 0.0
    end: float | None = None


@dataclass(frozen=True)
class Encoding:
    """How frames are written: their size (width, height) and rate, the encoder's quality
    (CRF) and codec (unset: the container's defaults), the sound to mux in, the render's
    configuration to carry, and a rate to re-time to (frames dropped or repeated)."""

    size: tuple[int, int]
    fps: Fraction | float
    quality: int | None = None
    audio: AudioSource | None = None
    comment: str | None = None
    codec: str | None = None
    out_fps: Fraction | float | None = None

    @property
    def retimed(self) -> bool:
        return self.out_fps not in (None, self.fps)


class FrameWriter:
    """Accepts RGB uint8 frames of one size; made by :func:`open_writer`."""

    def __init__(self, send, size: tuple[int, int]) -> None:
        self._send, self.size, self.frames = send, size, 0

    def write(self, frame: np.ndarray) -> None:
        if frame.shape != (self.size[1], self.size[0], 3) or frame.dtype != np.uint8:
            raise ValueError(f"expected uint8 frames of shape {(self.size[1], self.size[0], 3)}, "
                             f"got {frame.dtype} {frame.shape}")
        self._send(np.ascontiguousarray(frame))
        self.frames += 1


def _mux_audio(video: Path, audio: AudioSource, out: Path, codec: str, duration: float) -> None:
    """Copy the video stream whole and add the audio cut or padded with silence to
    ``duration`` (the video's frames / rate), so no frame is lost to a shorter soundtrack
    (``-shortest`` would end the file with the audio) and no sound runs past the picture."""
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-v", "error", "-i", str(video),
           "-ss", f"{audio.start:.6f}"]
    if audio.end is not None:
        cmd += ["-to", f"{audio.end:.6f}"]
    cmd += ["-i", audio.path, "-map", "0:v:0", "-map", "1:a:0?", "-c:v", "copy", "-c:a", codec,
            "-af", f"asetpts=PTS-STARTPTS,apad,atrim=duration={duration:.6f}", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise DreamvideoError(f"ffmpeg could not add the audio: {proc.stderr.strip().splitlines()[-1:]}")


@contextlib.contextmanager
def _png_folder(path: Path, size: tuple[int, int], comment: str | None) -> Iterator[FrameWriter]:
    tmp = path.with_name(f".{path.name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        if comment:
            (tmp / FOLDER_FILE).write_text(comment, encoding="utf-8")
        writer = FrameWriter(lambda f: iio.imwrite(tmp / frame_file(writer.frames), f), size)
        yield writer
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextlib.contextmanager
def open_writer(path: str | os.PathLike[str], encoding: Encoding) -> Iterator[FrameWriter]:
    """Write frames to ``path`` as ``encoding`` says; a folder path (no extension) gets
    numbered PNGs. Nothing appears at ``path`` unless all went well. The comment (the
    render's configuration) goes into MP4/WebM metadata or the folder; a codec the
    container does not take is refused; ``out_fps`` re-times the frames (ffmpeg drops or
    repeats them; the duration stays)."""
    size, fps, quality, audio, comment, codec, out_fps = (
        encoding.size, encoding.fps, encoding.quality, encoding.audio, encoding.comment, encoding.codec,
        encoding.out_fps)
    out = Path(path)
    ext = out.suffix.lower()
    if not ext:
        with _png_folder(out, size, comment) as writer:
            yield writer
        return
    if ext not in CONTAINERS:
        raise DreamvideoError(f"cannot write {out}: use one of {', '.join(VIDEO_EXTENSIONS)} or a folder")
    codecs, audio_codec = CONTAINERS[ext]
    codec = codec or codecs[0]
    if codec not in codecs:
        raise DreamvideoError(f"{ext} files take the codecs {', '.join(codecs)}, not {codec!r}")
    pix_fmt, extra, default_quality = _CODEC_ARGS[codec]
    quality = default_quality if quality is None else quality
    rate = Fraction(fps).limit_denominator(1001)
    out_rate = Fraction(out_fps).limit_denominator(1001) if out_fps else rate
    filters = [f"fps={out_rate.numerator}/{out_rate.denominator}"] if out_rate != rate else []
    filters += [_EVEN] if pix_fmt == "yuv420p" else []
    graph = ",".join(filters)
    if codec == "gif":  # one palette for the whole animation
        graph = f"{graph},{_PALETTE}" if graph else _PALETTE
    params = [p.format(quality=quality) for p in extra] + (["-vf", graph] if graph else [])
    if ext == ".mp4":
        params += ["-movflags", "+faststart"]
    if comment and ext in STREAMS:
        params += ["-metadata", f"comment={video_comment(comment)}"]
    with atomic_output(out) as tmp, _removed_after(tmp.with_name(tmp.name + ext)) as muxed_from:
        video_tmp = muxed_from if audio and audio_codec else tmp
        with _encoder(video_tmp, size, rate, out_rate, ["-c:v", codec, "-pix_fmt", pix_fmt, *params],
                      out.name) as send:
            writer = FrameWriter(send, size)
            yield writer
        if video_tmp != tmp:
            _mux_audio(video_tmp, audio, tmp, audio_codec, float(writer.frames / rate))


def join_segments(segments: list[Path], path: str | os.PathLike[str], frames: int,
                  encoding: Encoding) -> None:
    """Join segments that :func:`open_writer` made with the same settings into ``path``,
    without re-encoding; add the sound cut or padded to the ``frames``' duration and the
    configuration comment. Nothing appears at ``path`` unless all went well."""
    fps, audio, comment = encoding.fps, encoding.audio, encoding.comment
    out = Path(path)
    if not segments:
        raise DreamvideoError(f"nothing to write to {out}: no frames were made")
    ext = out.suffix.lower()
    audio_codec = CONTAINERS[ext][1]
    with atomic_output(out) as tmp, _removed_after(tmp.with_name(tmp.name + ".txt")) as listing:
        listing.write_text("".join(f"file '{_concat_quote(p)}'\n" for p in segments), encoding="utf-8")
        cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-v", "error", "-f", "concat", "-safe", "0",
               "-i", str(listing)]
        if audio is not None:
            cmd += ["-ss", f"{audio.start:.6f}"]
            cmd += ["-to", f"{audio.end:.6f}"] if audio.end is not None else []
            cmd += ["-i", audio.path, "-map", "0:v:0", "-map", "1:a:0?", "-c:a", audio_codec, "-af",
                    f"asetpts=PTS-STARTPTS,apad,atrim=duration={float(frames / Fraction(fps)):.6f}"]
        cmd += ["-c:v", "copy"] + (["-movflags", "+faststart"] if ext == ".mp4" else [])
        if comment:
            cmd += ["-metadata", f"comment={video_comment(comment)}"]
        proc = subprocess.run([*cmd, str(tmp)], capture_output=True, text=True)
        if proc.returncode != 0:
            said = " | ".join(line.strip() for line in proc.stderr.strip().splitlines()[-3:])
            raise DreamvideoError(f"ffmpeg could not join the segments of {out.name}: {said}")


def _concat_quote(path: Path) -> str:
    """A path as the concat demuxer reads it inside single quotes."""
    return str(path.resolve()).replace("'", "'\\''")


@contextlib.contextmanager
def _encoder(path: Path, size: tuple[int, int], rate: Fraction, out_rate: Fraction, params: list[str],
             name: str) -> Iterator:
    """ffmpeg reading raw RGB frames on stdin; its stderr kept for the error message.

    (A file, not a pipe, takes ffmpeg's stderr, so a chatty ffmpeg can never block.)
    """
    rate_arg = f"{rate.numerator}/{rate.denominator}"
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
           "-s", f"{size[0]}x{size[1]}", "-r", rate_arg, "-i", "-", "-an", *params,
           "-r", f"{out_rate.numerator}/{out_rate.denominator}", str(path)]
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=log)

        def failure() -> DreamvideoError:
            proc.wait()
            log.seek(0)
            text = log.read().decode(errors="replace")
            lines = [line.strip() for line in text.splitlines() if line.strip()]
            said = " | ".join(lines[-3:]) or f"exit code {proc.returncode}"
            return DreamvideoError(f"ffmpeg could not write {name}: {said}")

        def send(frame: np.ndarray) -> None:
            try:
                proc.stdin.write(frame.tobytes())
            except OSError:  # broken pipe: ffmpeg has stopped, and says why
                raise failure() from None

        try:
            yield send
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        try:
            proc.stdin.close()
        except OSError:
            raise failure() from None
        if proc.wait() != 0:
            raise failure()


@contextlib.contextmanager
def _removed_after(path: Path) -> Iterator[Path]:
    """A scratch file that is gone afterwards, whatever happened."""
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)
