"""Carrying the previous dream into the next frame, so video does not flicker.

``flow`` (Ruder, Dosovitskiy & Brox 2016): the previous dream's *residual* (output -
input) is warped along the optical flow into the current frame and added where the
forward-backward check trusts the flow; the frame is then dreamed a few steps from
there. Carrying the residual rather than the pixels lets the dream follow moving
objects while the current frame's own content shows through; newly revealed pixels
(mask 0) start from the plain frame and get dreamed fresh. The carried residual loses
its mean colour and is capped at the strength of a fresh dream, so the video does not
brighten or intensify frame after frame. A frame whose pixels mostly fail the check
starts a new shot: the carry restarts.

``blend`` mixes the previous output into the next input without flow and dreams the mix
in full (as older tools do); ``none`` dreams every frame alone. Both are kept for
comparison.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from dreamvideo.config import TemporalConfig
from dreamvideo.flow import consistency_mask, optical_flow, to_gray, warp

CUT_MISMATCH = 0.5  # mean |normalised frame - warped normalised previous|, in standard deviations
LOW_TEXTURE = 4.0  # luminance standard deviation (0-255) below which a frame tells nothing
REFRESH_TEXTURE = 2.0  # the carry's reference is taken again once a shot's contrast has grown this much
DreamFn = Callable[[np.ndarray], np.ndarray]  # float32 RGB 0-255 in and out


@dataclass(frozen=True)
class Motion:
    """A frame and what the flow stage found, computed ahead of the dream."""

    frame: np.ndarray  # RGB uint8
    backward: np.ndarray | None = None  # flow current → previous; None: nothing to carry
    mask: np.ndarray | None = None  # trust in [0, 1] of each pixel's carried dream
    cut: bool = False  # a new shot starts here


def normalised(frame: np.ndarray) -> tuple[np.ndarray, float]:
    """Luminance with its mean and contrast taken out (uint8, mean 128, 40 levels per
    standard deviation), and that standard deviation: a fade or a change of exposure
    leaves the picture the flow and the cut test see unchanged."""
    gray = to_gray(frame).astype(np.float32)
    std = texture(frame)
    z = (gray - gray.mean()) / max(std, 1e-3)
    return np.clip(128 + 40 * z, 0, 255).astype(np.uint8), std


def texture(frame: np.ndarray) -> float:
    """Luminance standard deviation (0-255): how much picture there is to see."""
    return float(to_gray(frame).std())


def with_motion(frames: Iterable[np.ndarray], config: TemporalConfig) -> Iterator[Motion]:
    """Attach flow, mask and scene-cut flag to each frame (``flow`` mode only).

    The flow runs on luminance-normalised frames, so it stays consistent through fades;
    a frame with too little texture (black, flat) continues the shot: nothing in it can
    tell a cut.
    """
    previous = None
    iterator = iter(frames)
    try:
        for frame in iterator:
            current = normalised(frame) if config.mode == "flow" else None
            if previous is None or current is None:
                yield Motion(frame)
            else:
                backward = optical_flow(current[0], previous[0], config.flow)
                forward = optical_flow(previous[0], current[0], config.flow)
                mask = consistency_mask(backward, forward, config.mask_softness)
                mask = cv2.GaussianBlur(mask, (0, 0), 1.0)  # no hard edges in the carried dream
                yield Motion(frame, backward, mask, cut=is_cut(current, previous, backward, mask, config))
            previous = current
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


def is_cut(current: tuple[np.ndarray, float], previous: tuple[np.ndarray, float], backward: np.ndarray,
           mask: np.ndarray, config: TemporalConfig) -> bool:
    """A new shot: too few pixels follow the flow, or the warped previous frame does not
    look like this one (flow can "match" unrelated textures consistently). Both frames
    come as :func:`normalised` (picture, contrast); a low-texture one is never a cut."""
    if min(current[1], previous[1]) < LOW_TEXTURE:
        return False
    if float(mask.mean()) < config.scene_cut:
        return True
    mismatch = np.abs(warp(previous[0], backward).astype(np.float32) - current[0]).mean() / 40
    return bool(mismatch > CUT_MISMATCH)


class TemporalDreamer:
    """Dreams one frame after another, each starting from what the last one left."""

    def __init__(self, config: TemporalConfig, first: DreamFn, later: DreamFn) -> None:
        self.config, self._first, self._later = config, first, later
        self._previous_in: np.ndarray | None = None
        self._previous_out: np.ndarray | None = None
        self._reference = 0.0  # mean |residual| of the latest fresh dream
        self._reference_mean = np.zeros((1, 1, 3), np.float32)  # and its mean colour
        self._reference_texture = 0.0  # luminance std of the frame that fresh dream was on
        self.cuts = 0

    def state(self) -> tuple[dict[str, np.ndarray], dict[str, float | int]]:
        """Everything the next frame depends on (arrays, numbers), for a checkpoint."""
        arrays = {"previous_in": self._previous_in, "previous_out": self._previous_out,
                  "reference_mean": self._reference_mean}
        return ({k: v for k, v in arrays.items() if v is not None},
                {"reference": self._reference, "reference_texture": self._reference_texture,
                 "cuts": self.cuts})

    def restore(self, arrays: dict[str, np.ndarray], values: dict[str, float | int]) -> None:
        """Continue exactly where :meth:`state` was taken."""
        self._previous_in = arrays.get("previous_in")
        self._previous_out = arrays.get("previous_out")
        self._reference_mean = arrays["reference_mean"]
        self._reference = float(values["reference"])
        self._reference_texture = float(values.get("reference_texture", 255.0))
        self.cuts = int(values["cuts"])

    def _fresh(self, frame: np.ndarray) -> np.ndarray:
        out = self._first(frame)
        self._set_reference(frame, out)
        return out

    def _set_reference(self, frame: np.ndarray, fresh: np.ndarray) -> None:
        self._reference = float(np.abs(fresh - frame).mean())
        self._reference_mean = (fresh - frame).mean(axis=(0, 1), keepdims=True)
        self._reference_texture = texture(frame)

    def _refresh_reference(self, frame: np.ndarray) -> None:
        """A shot that fades in from black took its reference from a dark frame: a weak
        dream whose mean is all brightening (clipped at 0). Each time the picture has
        doubled its contrast since, the reference is taken again from a fresh dream of
        the current frame; that dream is not shown (the carry goes on), so nothing strobes."""
        current = texture(frame)
        if current >= LOW_TEXTURE and current >= REFRESH_TEXTURE * self._reference_texture:
            self._set_reference(frame, self._first(frame))

    def _carried_residual(self, motion: Motion) -> np.ndarray:
        residual = warp(self._previous_out - self._previous_in, motion.backward)
        # no drift in brightness or colour: hold the mean where a fresh dream puts it
        residual += self._reference_mean - residual.mean(axis=(0, 1), keepdims=True)
        size = float(np.abs(residual).mean())
        if size > self._reference > 0:  # no growth past a fresh dream's strength
            residual *= self._reference / size
        return residual * (self.config.carry * motion.mask[..., None])

    def __call__(self, motion: Motion) -> np.ndarray:
        """The dreamed frame, RGB uint8."""
        frame = motion.frame.astype(np.float32)
        mode = self.config.mode
        if self._previous_out is None or mode == "none" or motion.cut:
            self.cuts += int(motion.cut)
            out = self._fresh(frame)
        elif mode == "blend":  # as older tools do: the full dream on the mixed picture
            blend = self.config.blend
            out = self._first((1 - blend) * frame + blend * self._previous_out)
        else:
            if motion.backward is None or motion.mask is None:
                raise ValueError("flow mode needs Motion with backward flow and mask (see with_motion)")
            self._refresh_reference(frame)
            out = self._later(np.clip(frame + self._carried_residual(motion), 0, 255))
        self._previous_in, self._previous_out = frame, out
        return np.clip(out, 0, 255).round().astype(np.uint8)
