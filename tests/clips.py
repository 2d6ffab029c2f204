"""Small clips made with the bundled ffmpeg, so a fresh clone needs no footage from outside.

Every clip is a camera move over one of the photos in ``samples/inputs`` (real texture,
so optical flow has something to follow), rendered with NumPy and OpenCV and encoded
by ``imageio_ffmpeg``'s ffmpeg; audio is a lavfi sine. Each clip is made the first time
a test asks for it and kept for the session; all of them take a few seconds.
"""

from __future__ import annotations

import functools
import subprocess
from collections.abc import Iterator
from pathlib import Path

import cv2
import imageio.v3 as iio
import imageio_ffmpeg
import numpy as np

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "inputs"
FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


def ffmpeg(*args: str, stdin: bytes | None = None) -> None:
    """Run the bundled ffmpeg quietly; its own words on failure."""
    proc = subprocess.run([FFMPEG, "-y", "-v", "error", *args], input=stdin, capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg {' '.join(args)}: {proc.stderr.decode(errors='replace')[-500:]}")


@functools.cache
def _photo(name: str) -> np.ndarray:
    return iio.imread(SAMPLES / name)


def scene(count: int, size: tuple[int, int], photo: str = "coffee.jpg",
          speed: float = 1.0) -> Iterator[np.ndarray]:
    """``count`` RGB frames of ``size`` (w, h): a pan to the right with a slow zoom in."""
    image = _photo(photo)
    width = size[0]
    for i in range(count):
        t = speed * i / 72  # one 72nd of the move per frame: 3 s at 24 fps pans about 150 photo px
        scale = 0.55 * width / 320 * (1 + 0.3 * t)  # output pixels per photo pixel
        x0, y0 = 60 + 150 * t, 50 + 25 * t
        matrix = np.float32([[scale, 0, -x0 * scale], [0, scale, -y0 * scale]])
        yield cv2.warpAffine(image, matrix, size, flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REFLECT)


def faded(frames: Iterator[np.ndarray], fade_frames: int, soft: float = 8.0,
          grain: float = 2.0) -> Iterator[np.ndarray]:
    """A fade in from black over the first ``fade_frames`` (frame 0 is black; 0: no fade)
    of a soft, low-texture picture (blurred by ``soft`` px) with sensor grain added after
    the exposure, as in real dark footage: the hard case for optical flow."""
    rng = np.random.default_rng(8)
    for i, frame in enumerate(frames):
        gain = min(1.0, i / fade_frames) if fade_frames else 1.0
        picture = cv2.GaussianBlur(frame, (0, 0), soft).astype(np.float32) * gain
        noise = rng.normal(0, grain, frame.shape[:2])[..., None]
        yield np.clip(picture + noise, 0, 255).round().astype(np.uint8)


def encode(path: Path, frames: Iterator[np.ndarray], fps: str, size: tuple[int, int],
           video: list[str], audio_seconds: float | None = None, audio: list[str] | None = None,
           container: list[str] | None = None) -> Path:
    """Raw RGB frames on stdin (+ a sine of ``audio_seconds``) → ``path``."""
    data = b"".join(np.ascontiguousarray(f).tobytes() for f in frames)
    args = ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{size[0]}x{size[1]}", "-r", fps, "-i", "-"]
    if audio_seconds is not None:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=44100:duration={audio_seconds}"]
        args += audio or ["-c:a", "aac", "-b:a", "64k"]
    ffmpeg(*args, *video, *(container or []), str(path), stdin=data)
    return path


H264 = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"]
VP8 = ["-c:v", "libvpx", "-b:v", "800k", "-deadline", "realtime", "-cpu-used", "8"]
VORBIS = ["-c:a", "libvorbis"]


class Media:
    """The generated clips, each made on first use into ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @functools.cached_property
    def pan(self) -> Path:
        """MP4 H.264 + AAC, 320x180, 25 fps, 4 s (100 frames), audio exactly as long."""
        return encode(self.folder / "pan.mp4", scene(100, (320, 180), speed=0.72), "25", (320, 180),
                      H264, 4.0, container=["-movflags", "+faststart"])

    @functools.cached_property
    def webm(self) -> Path:
        """WebM VP8 + Vorbis, 256x144, 24 fps, 1 s."""
        return encode(self.folder / "pan.webm", scene(24, (256, 144)), "24", (256, 144), VP8, 1.0, VORBIS)

    @functools.cached_property
    def gif(self) -> Path:
        """GIF, odd size 314x273, 10 fps, 2 s (20 frames), no audio."""
        return encode(self.folder / "pan.gif", scene(20, (314, 273), speed=2.4), "10", (314, 273),
                      ["-vf", "split[a][b];[a]palettegen[p];[b][p]paletteuse"])

    @functools.cached_property
    def odd_fps(self) -> Path:
        """MP4 at 10.51 fps, odd size 161x123, 2 s of video, AAC audio as long."""
        return encode(self.folder / "odd_fps.mp4", scene(21, (161, 123), speed=2.4), "1051/100", (161, 123),
                      ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv444p"], 2.0)

    @functools.cached_property
    def vfr(self) -> Path:
        """MKV whose frames come 1/25 s apart for the first second, then 2/25 s apart."""
        out = self.folder / "vfr.mkv"
        ffmpeg("-t", "2", "-i", str(self.pan), "-an", "-vf",
               r"setpts='if(lt(N\,25)\,N\,25+2*(N-25))/(25*TB)'", "-fps_mode", "vfr", *H264, str(out))
        return out

    @functools.cached_property
    def alpha(self) -> Path:
        """MOV with PNG-coded RGBA frames: the left third transparent, 10 fps, 1 s."""
        frames = []
        for frame in scene(10, (160, 96)):
            rgba = np.dstack([frame, np.full(frame.shape[:2], 255, np.uint8)])
            rgba[:, :53, 3] = 0
            frames.append(rgba)
        out = self.folder / "alpha.mov"
        ffmpeg("-f", "rawvideo", "-pix_fmt", "rgba", "-s", "160x96", "-r", "10", "-i", "-",
               "-c:v", "png", "-pix_fmt", "rgba", str(out), stdin=b"".join(f.tobytes() for f in frames))
        return out

    @functools.cached_property
    def no_duration(self) -> Path:
        """WebM written to a pipe (no duration, no cues), 15 fps, 2 s of video and of audio."""
        out = self.folder / "no_duration.webm"
        data = b"".join(np.ascontiguousarray(f).tobytes() for f in scene(30, (192, 108), speed=1.6))
        proc = subprocess.run([FFMPEG, "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "192x108",
                               "-r", "15", "-i", "-", "-f", "lavfi", "-i", "sine=frequency=440:duration=2",
                               *VP8, *VORBIS, "-f", "webm", "pipe:1"], input=data, capture_output=True)
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr.decode(errors="replace")[-500:])
        out.write_bytes(proc.stdout)
        return out

    @functools.cached_property
    def raw_h264(self) -> Path:
        """A raw H.264 Annex B stream: no container, no duration, no audio (25 fps, 0.4 s)."""
        out = self.folder / "raw.h264"
        ffmpeg("-i", str(self.pan), "-t", "0.4", "-an", "-c:v", "copy", "-bsf:v", "h264_mp4toannexb",
               "-f", "h264", str(out))
        return out

    @functools.cached_property
    def truncated(self) -> Path:
        """The first 60 % of the bytes of a 2 s, 24 fps VP8 + Vorbis WebM: cut off mid-stream."""
        whole = encode(self.folder / "whole.webm", scene(48, (256, 144)), "24", (256, 144), VP8, 2.0, VORBIS)
        out = self.folder / "truncated.webm"
        data = whole.read_bytes()
        out.write_bytes(data[:int(len(data) * 0.6)])
        return out

    @functools.cached_property
    def short_audio(self) -> Path:
        """MP4, 1 s of 25 fps video with only 0.5 s of audio."""
        return encode(self.folder / "short_audio.mp4", scene(25, (192, 108), speed=2), "25", (192, 108),
                      H264, 0.5)

    @functools.cached_property
    def long_audio(self) -> Path:
        """MP4, 1 s of 25 fps video with 2 s of audio."""
        return encode(self.folder / "long_audio.mp4", scene(25, (192, 108), speed=2), "25", (192, 108),
                      H264, 2.0)

    def fade(self, with_fade: bool = True) -> Path:
        """3 s at 24 fps, 192x108, of a soft moving scene with grain: fading in from black
        (frame 0 black, full from the last frame on), or the same frames without the fade."""
        path = self.folder / ("fade.mp4" if with_fade else "nofade.mp4")
        if not path.exists():
            frames = faded(scene(72, (192, 108)), 71 if with_fade else 0)
            encode(path, frames, "24", (192, 108), H264)
        return path

    @functools.cached_property
    def hard_cut(self) -> Path:
        """Two scenes back to back, 12 fps, 1 s each (the cut before frame 12)."""
        frames = [*scene(12, (192, 108), speed=2), *scene(12, (192, 108), "astronaut.jpg", speed=2)]
        return encode(self.folder / "cut.mp4", iter(frames), "12", (192, 108),
                      ["-c:v", "libx264", "-preset", "veryfast", "-crf", "12", "-pix_fmt", "yuv444p"])


    @functools.cached_property
    def shots(self) -> Path:
        """Four shots of 10 frames (three hard cuts), 12 fps, 192x108, with sound as long."""
        frames = [*scene(10, (192, 108), speed=2), *scene(10, (192, 108), "astronaut.jpg", speed=2),
                  *scene(10, (192, 108), "chelsea.jpg", speed=2), *scene(10, (192, 108), speed=-2)]
        h264 = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "12", "-pix_fmt", "yuv444p"]
        return encode(self.folder / "shots.mp4", iter(frames), "12", (192, 108), h264, 40 / 12)

    @functools.cached_property
    def beat(self) -> Path:
        """An M4A soundtrack of 2 s: a 220 Hz tone, loud for the first half of every second
        and nearly silent for the second half (a beat to follow)."""
        path = self.folder / "beat.m4a"
        ffmpeg("-f", "lavfi", "-i", "sine=frequency=220:sample_rate=44100:duration=2", "-af",
               "volume='if(lt(mod(t,1),0.5),1,0.02)':eval=frame", "-c:a", "aac", "-b:a", "64k", str(path))
        return path

    @functools.cached_property
    def beat_clip(self) -> Path:
        """MP4, 2 s of a slow 25 fps scene at 192x108 with :attr:`beat` as its soundtrack."""
        path = self.folder / "beat_clip.mp4"
        data = b"".join(np.ascontiguousarray(f).tobytes() for f in scene(50, (192, 108), speed=0.2))
        ffmpeg("-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "192x108", "-r", "25", "-i", "-",
               "-i", str(self.beat), *H264, "-c:a", "copy", "-shortest", str(path), stdin=data)
        return path


def stream_ends(path: Path) -> dict[str, float]:
    """Seconds at which the video and the audio packets of ``path`` end (stream copy)."""
    proc = subprocess.run([FFMPEG, "-v", "error", "-nostdin", "-i", str(path), "-map", "0:v:0",
                           "-map", "0:a:0?", "-c", "copy", "-f", "framecrc", "-"],
                          capture_output=True, text=True, check=True)
    bases = {}
    ends: dict[str, float] = {}
    for line in proc.stdout.splitlines():
        if line.startswith("#tb"):
            index, _, fraction = line[4:].partition(": ")
            num, den = fraction.split("/")
            bases[int(index)] = int(num) / int(den)
        elif line and not line.startswith("#"):
            fields = [f.strip() for f in line.split(",")]
            name = "video" if fields[0] == "0" else "audio"
            end = (int(fields[2]) + int(fields[3])) * bases[int(fields[0])]
            ends[name] = max(ends.get(name, end), end)
    return ends
