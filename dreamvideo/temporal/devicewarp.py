"""Warping on the device: the carried dream moves along the flow where the dream lives.

The previous dream's residual never leaves the device between frames; only the flow
(small, at the flow's own resolution) goes up, and it is upsampled there. Bilinear
sampling with replicated edges, as ``cv2.remap`` with ``INTER_LINEAR`` and
``BORDER_REPLICATE`` (OpenCV rounds its weights to 1/32; this does not). When the backend
computes on the CPU, the device is the host and ``cv2.remap`` itself is 20x faster than
gathers through ``keras.ops``, so that is used.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dreamvideo.core.backends import load_keras, module
from dreamvideo.temporal.flow import warp as host_warp

Tensor = Any


def upsample_flow(flow: Tensor, shape: tuple[int, int]) -> Tensor:
    """Flow (h, w, 2) in pixels of its own size → (H, W, 2) in pixels of ``shape``."""
    ops = load_keras().ops
    height, width = flow.shape[:2]
    if (height, width) == tuple(shape):
        return flow
    scale = ops.convert_to_tensor([shape[1] / width, shape[0] / height], "float32")
    return ops.image.resize(flow, shape, interpolation="bilinear") * scale


def upsample(image: Tensor, shape: tuple[int, int]) -> Tensor:
    """A map such as the consistency mask, resized to ``shape`` (bilinear)."""
    if tuple(image.shape[:2]) == tuple(shape):
        return image
    return load_keras().ops.image.resize(image, shape, interpolation="bilinear")


def warp(image: Tensor, flow: Tensor) -> Tensor:
    """Sample ``image`` (H, W, C) at ``x + flow[x]`` (H, W, 2; x then y), edges replicated."""
    ops = load_keras().ops
    if not module().on_gpu():
        moved = host_warp(np.asarray(ops.convert_to_numpy(image)), np.asarray(ops.convert_to_numpy(flow)))
        return ops.convert_to_tensor(moved)
    return gather_warp(image, flow)


def gather_warp(image: Tensor, flow: Tensor) -> Tensor:
    """:func:`warp` as bilinear gathers in ``keras.ops``: what runs on a GPU."""
    ops = load_keras().ops
    height, width = image.shape[:2]
    channels = image.shape[2]
    gx = ops.clip(ops.arange(width, dtype="float32")[None, :] + flow[..., 0], 0.0, width - 1.0)
    gy = ops.clip(ops.arange(height, dtype="float32")[:, None] + flow[..., 1], 0.0, height - 1.0)
    x0, y0 = ops.floor(gx), ops.floor(gy)
    wx, wy = (gx - x0)[..., None], (gy - y0)[..., None]
    x0, y0 = ops.cast(x0, "int32"), ops.cast(y0, "int32")
    x1, y1 = ops.minimum(x0 + 1, width - 1), ops.minimum(y0 + 1, height - 1)
    flat = ops.reshape(image, (height * width, channels))

    def at(y: Tensor, x: Tensor) -> Tensor:
        return ops.take(flat, y * width + x, axis=0)

    top = at(y0, x0) * (1.0 - wx) + at(y0, x1) * wx
    bottom = at(y1, x0) * (1.0 - wx) + at(y1, x1) * wx
    return top * (1.0 - wy) + bottom * wy
