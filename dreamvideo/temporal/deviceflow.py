"""Dense optical flow written in ``keras.ops``, so it runs wherever the dream runs
(TensorFlow, JAX, PyTorch; CPU or GPU) and a video's frames need not come back to the
host between the decoder and the encoder. No learned weights.

The method is dense pyramidal Lucas-Kanade with iterative warping (Bouguet 2000): at every
level of an image pyramid, coarse to fine, the second image is warped by the flow so far
(bicubic: bilinear reading softens by how far between pixels it reads and draws the
solve toward whole pixels) and the motion left is solved per pixel from the structure
tensor summed over a Gaussian window. Where one direction of motion cannot be seen (an
edge, a flat patch) a pixel takes its neighbours' flow, weighted by how well each is
seen. Forward and backward flow are one batch of two; where they disagree (around a
moving object, whose flow the window smears over its border) each pixel takes the best
matching flow among its neighbours' at a few distances, which puts the border back.
Last, a joint bilateral filter guided by the image smooths the flow within surfaces and
not across their edges, as a variational refinement would.

Conventions as :mod:`dreamvideo.temporal.flow`: ``flow`` is defined on the first image's
pixels and points into the second; images are (batch, height, width, channels).

(Tests: tests/temporal/test_deviceflow.py.)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dreamvideo.core.backends import load_keras
from dreamvideo.temporal.devicewarp import sample

Tensor = Any  # a tensor of the running Keras backend
COARSEST = 12  # the shorter side of the smallest pyramid level, in pixels
ITERATIONS = 5  # warps and solves per level
REGULARISE = 2e-2  # added to the structure tensor's diagonal (luminance in standard deviations)
DISAGREE = 0.3  # pixels whose forward and backward flow miss each other by more are re-chosen
REACH = (3, 6, 9, 12)  # how far away (pixels, along x and y) a re-chosen pixel's candidates lie
KEEP_BIAS = 0.95  # a candidate must match this much better than the pixel's own flow
GUIDE_RADIUS = 6  # pixels: the last smoothing's reach
GUIDE_STRIDE = 2  # pixels between the neighbours it reads: every other one, a quarter of the reads
GUIDE_SPATIAL = 3.0  # pixels: its Gaussian fall-off with distance
GUIDE_RANGE = 0.15  # standard deviations of luminance: its fall-off with difference in looks


def gaussian(sigma: float) -> np.ndarray:
    """Normalised Gaussian taps over three standard deviations."""
    radius = max(1, round(3 * sigma))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    return (taps / taps.sum()).astype(np.float32)


SMOOTH = np.array([1, 4, 6, 4, 1], np.float32) / 16  # binomial: the blur before halving
DERIVATIVE = np.array([1, -8, 0, 8, -1], np.float32) / 12  # fourth-order central difference
WINDOW = gaussian(2.5)  # the window the structure tensor is summed over
SPREAD = gaussian(3.0)  # how far a well-seen pixel lends its flow
MATCH = gaussian(1.5)  # the window a candidate's match is measured over


def mirrored(images: Tensor, rows: int, cols: int) -> Tensor:
    """``images`` (B, H, W, C) with ``rows`` and ``cols`` pixels mirrored on at each side,
    the edge pixel repeated (NumPy's "symmetric"). PyTorch pads a 4-D tensor by reflection
    along its last two axes only, so there it is written with flips (slower elsewhere)."""
    keras = load_keras()
    ops = keras.ops
    if keras.backend.backend() != "torch":
        return ops.pad(images, [[0, 0], [rows, rows], [cols, cols], [0, 0]], mode="symmetric")
    if rows:
        images = ops.concatenate([ops.flip(images[:, :rows], 1), images,
                                  ops.flip(images[:, -rows:], 1)], axis=1)
    if cols:
        images = ops.concatenate([ops.flip(images[:, :, :cols], 2), images,
                                  ops.flip(images[:, :, -cols:], 2)], axis=2)
    return images


def filtered(images: Tensor, taps: np.ndarray, axis: int) -> Tensor:
    """``images`` convolved with ``taps`` along ``axis`` (1: down the rows, 2: along
    them), every channel alike, edges mirrored so the border does not read as an edge."""
    ops = load_keras().ops
    radius, channels = len(taps) // 2, images.shape[-1]
    shape = (len(taps), 1) if axis == 1 else (1, len(taps))
    kernel = np.tile(taps.reshape(*shape, 1, 1), (1, 1, channels, 1))
    padded = mirrored(images, radius, 0) if axis == 1 else mirrored(images, 0, radius)
    return ops.depthwise_conv(padded, ops.convert_to_tensor(kernel),
                              padding="valid")


def separable(images: Tensor, taps: np.ndarray) -> Tensor:
    """``images`` convolved with ``taps`` down and along (a separable 2-D filter)."""
    return filtered(filtered(images, taps, 1), taps, 2)


def level_shapes(height: int, width: int) -> list[tuple[int, int]]:
    """The pyramid's (height, width), finest first, halving while the shorter side stays
    at least :data:`COARSEST`.

    >>> level_shapes(180, 320)
    [(180, 320), (90, 160), (45, 80), (23, 40)]
    """
    shapes = [(height, width)]
    while min(shapes[-1]) >= 2 * COARSEST:
        h, w = shapes[-1]
        shapes.append(((h + 1) // 2, (w + 1) // 2))
    return shapes


def _resize(images: Tensor, shape: tuple[int, int]) -> Tensor:
    return load_keras().ops.image.resize(images, shape, interpolation="bilinear", antialias=False)


def _inside(flow: Tensor) -> Tensor:
    """1 where ``x + flow[x]`` lands inside the image, else 0: outside, nothing is seen."""
    ops = load_keras().ops
    _, height, width, _ = flow.shape
    x = ops.arange(width, dtype="float32")[None, None, :] + flow[..., 0]
    y = ops.arange(height, dtype="float32")[None, :, None] + flow[..., 1]
    inside = (x >= 0) & (x <= width - 1) & (y >= 0) & (y <= height - 1)
    return ops.cast(inside, "float32")[..., None]


def refine(first: Tensor, second: Tensor, flow: Tensor) -> Tensor:
    """``flow`` from ``first`` to ``second`` (one level) improved by Lucas-Kanade steps,
    each on ``second`` warped by the flow so far."""
    ops = load_keras().ops

    def step(_: Any, flow: Tensor) -> Tensor:
        moved = sample(second, flow)
        mean = 0.5 * (first + moved)
        dx, dy = filtered(mean, DERIVATIVE, 2), filtered(mean, DERIVATIVE, 1)
        dt = (moved - first) * _inside(flow)
        products = ops.concatenate([dx * dx, dx * dy, dy * dy, dx * dt, dy * dt], axis=-1)
        sxx, sxy, syy, sxt, syt = ops.split(separable(products, WINDOW), 5, axis=-1)
        sxx, syy = sxx + REGULARISE, syy + REGULARISE
        det = sxx * syy - sxy * sxy
        flow = flow + ops.concatenate([(sxy * syt - syy * sxt) / det, (sxy * sxt - sxx * syt) / det], axis=-1)
        seen = det / (sxx + syy)  # about the smaller eigenvalue: how well both directions are seen
        return separable(flow * seen, SPREAD) / separable(seen, SPREAD)

    return ops.fori_loop(0, ITERATIONS, step, flow)  # a loop, not unrolled: traced once


def median3(flow: Tensor) -> Tensor:
    """The 3x3 median of each flow component (edges mirrored): one-pixel outliers gone."""
    ops = load_keras().ops
    _, height, width, _ = flow.shape
    padded = mirrored(flow, 1, 1)
    shifted = [padded[:, dy:dy + height, dx:dx + width, :] for dy in range(3) for dx in range(3)]
    return ops.median(ops.stack(shifted, axis=-1), axis=-1)


def dense_flow(first: Tensor, second: Tensor) -> Tensor:
    """Flow (B, H, W, 2) from ``first`` to ``second`` (B, H, W, 1: luminance in standard
    deviations), coarse to fine."""
    ops = load_keras().ops
    shapes = level_shapes(*first.shape[1:3])
    pyramid = [(first, second)]
    for shape in shapes[1:]:
        pyramid.append(tuple(_resize(separable(image, SMOOTH), shape) for image in pyramid[-1]))
    flow = ops.zeros((first.shape[0], *shapes[-1], 2))
    for level in range(len(shapes) - 1, -1, -1):
        if level < len(shapes) - 1:
            (h, w), (ch, cw) = shapes[level], shapes[level + 1]
            scale = ops.convert_to_tensor(np.array([w / cw, h / ch], np.float32))
            flow = median3(_resize(flow, (h, w)) * scale)
        flow = refine(*pyramid[level], flow)
    return flow


def _shifted(flow: Tensor, dy: int, dx: int) -> Tensor:
    """``flow`` read ``(dy, dx)`` pixels away (edges mirrored)."""
    _, height, width, _ = flow.shape
    pad = max(abs(dy), abs(dx))
    padded = mirrored(flow, pad, pad)
    return padded[:, pad + dy:pad + dy + height, pad + dx:pad + dx + width, :]


def best_neighbour(first: Tensor, second: Tensor, flow: Tensor) -> Tensor:
    """Each pixel's flow or one of its neighbours' (:data:`REACH` away along x and y),
    whichever carries ``first`` onto ``second`` best over a small window."""
    ops = load_keras().ops
    along = [(s * r, 0) for r in REACH for s in (-1, 1)]
    offsets = [(0, 0), *along, *((dx, dy) for dy, dx in along)]
    candidates = [_shifted(flow, dy, dx) for dy, dx in offsets]
    costs = [separable(ops.abs(sample(second, c, cubic=False) - first), MATCH) for c in candidates]
    costs[0] = costs[0] * KEEP_BIAS
    best = ops.one_hot(ops.argmin(ops.concatenate(costs, axis=-1), axis=-1), len(candidates))
    return ops.sum(ops.stack(candidates, axis=-2) * best[..., None], axis=-2)


def guided(flows: Tensor, images: Tensor) -> Tensor:
    """``flows`` averaged over neighbours that look alike in ``images`` (the images they are
    defined on): a joint bilateral filter (:data:`GUIDE_RADIUS`, :data:`GUIDE_SPATIAL`,
    :data:`GUIDE_RANGE`). It smooths the per-pixel solve's ripples inside a surface, which
    the consistency mask would read as motion boundaries, and stops at the image's edges,
    where the real boundaries are."""
    ops = load_keras().ops
    _, height, width, _ = flows.shape
    r = GUIDE_RADIUS
    padded = mirrored(ops.concatenate([flows, images], axis=-1), r, r)
    total, weight = 0.0, 0.0
    for dy in range(-r, r + 1, GUIDE_STRIDE):
        for dx in range(-r, r + 1, GUIDE_STRIDE):
            near = padded[:, r + dy:r + dy + height, r + dx:r + dx + width, :]
            w = ops.exp(-(dy * dy + dx * dx) / (2 * GUIDE_SPATIAL**2)
                        - ops.square(near[..., 2:] - images) / (2 * GUIDE_RANGE**2))
            total, weight = total + w * near[..., :2], weight + w
    return total / weight


def disagreement(flows: Tensor) -> Tensor:
    """How far (pixels) each of a pair of opposite flows (2, H, W, 2) misses the other one
    sampled where it points: 0 where they are consistent."""
    ops = load_keras().ops
    back = sample(ops.flip(flows, axis=0), flows, cubic=False)
    return ops.sqrt(ops.sum((flows + back) ** 2, axis=-1, keepdims=True))


def both_ways(previous: Tensor, current: Tensor) -> tuple[Tensor, Tensor]:
    """(backward: current → previous, forward: previous → current), each (H, W, 2), of two
    luminance images (H, W, 1) in standard deviations, computed as one batch."""
    ops = load_keras().ops
    first, second = ops.stack([current, previous]), ops.stack([previous, current])
    flows = dense_flow(first, second)
    unsure = ops.cast(disagreement(flows) > DISAGREE, "float32")
    unsure = ops.max_pool(ops.max_pool(unsure, 5, 1, "same"), 5, 1, "same")  # and a band around
    flows = guided(flows + unsure * (best_neighbour(first, second, flows) - flows), first)
    return flows[0], flows[1]
