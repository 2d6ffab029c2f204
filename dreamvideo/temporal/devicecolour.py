"""Colour coherence where the dream runs: a frame's histogram matched to a reference's in
LAB, RGB or HSV, in ``keras.ops``, so on a GPU a video's dreamed frame is held to its
palette there and comes back once (:func:`matcher` chooses; on a CPU the host matches).
The same quantities as :mod:`dreamvideo.temporal.coherence` computes on the host
(OpenCV's float conversions: sRGB companding, D65 white; scikit-image's
``match_histograms``: each value's share of the pixels at or below it mapped to the
reference's value at that share, interpolated): the same pixels in RGB; in LAB and HSV
within half a level of 255 on average (OpenCV tabulates its LAB curve, and where values
nearly tie that can reorder them, so a few pixels move by several levels).

(Tests: tests/temporal/test_devicecolour.py.)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from dreamvideo.core.backends import load_keras, module
from dreamvideo.core.device import to_host
from dreamvideo.temporal.coherence import match_colours as host_match

Tensor = Any  # a tensor of the running Keras backend
XYZ = np.array([[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169],
                [0.019334, 0.119193, 0.950227]], np.float32)  # linear sRGB → XYZ, as OpenCV
WHITE = np.array([0.950456, 1.0, 1.088754], np.float32)  # D65, as OpenCV
EDGE = 0.008856  # (6/29)^3: where the LAB curve turns linear
PERIODS = np.array([360.0, 2.0, 2.0], np.float32)  # HSV values wrap as the host's conversion does


def _lab(unit: Tensor) -> Tensor:
    ops = load_keras().ops
    linear = ops.where(unit <= 0.04045, unit / 12.92, ops.power((unit + 0.055) / 1.055, 2.4))
    xyz = ops.matmul(linear, ops.convert_to_tensor(XYZ.T)) / ops.convert_to_tensor(WHITE)
    cube = ops.power(ops.maximum(xyz, 1e-12), 1.0 / 3.0)
    f = ops.where(xyz > EDGE, cube, 7.787 * xyz + 16.0 / 116.0)
    y = xyz[..., 1]
    lightness = ops.where(y > EDGE, 116.0 * cube[..., 1] - 16.0, 903.3 * y)
    return ops.stack([lightness, 500.0 * (f[..., 0] - f[..., 1]), 200.0 * (f[..., 1] - f[..., 2])], axis=-1)


def _from_lab(lab: Tensor) -> Tensor:
    ops = load_keras().ops
    fy = (lab[..., 0] + 16.0) / 116.0
    f = ops.stack([fy + lab[..., 1] / 500.0, fy, fy - lab[..., 2] / 200.0], axis=-1)
    xyz = ops.where(f > 0.206893, f * f * f, (f - 16.0 / 116.0) / 7.787)
    y = ops.where(lab[..., 0] > 903.3 * EDGE, fy * fy * fy, lab[..., 0] / 903.3)
    xyz = ops.stack([xyz[..., 0], y, xyz[..., 2]], axis=-1) * ops.convert_to_tensor(WHITE)
    linear = ops.matmul(xyz, ops.convert_to_tensor(np.linalg.inv(XYZ).T.astype(np.float32)))
    return ops.where(linear <= 0.0031308, 12.92 * linear,
                     1.055 * ops.power(ops.maximum(linear, 0.0), 1.0 / 2.4) - 0.055)


def _hsv(unit: Tensor) -> Tensor:
    ops = load_keras().ops
    r, g, b = unit[..., 0], unit[..., 1], unit[..., 2]
    value, low = ops.max(unit, axis=-1), ops.min(unit, axis=-1)
    spread = value - low
    safe = ops.where(spread > 0, spread, 1.0)
    hue = ops.where(value == r, 60.0 * (g - b) / safe,
                    ops.where(value == g, 120.0 + 60.0 * (b - r) / safe, 240.0 + 60.0 * (r - g) / safe))
    hue = ops.where(spread > 0, hue, 0.0)
    hue = ops.where(hue < 0, hue + 360.0, hue)
    saturation = ops.where(value > 0, spread / ops.where(value > 0, value, 1.0), 0.0)
    return ops.stack([hue, saturation, value], axis=-1)


def _from_hsv(hsv: Tensor) -> Tensor:
    ops = load_keras().ops
    hsv = ops.mod(hsv, ops.convert_to_tensor(PERIODS))
    hue, saturation, value = hsv[..., 0] / 60.0, hsv[..., 1], hsv[..., 2]

    def channel(n: float) -> Tensor:  # the standard closed form, one RGB channel
        k = ops.mod(n + hue, 6.0)
        return value - value * saturation * ops.clip(ops.minimum(k, 4.0 - k), 0.0, 1.0)

    return ops.stack([channel(5.0), channel(3.0), channel(1.0)], axis=-1)


def to_space(rgb: Tensor, mode: str) -> Tensor:
    """RGB (H, W, 3) 0-255 as LAB, HSV or RGB in 0-1, as the host's conversion."""
    unit = load_keras().ops.clip(rgb, 0.0, 255.0) / 255.0
    return {"lab": _lab, "hsv": _hsv}.get(mode, lambda u: u)(unit)


def from_space(values: Tensor, mode: str) -> Tensor:
    """:func:`to_space` undone, as RGB 0-255 (clipped)."""
    unit = {"lab": _from_lab, "hsv": _from_hsv}.get(mode, lambda v: v)(values)
    return load_keras().ops.clip(unit * 255.0, 0.0, 255.0)


def _shares(ordered: Tensor) -> Tensor:
    """For each value of a sorted vector, the share of the values at or below it."""
    ops = load_keras().ops
    return ops.cast(ops.searchsorted(ordered, ordered, side="right"), "float32") / ordered.shape[0]


def match_channel(source: Tensor, template: Tensor) -> Tensor:
    """One channel's values (a vector) mapped so their histogram is the template's."""
    ops = load_keras().ops
    order = ops.argsort(source)
    mine = _shares(ops.take(source, order))
    values = ops.sort(template)
    theirs = _shares(values)
    above = ops.clip(ops.searchsorted(theirs, mine, side="right"), 1, values.shape[0] - 1)
    x0, x1 = ops.take(theirs, above - 1), ops.take(theirs, above)
    y0, y1 = ops.take(values, above - 1), ops.take(values, above)
    mapped = y0 + (ops.clip(mine, x0, x1) - x0) * (y1 - y0) / ops.maximum(x1 - x0, 1e-12)
    mapped = ops.where(mine <= theirs[0], values[0], mapped)
    return ops.scatter(order[:, None], mapped, mapped.shape)  # back into the source's order


def match_colours(rgb: Tensor, reference: Tensor, mode: str, strength: float) -> Tensor:
    """``rgb`` (H, W, 3) 0-255 with its histogram matched to ``reference``'s in ``mode``
    space, mixed by ``strength``; float32 0-255, on the device."""
    ops = load_keras().ops
    frame = ops.cast(rgb, "float32")
    mine, theirs = to_space(frame, mode), to_space(ops.cast(reference, "float32"), mode)
    flat, flat_theirs = ops.reshape(mine, (-1, 3)), ops.reshape(theirs, (-1, 3))
    matched = ops.stack([match_channel(flat[:, c], flat_theirs[:, c]) for c in range(3)], axis=-1)
    matched = from_space(ops.reshape(matched, mine.shape), mode)
    return frame + strength * (matched - frame)


@functools.cache
def matcher(mode: str, strength: float) -> Callable[[Tensor, Tensor], Any]:
    """(frame, reference) → the frame as RGB uint8 with its colours matched: on a GPU by
    :func:`match_colours`, one compiled program per shape; on a CPU by the host's matching
    (:func:`dreamvideo.temporal.coherence.match_colours`), as the device is the host there and
    its sorts are slower than NumPy's (a 1080p frame on 2 cores: 1.5 s TensorFlow, 2.7 s JAX,
    0.3 s on the host)."""
    ops = load_keras().ops
    if not module().on_gpu():
        def on_host(rgb: Any, reference: Any) -> np.ndarray:
            matched = host_match(to_host(rgb), to_host(reference), mode, strength)
            return np.clip(matched, 0, 255).round().astype(np.uint8)

        return on_host

    def matched(rgb: Tensor, reference: Tensor) -> Tensor:
        out = match_colours(rgb, reference, mode, strength)
        return ops.cast(ops.round(ops.clip(out, 0.0, 255.0)), "uint8")

    return module().compile_kernel(matched)
