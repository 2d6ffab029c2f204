"""Colour coherence: each frame's colours held to a reference's, so a clip keeps its palette.

A zoom feeds every dreamed frame back into the next dream, and each pass pushes the
colours further (saturation and contrast grow until the frames are rainbow noise). As in
Deforum, each frame's histogram is matched to a reference (by default the first dreamed
frame) in LAB, RGB or HSV, with scikit-image's ``match_histograms``; ``strength`` mixes
the matched frame with the frame as dreamed (1: full match; lower keeps more of the
palette's own drift, which strong matching is known to flatten). Matching the lightness
histogram (LAB) also holds the contrast where the reference had it.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from dreamvideo.config import ColorConfig
from dreamvideo.errors import DreamvideoError

MODES = ("lab", "rgb", "hsv")


def _to_space(rgb: np.ndarray, mode: str) -> np.ndarray:
    unit = np.clip(np.asarray(rgb, np.float32), 0, 255) / 255.0
    if mode == "lab":
        return cv2.cvtColor(unit, cv2.COLOR_RGB2Lab)
    if mode == "hsv":
        return cv2.cvtColor(unit, cv2.COLOR_RGB2HSV)
    return unit


def _from_space(values: np.ndarray, mode: str) -> np.ndarray:
    values = np.asarray(values, np.float32)
    if mode == "lab":
        unit = cv2.cvtColor(values, cv2.COLOR_Lab2RGB)
    elif mode == "hsv":
        unit = cv2.cvtColor(np.mod(values, [360.0, 2.0, 2.0]).astype(np.float32), cv2.COLOR_HSV2RGB)
    else:
        unit = values
    return np.clip(unit * 255.0, 0, 255)


def match_colours(rgb: np.ndarray, reference: np.ndarray, mode: str = "lab",
                  strength: float = 1.0) -> np.ndarray:
    """``rgb`` (float or uint8, 0-255) with its histogram matched to ``reference``'s in
    ``mode`` space, mixed by ``strength``; float32 0-255."""
    from skimage.exposure import match_histograms

    if mode not in MODES:
        raise DreamvideoError(f"unknown colour coherence {mode!r}; choose one of: none, {', '.join(MODES)}")
    frame = np.asarray(rgb, np.float32)
    if strength <= 0:
        return frame
    matched = match_histograms(_to_space(frame, mode), _to_space(reference, mode), channel_axis=-1)
    matched = _from_space(matched, mode)
    return frame + np.float32(strength) * (matched - frame)


class Coherence:
    """Holds frames to a reference's colours; the reference is kept (``reference``) so a
    resumed render goes on with the same one."""

    def __init__(self, mode: str, strength: float, reference: np.ndarray | None = None) -> None:
        self.mode, self.strength = mode, strength
        self.reference = None if reference is None else np.asarray(reference, np.float32)

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """The frame matched to the reference; the first frame becomes the reference when
        there is none yet (and comes back as it was)."""
        if self.reference is None:
            self.reference = np.asarray(rgb, np.float32)
            return self.reference
        return match_colours(rgb, self.reference, self.mode, self.strength)


def coherence(config: ColorConfig, default: str, input_image: np.ndarray | None = None,
              read_image: Callable[[str], np.ndarray] | None = None) -> Coherence | None:
    """What holds a render's frames to their reference, or None when coherence is off.

    ``default``: the mode when the config leaves it unset (zoom: lab, video: none).
    ``input_image``: for ``reference = "input"``; with ``"first"`` the first frame given
    becomes the reference; any other value is an image file, read by ``read_image``.
    """
    mode = config.coherence or default
    if mode == "none" or config.strength <= 0:
        return None
    if config.reference == "first":
        return Coherence(mode, config.strength)
    if config.reference == "input":
        if input_image is None:
            raise DreamvideoError('color.reference = "input" needs an input image; use "first" or an '
                                  "image file")
        return Coherence(mode, config.strength, input_image)
    if read_image is None:
        raise DreamvideoError("a reference image needs a reader")
    return Coherence(mode, config.strength, read_image(config.reference))
