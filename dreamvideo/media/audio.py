"""The soundtrack's loudness, frame by frame: what an audio-reactive dream follows.

ffmpeg decodes the audio (any container it reads) to mono float samples; each frame's
loudness is the RMS of the samples under it, in decibels, smoothed with a Gaussian of
``smooth`` seconds and spread over 0-1 between the clip's quiet (5th percentile) and
loud (95th) moments, so a quiet song and a loud one move the dream alike.
"""

from __future__ import annotations

import math
import subprocess

import cv2
import imageio_ffmpeg
import numpy as np

from dreamvideo.errors import DreamvideoError
from dreamvideo.media.writers import AudioSource

RATE = 8000  # samples per second: plenty for loudness, cheap to decode
SILENCE_DB = -80.0


def decode_mono(path: str, start: float = 0.0, end: float | None = None, rate: int = RATE) -> np.ndarray:
    """The soundtrack of ``path`` from ``start`` to ``end`` seconds as mono float32 samples."""
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-ss", f"{start:.6f}"]
    if end is not None:
        cmd += ["-to", f"{end:.6f}"]
    cmd += ["-i", str(path), "-map", "0:a:0", "-vn", "-ac", "1", "-ar", str(rate), "-f", "f32le", "-"]
    proc = subprocess.run(cmd, capture_output=True)
    if proc.returncode != 0:
        reason = proc.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no audio stream"]
        raise DreamvideoError(f"cannot read a soundtrack from {path} ({reason[0]}); give one with "
                              "--audio FILE, or leave --audio-react at 0")
    return np.frombuffer(proc.stdout, np.float32).copy()


def loudness(samples: np.ndarray, rate: int, fps: float, frames: int, smooth: float = 0.15) -> np.ndarray:
    """Loudness 0-1 of each of ``frames`` frames at ``fps`` (frames past the sound's end are silent)."""
    if frames <= 0:
        return np.zeros(0, np.float32)
    edges = np.round(np.arange(frames + 1) * rate / fps).astype(np.int64)
    power = np.zeros(frames, np.float64)
    for i in range(frames):
        piece = samples[edges[i]:edges[i + 1]]
        power[i] = float(np.mean(np.square(piece, dtype=np.float64))) if len(piece) else 0.0
    db = np.maximum(10 * np.log10(np.maximum(power, 1e-12)), SILENCE_DB)
    if smooth > 0 and frames > 1:
        sigma = smooth * fps
        db = cv2.GaussianBlur(db.reshape(-1, 1), (1, 2 * math.ceil(3 * sigma) + 1), 0, sigmaY=sigma,
                              borderType=cv2.BORDER_REPLICATE).ravel()
    quiet, loud = np.percentile(db, 5), np.percentile(db, 95)
    if loud - quiet < 1.0:  # a steady sound (or silence): nothing to follow
        return np.full(frames, 0.5, np.float32)
    return np.clip((db - quiet) / (loud - quiet), 0.0, 1.0).astype(np.float32)


def step_factors(level: np.ndarray, depth: float) -> np.ndarray:
    """Each frame's step-size factor: 1 + depth (2 l - 1), so 1 on average, 1 - depth in
    the quiet moments and 1 + depth in the loud ones."""
    return (1.0 + depth * (2.0 * np.asarray(level, np.float32) - 1.0)).astype(np.float32)


def follow(sound: AudioSource, fps: float, frames: int | None, depth: float,
           smooth: float = 0.15) -> np.ndarray:
    """The step factors of ``frames`` frames (None: as many as the sound lasts) following
    ``sound`` (a file, and the range of it the render keeps)."""
    samples = decode_mono(sound.path, sound.start, sound.end)
    if frames is None:
        frames = math.ceil(len(samples) / RATE * fps)
    return step_factors(loudness(samples, RATE, fps, frames, smooth), depth)
