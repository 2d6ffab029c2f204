"""Motion where the dream runs: a frame's flow both ways, the consistency mask and the
scene-cut statistics, computed by one compiled program (:func:`pair_motion`) from the
luminance of two frames (:func:`luminance`). The same quantities as
:mod:`dreamvideo.temporal.motion` computes on the host. A render's frame step computes
them inside its own program (:mod:`dreamvideo.temporal.step`); :class:`DeviceMotion`
computes them alone, frame after frame, where only the motion is wanted (the scene cuts
of a clip split among workers, the flow's own rate in ``bench video``).

(Tests: tests/temporal/test_deviceflow.py.)
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from dreamvideo.config import TemporalConfig
from dreamvideo.core.backends import load_keras, module
from dreamvideo.core.device import to_device, to_host
from dreamvideo.temporal.deviceflow import both_ways, filtered, gaussian, separable
from dreamvideo.temporal.devicewarp import sample
from dreamvideo.temporal.flow import BOUNDARY, CENTRAL, CONSISTENT, RELATIVE
from dreamvideo.temporal.motion import (
    LOW_TEXTURE,
    Clock,
    Motion,
    cut_rule,
    flow_on_device,
    flow_shape,
    with_motion,
)

Tensor = Any  # a tensor of the running Keras backend
GRAY = np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R BT.601 luma, as OpenCV's RGB2GRAY
MASK_BLUR = gaussian(1.0)  # no hard edges in the carried dream
CLIP = 3.2  # standard deviations: the host's normalised picture is 128 ± 40 per deviation, in 0-255


def luminance(frame: Tensor, shape: tuple[int, int]) -> tuple[Tensor, Tensor]:
    """(luminance (h, w, 1) at the flow's ``shape`` in standard deviations about its mean,
    that standard deviation in 0-255 levels) of an RGB frame (H, W, 3) float32 0-255: a
    fade or a change of exposure leaves the picture the flow sees unchanged. A frame with
    less texture than :data:`LOW_TEXTURE` is divided by that instead, so the noise of a
    nearly black frame is not blown up into motion."""
    ops = load_keras().ops
    gray = ops.sum(frame * ops.convert_to_tensor(GRAY), axis=-1, keepdims=True)
    if tuple(gray.shape[:2]) != tuple(shape):
        gray = ops.image.resize(gray, shape, interpolation="bilinear", antialias=True)
    std = ops.std(gray)
    return (gray - ops.mean(gray)) / ops.maximum(std, LOW_TEXTURE), std


def consistency(backward: Tensor, forward: Tensor, softness: float) -> Tensor:
    """Trust (h, w) in [0, 1], as :func:`dreamvideo.temporal.flow.consistency_mask`."""
    ops = load_keras().ops
    there = sample(forward[None], backward[None], cubic=False)[0]
    b2 = ops.sum(backward * backward, axis=-1)
    miss = ops.sum((backward + there) ** 2, axis=-1)
    excess = miss - RELATIVE * (b2 + ops.sum(there * there, axis=-1)) - CONSISTENT
    gx, gy = filtered(backward[None], CENTRAL[0], 2)[0], filtered(backward[None], CENTRAL[0], 1)[0]
    boundary = ops.sum(gx * gx, axis=-1) + ops.sum(gy * gy, axis=-1) - RELATIVE * b2 - BOUNDARY
    if softness <= 0:
        trust = ops.cast((excess <= 0) & (boundary <= 0), "float32")
    else:
        over = ops.maximum(excess, 0.0) / softness + ops.maximum(boundary, 0.0) / (RELATIVE * softness)
        trust = ops.exp(-over)
    return separable(trust[None, ..., None], MASK_BLUR)[0, ..., 0]


def pair_motion(previous: Tensor, current: Tensor, softness: float) -> tuple[Tensor, Tensor, Tensor]:
    """(backward flow (h, w, 2), mask (h, w), [mask mean, mismatch, distrusted share]) of
    two luminance images (:func:`luminance`). ``mismatch``: mean |current - previous warped
    along the flow| in standard deviations, the cut test's second half. A flow that is
    not finite anywhere (a flat or broken frame) counts as no motion, trusted nowhere."""
    ops = load_keras().ops
    backward, forward = both_ways(previous, current)
    finite = ops.all(ops.isfinite(backward)) & ops.all(ops.isfinite(forward))
    backward = ops.where(finite, backward, 0.0)
    mask = ops.where(finite, consistency(backward, ops.where(finite, forward, 0.0), softness), 0.0)
    moved = sample(previous[None], backward[None], cubic=False)[0]
    mismatch = ops.mean(ops.abs(ops.clip(moved, -CLIP, CLIP) - ops.clip(current, -CLIP, CLIP)))
    mismatch = ops.where(finite & ops.isfinite(mismatch), mismatch, 0.0)
    stats = ops.stack([ops.mean(mask), mismatch, ops.mean(ops.cast(mask < 0.5, "float32"))])
    return backward, mask, stats


@functools.cache
def compiled(softness: float) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """(:func:`pair_motion`, :func:`luminance`) compiled once per process and mask softness
    (each render, preview and test of a process reuses the programs)."""
    backend = module()
    return (backend.compile_kernel(functools.partial(pair_motion, softness=softness)),
            backend.compile_kernel(luminance, static=("shape",)))


class DeviceMotion:
    """Frames in, :class:`~dreamvideo.temporal.motion.Motion` out, the flow computed on the
    device; each frame is uploaded here (``Motion.uploaded``), so nothing goes up twice."""

    def __init__(self, config: TemporalConfig) -> None:
        self.config = config
        self._pair, self._luminance = compiled(config.mask_softness)
        self._previous: tuple[Tensor, float] | None = None

    def __call__(self, frame: np.ndarray) -> tuple[Motion, float]:
        """The frame's motion from the one before, and the seconds it took (synchronised)."""
        begun = time.perf_counter()
        pixels = to_device(frame, "float32")
        now, std = self._luminance(pixels, shape=flow_shape(*frame.shape[:2], self.config.flow_size))
        texture = float(to_host(std))
        previous, self._previous = self._previous, (now, texture)
        if previous is None:
            return Motion(frame, texture=texture, uploaded=(pixels,)), time.perf_counter() - begun
        backward, mask, stats = self._pair(previous[0], now)
        mean, mismatch, distrusted = (float(v) for v in to_host(stats))
        cut = cut_rule((texture, previous[1]), mean, self.config, lambda: mismatch)
        motion = Motion(frame, backward, mask, cut, texture, distrusted, uploaded=(pixels, backward, mask))
        return motion, time.perf_counter() - begun


def device_motion(frames: Iterable[np.ndarray], config: TemporalConfig,
                  clock: Clock | None = None) -> Iterator[Motion]:
    """Each frame with its motion (:class:`DeviceMotion`), in order."""
    iterator, step = iter(frames), DeviceMotion(config)
    try:
        for frame in iterator:
            motion, seconds = step(frame)
            if clock is not None and motion.backward is not None:
                clock("flow", seconds)
            yield motion
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


def motion_stage(frames: Iterable[np.ndarray], config: TemporalConfig,
                 clock: Clock | None = None) -> Iterator[Motion]:
    """Each frame with its motion alone, on the device (``--flow device``, or ``auto`` on a
    GPU) or on the host (:func:`~dreamvideo.temporal.motion.with_motion`)."""
    if flow_on_device(config):
        return device_motion(frames, config, clock)
    return with_motion(frames, config, clock)
