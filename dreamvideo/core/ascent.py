"""One ascent step's arithmetic in ``keras.ops``, the same on every backend: the loss,
the tie-breaking dither, tiled gradients and the normalised step.

(Tests: tests/core/test_dream.py.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from dreamvideo.core.backends import load_keras

BORDER = 2  # activation pixels cropped per side: edge effects are not dreamt
EPSILON = 1e-7  # floor of the gradient normaliser
DITHER = 0.01  # tie-breaking pattern the network sees on top of the image (0-255 scale)
PIXEL_RANGE = 255.0

Tensor = Any  # a tensor of the running backend


def dither(rows: Tensor, cols: Tensor) -> Tensor:
    """A fixed pattern of ±DITHER/2 at integer coordinates (no two equal values within 3
    pixels). Added to what the network sees, it leaves no exact ties for the max pools,
    which backends break differently (flat and black frames are full of them)."""
    ops = load_keras().ops
    code = (rows[:, None] * 31 + cols[None, :] * 17) % 64
    return (ops.cast(code, "float32") / 63.0 - 0.5) * DITHER


def dithered(piece: Tensor, origin: tuple[Any, Any] = (0, 0)) -> Tensor:
    """The piece as a batch of one, as the network sees it: with the dither of the image
    it was cut from at ``origin``, so tiled and whole images see the same numbers."""
    ops = load_keras().ops
    height, width = piece.shape[:2]
    rows, cols = ops.arange(height, dtype="int32") + origin[0], ops.arange(width, dtype="int32") + origin[1]
    pattern = dither(rows, cols)
    return piece[None] + pattern[None, :, :, None]


def dream_loss(features: dict[str, Tensor], layers: Sequence[str], weights: Tensor,
               guides: dict[str, Tensor] | None = None) -> Tensor:
    """Weighted sum over layers of sum(a²) inside a 2-pixel border / element count, in float32.

    With ``guides`` (``core.guide``), ``weights`` holds twice as many entries: the plain
    terms' weights, then the guided terms' (a guide weight of g gives w(1-g) and wg)."""
    ops = load_keras().ops
    total = 0.0
    for i, name in enumerate(layers):
        act = ops.cast(features[name], "float32")
        inner = act[:, BORDER:-BORDER, BORDER:-BORDER, :]
        total = total + weights[i] * ops.sum(ops.square(inner)) / ops.cast(ops.size(act), "float32")
        if guides:
            total = total + weights[len(layers) + i] * guided_loss(act, guides[name])
    return total


def guided_loss(activation: Any, guide: Any) -> Any:
    """The guided objective of Google's notebook (``core.guide``): sum_p max_q x_p . y_q
    over the activation inside the border, / its element count (the plain loss's scale):
    ``activation`` (1, H, W, C), ``guide`` (M, C)."""
    ops = load_keras().ops
    act = ops.cast(activation, "float32")
    inner = act[:, BORDER:-BORDER, BORDER:-BORDER, :]
    vectors = ops.reshape(inner, (-1, act.shape[-1]))
    best = ops.max(ops.matmul(vectors, ops.transpose(guide)), axis=1)
    return ops.sum(best) / ops.cast(ops.size(act), "float32")


def tiled_value_and_grad(value_and_grad: Callable[..., tuple[Tensor, Tensor]], image: Tensor,
                         pieces: Any, window: tuple[Any, Any]) -> tuple[Tensor, Tensor]:
    """Loss and gradient piece by piece, so memory is bounded by the tile; every backend's.

    ``pieces`` and ``window`` come from :func:`dreamvideo.core.plan.tile_pieces` (a tensor
    of them on TensorFlow and JAX, whose loops index it with a traced counter). Each piece
    is computed in a window of one size, so one compiled piece serves them all; its gradient
    counts only inside the piece, weighted by the piece's share of the area, as is its loss,
    so the sum approximates the whole image's loss; the caller rolls the image so the seams
    move every step. One piece is the whole image: no loop. ``value_and_grad(piece, origin)``.
    """
    ops = load_keras().ops
    count = ops.shape(pieces)[0] if hasattr(pieces, "shape") else len(pieces)
    if isinstance(count, int) and count == 1:
        return value_and_grad(image, (0, 0))
    height, width = window
    shape = ops.shape(image)
    area = ops.cast(shape[0] * shape[1], "float32")
    inside_y, inside_x = ops.arange(height, dtype="int32")[:, None], ops.arange(width, dtype="int32")[None, :]

    def piece(t, carry):
        total, grad = carry
        top, bottom, left, right, y, x = (pieces[t][k] for k in range(6))
        loss, g = value_and_grad(ops.slice(image, (y, x, 0), (height, width, 3)), (y, x))
        share = ops.cast((bottom - top) * (right - left), "float32") / area
        own = ((inside_y >= top - y) & (inside_y < bottom - y)
               & (inside_x >= left - x) & (inside_x < right - x))
        seen = ops.slice(grad, (y, x, 0), (height, width, 3))
        grad = ops.slice_update(grad, (y, x, 0), seen + ops.where(own[..., None], g * share, 0.0))
        return total + loss * share, grad

    def tiled():
        return ops.fori_loop(0, count, piece, (ops.zeros((), "float32"), ops.zeros_like(image)))

    if isinstance(count, int):
        return tiled()
    return ops.cond(count > 1, tiled, lambda: value_and_grad(image, (0, 0)))


def normalised_ascent(image: Tensor, grad: Tensor, step: Tensor) -> Tensor:
    """One step: the gradient divided by its mean absolute value, clipped to 0-255."""
    ops = load_keras().ops
    grad = grad / ops.maximum(ops.mean(ops.abs(grad)), EPSILON)
    return ops.clip(image + step * grad, 0.0, PIXEL_RANGE)


