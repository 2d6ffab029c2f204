"""Warping on the device: the carried dream moves along the flow where the dream lives.

The previous dream's residual never leaves the device between frames; only the flow
(small, at the flow's own resolution) goes up, and it is upsampled there. Bilinear or
bicubic sampling with replicated edges, as ``cv2.remap`` with ``INTER_LINEAR`` or
``INTER_CUBIC`` and ``BORDER_REPLICATE`` (OpenCV rounds its weights to 1/32; this does
not). A compiled frame step (JAX, TensorFlow) gathers inside its program
(:func:`gather_warp`); where the step runs op by op on a CPU (PyTorch) the device is the
host, and ``cv2.remap`` itself is faster than gathers through ``keras.ops``, so that is used.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dreamvideo.core.backends import load_keras, module
from dreamvideo.temporal.flow import warp as host_warp

Tensor = Any
CUBIC_A = -0.75


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


def warp(image: Tensor, flow: Tensor, interpolation: str = "linear") -> Tensor:
    """Sample ``image`` (H, W, C) at ``x + flow[x]`` (H, W, 2; x then y), edges replicated."""
    ops = load_keras().ops
    if not module().on_gpu():
        moved = host_warp(np.asarray(ops.convert_to_numpy(image)), np.asarray(ops.convert_to_numpy(flow)),
                          interpolation)
        return ops.convert_to_tensor(moved)
    return gather_warp(image, flow, interpolation)


BINOMIAL = np.outer([1, 2, 1], [1, 2, 1]).astype(np.float32) / 16
MAX_RESTORE = 2.0  # the most the fine band is ever amplified in one warp


def _soften(image: Tensor) -> Tensor:
    """A 3x3 binomial blur per channel: what is left without the finest band."""
    ops = load_keras().ops
    kernel = ops.convert_to_tensor(np.repeat(BINOMIAL[:, :, None, None], image.shape[-1], axis=2))
    return ops.depthwise_conv(image[None], kernel, padding="same")[0]


def restore_detail(before: Tensor, moved: Tensor) -> Tensor:
    """``moved`` (``before`` warped) with its finest band amplified back to ``before``'s
    strength: interpolating between pixels softens that band a little every frame, and
    frame after frame a carried dream goes soft. Only what this one warp lost is given
    back (at most ``MAX_RESTORE``x), so nothing builds up over a clip."""
    ops = load_keras().ops
    soft = _soften(moved)
    had = ops.mean(ops.abs(before - _soften(before)))
    has = ops.mean(ops.abs(moved - soft))
    gain = ops.clip(had / ops.maximum(has, 1e-6), 1.0, MAX_RESTORE)
    return soft + gain * (moved - soft)


def cubic_weights(t: Tensor) -> list[Tensor]:
    """Keys' cubic convolution (a = -0.75, as OpenCV) for the taps at -1, 0, 1, 2."""
    a = CUBIC_A
    u = 1.0 - t
    w0 = ((a * (t + 1.0) - 5.0 * a) * (t + 1.0) + 8.0 * a) * (t + 1.0) - 4.0 * a
    w1 = ((a + 2.0) * t - (a + 3.0)) * t * t + 1.0
    w2 = ((a + 2.0) * u - (a + 3.0)) * u * u + 1.0
    return [w0, w1, w2, 1.0 - w0 - w1 - w2]


def gather_warp(image: Tensor, flow: Tensor, interpolation: str = "linear") -> Tensor:
    """:func:`warp` as gathers in ``keras.ops``: what runs on a GPU."""
    return sample(image[None], flow[None], interpolation == "cubic")[0]


def sample(images: Tensor, flow: Tensor, cubic: bool = True) -> Tensor:
    """``images`` (B, H, W, C) read at ``x + flow[x]`` (B, H, W, 2), edges replicated:
    bicubic (Keys, as OpenCV) or bilinear."""
    ops = load_keras().ops
    batch, height, width, channels = images.shape
    gx = ops.clip(ops.arange(width, dtype="float32")[None, None, :] + flow[..., 0], 0.0, width - 1.0)
    gy = ops.clip(ops.arange(height, dtype="float32")[None, :, None] + flow[..., 1], 0.0, height - 1.0)
    x0, y0 = ops.floor(gx), ops.floor(gy)
    wx, wy = (gx - x0)[..., None], (gy - y0)[..., None]
    x0, y0 = ops.cast(x0, "int32"), ops.cast(y0, "int32")
    base = (ops.arange(batch, dtype="int32") * (height * width))[:, None, None]
    flat = ops.reshape(images, (batch * height * width, channels))
    if cubic:
        offsets, weights_x, weights_y = (-1, 0, 1, 2), cubic_weights(wx), cubic_weights(wy)
    else:
        offsets, weights_x, weights_y = (0, 1), [1.0 - wx, wx], [1.0 - wy, wy]
    xs = [ops.clip(x0 + d, 0, width - 1) for d in offsets]
    out = 0.0
    for dy, w_y in zip(offsets, weights_y, strict=True):
        row = base + ops.clip(y0 + dy, 0, height - 1) * width
        out = out + w_y * sum(ops.take(flat, row + x, axis=0) * w_x
                              for x, w_x in zip(xs, weights_x, strict=True))
    return out
