"""The DeepDream octave core: arrays in, arrays out.

step → loop → octaves, as in Chollet's keras-io example, but with nothing global:
a :class:`Dreamer` holds one extractor and one compiled octave loop. Every step of an
octave runs inside that one TensorFlow graph; its inputs (image of any size, layer
weights, step size, seeds, …) are tensors, so it is traced once and reused for every
image size and setting.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

from dreamvideo._tensorflow import tf
from dreamvideo.config import DreamConfig
from dreamvideo.errors import DreamvideoError
from dreamvideo.models import Extractor

log = logging.getLogger("dreamvideo")

BORDER = 2  # activation pixels cropped per side: edge effects are not dreamt
MAX_OCTAVES = 20  # the most octaves an automatic count (``octaves = None``) picks
EPSILON = 1e-7  # floor of the gradient normaliser
PIXEL_RANGE = 255.0

OctaveCallback = Callable[[int, int, np.ndarray], None]  # (octave index, octaves, step losses)


def _splits(n: tf.Tensor, tile: tf.Tensor) -> tf.Tensor:
    """Boundaries of ceil(n / tile) near-equal pieces of 0..n (no sliver at the end)."""
    count = (n + tile - 1) // tile
    edges = tf.linspace(0.0, tf.cast(n, tf.float32), count + 1)
    return tf.cast(tf.round(edges), tf.int32)


class Dreamer:
    """Gradient ascent on the activations of one extractor."""

    def __init__(self, extractor: Extractor) -> None:
        self.extractor = extractor
        self.margin = context_margin(extractor)

        def octave(*args: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            return self._octave(*args)  # a function of its own: TF counts traces per function

        self.octave = tf.function(octave, input_signature=[
            tf.TensorSpec([None, None, 3], tf.float32, name="image"),
            tf.TensorSpec([len(extractor.layers)], tf.float32, name="layer_weights"),
            tf.TensorSpec([], tf.int32, name="steps"),
            tf.TensorSpec([], tf.float32, name="step"),
            tf.TensorSpec([], tf.float32, name="max_loss"),
            tf.TensorSpec([], tf.int32, name="jitter"),
            tf.TensorSpec([], tf.int32, name="tile"),
            tf.TensorSpec([2], tf.int32, name="seed"),
        ])

    def loss(self, image: tf.Tensor, weights: tf.Tensor) -> tf.Tensor:
        """Weighted sum over layers of sum(a²) inside a 2-pixel border / element count."""
        features = self.extractor(image[None])
        total = tf.constant(0.0)
        for i, name in enumerate(self.extractor.layers):
            act = tf.cast(features[name], tf.float32)
            count = tf.cast(tf.size(act), tf.float32)
            inner = act[:, BORDER:-BORDER, BORDER:-BORDER, :]
            total += weights[i] * tf.reduce_sum(tf.square(inner)) / count
        return total

    def gradient(self, image: tf.Tensor, weights: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Loss and its gradient with respect to the pixels, for one whole piece.

        The piece is seen with a mirrored margin around it and the gradient kept for the
        piece only: the border crop and the valid-padded strided layers then fall on the
        margin, so the pixels at the edges are dreamt like those in the middle (without
        it a featureless frame dreams into a box with a hard right edge).
        """
        shape = tf.shape(image)
        m = tf.minimum(self.margin, tf.reduce_min(shape[:2]) - 1)  # REFLECT needs m < side
        padded = tf.pad(image, [[m, m], [m, m], [0, 0]], mode="REFLECT")
        # per element of the piece itself, as without the margin (tiles weigh by their area)
        per_piece = tf.cast(tf.size(padded), tf.float32) / tf.cast(tf.size(image), tf.float32)
        with tf.GradientTape() as tape:
            tape.watch(padded)
            loss = self.loss(padded, weights) * per_piece
        return loss, tape.gradient(loss, padded)[m:m + shape[0], m:m + shape[1]]

    def tiled_gradient(self, image: tf.Tensor, weights: tf.Tensor,
                       tile: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Loss and gradient computed piece by piece, so memory is bounded by the tile.

        Each piece's share is weighted by its area, so the sum approximates the whole
        image's loss; the caller rolls the image so the seams move every step.
        """
        shape = tf.shape(image)
        ys, xs = _splits(shape[0], tile), _splits(shape[1], tile)
        area = tf.cast(shape[0] * shape[1], tf.float32)
        rows = tf.TensorArray(tf.float32, size=tf.size(ys) - 1, infer_shape=False)
        total = tf.constant(0.0)
        for r in tf.range(tf.size(ys) - 1):
            cols = tf.TensorArray(tf.float32, size=tf.size(xs) - 1, infer_shape=False)
            for c in tf.range(tf.size(xs) - 1):
                piece = image[ys[r]:ys[r + 1], xs[c]:xs[c + 1]]
                loss, grad = self.gradient(piece, weights)
                share = tf.cast((ys[r + 1] - ys[r]) * (xs[c + 1] - xs[c]), tf.float32) / area
                total += loss * share
                cols = cols.write(c, tf.transpose(grad * share, [1, 0, 2]))  # concat on axis 0
            rows = rows.write(r, tf.transpose(cols.concat(), [1, 0, 2]))
        return total, rows.concat()

    def _octave(self, image, weights, steps, step, max_loss, jitter, tile, seed):
        """All steps of one octave: roll, gradient, normalise, ascend, clip, unroll."""
        shape = tf.shape(image)
        tiled = tf.logical_or(shape[0] > tile, shape[1] > tile)

        def body(i, img, losses, done):
            key = tf.random.experimental.stateless_fold_in(seed, i)
            shift = tf.random.stateless_uniform([2], key, -jitter, jitter + 1, tf.int32)
            seam_key = tf.random.experimental.stateless_fold_in(key, -1)
            seam = tf.random.stateless_uniform([2], seam_key, 0, tile, tf.int32)
            shift += tf.where(tiled, seam, tf.zeros_like(seam))
            rolled = tf.roll(img, shift, axis=[0, 1])
            loss, grad = tf.cond(tiled, lambda: self.tiled_gradient(rolled, weights, tile),
                                 lambda: self.gradient(rolled, weights))
            grad = tf.roll(tf.ensure_shape(grad, [None, None, 3]), -shift, axis=[0, 1])
            grad /= tf.maximum(tf.reduce_mean(tf.abs(grad)), EPSILON)
            done = loss > max_loss  # past max_loss: stop before this step, as keras-io does
            img = tf.where(done, img, tf.clip_by_value(img + step * grad, 0.0, PIXEL_RANGE))
            return i + 1, img, losses.write(i, loss), done

        losses = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
        _, image, losses, _ = tf.while_loop(
            lambda i, img, losses, done: tf.logical_and(i < steps, tf.logical_not(done)),
            body, (tf.constant(0), image, losses, tf.constant(False)))
        return image, losses.stack()


def context_margin(extractor: Extractor) -> int:
    """Mirrored pixels around each piece: the border crop plus the strided layers'
    uncovered remainder, (BORDER + 1) x the deepest layer's stride."""
    side = 4 * extractor.min_size
    small, large = extractor.output_shapes(side, side), extractor.output_shapes(side + 64, side + 64)
    stride = max(64 / max(large[name][1] - small[name][1], 1) for name in extractor.layers)
    return round(stride) * (BORDER + 1)


def check_size(extractor: Extractor, height: int, width: int) -> None:
    """The image must be large enough for the deepest layer to survive the border crop."""
    if min(height, width) < extractor.min_size:
        raise DreamvideoError(
            f"the image is {width}x{height} but layers {', '.join(extractor.layers)} need at "
            f"least {extractor.min_size} px per side; use a larger image or shallower layers")


def octave_shapes(height: int, width: int, octaves: int | None, scale: float,
                  min_size: int, warn: bool = True) -> list[tuple[int, int]]:
    """Image sizes from smallest to full, dropping those the network cannot see.

    ``octaves`` None: as many as fit (at most MAX_OCTAVES), so the coarsest structures
    scale with the frame; a count the user gave is reduced, with a warning, if it does not.
    """
    count = MAX_OCTAVES if octaves is None else octaves
    shapes = [(round(height / scale**i), round(width / scale**i)) for i in reversed(range(count))]
    kept = [s for s in shapes if min(s) >= min_size]
    if not kept:
        raise DreamvideoError(f"the image is {width}x{height}; the network needs at least "
                              f"{min_size} px per side: use a larger image or shallower layers")
    if octaves is not None and len(kept) < octaves and warn:
        log.warning("reduced octaves from %d to %d: smaller octaves would be below the "
                    "network's minimum of %d px", octaves, len(kept), min_size)
    return kept


def _resize(image: tf.Tensor, shape: tuple[int, int]) -> tf.Tensor:
    return tf.image.resize(image, shape, method="bilinear", antialias=True)


def effective_tile(config: DreamConfig, min_size: int) -> int:
    """Pieces of an evenly split image are at least half a tile: keep them visible."""
    if config.tile_size < 2 * min_size:
        log.warning("tile size %d is too small for these layers; using %d",
                    config.tile_size, 2 * min_size)
        return 2 * min_size
    return config.tile_size


def dream(image: np.ndarray, dreamer: Dreamer, config: DreamConfig,
          layer_weights: dict[str, float], on_octave: OctaveCallback | None = None,
          warn: bool = True) -> np.ndarray:
    """Dream an RGB image (H, W, 3; values 0-255) and return float32 RGB in 0-255.

    Octaves go small to large; after each upscale the detail that resizing lost is
    re-injected from the original, so the dream grows on the real image.
    """
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an RGB image of shape (H, W, 3), got {image.shape}")
    check_size(dreamer.extractor, *image.shape[:2])
    min_size = dreamer.extractor.min_size
    height, width = image.shape[:2]
    shapes = octave_shapes(height, width, config.octaves, config.octave_scale, min_size, warn)
    weights = tf.constant([layer_weights[name] for name in dreamer.extractor.layers], tf.float32)
    args = (tf.constant(config.steps), tf.constant(config.step_size * PIXEL_RANGE),
            tf.constant(np.inf if config.max_loss is None else config.max_loss, tf.float32),
            tf.constant(config.jitter), tf.constant(effective_tile(config, min_size)))
    original = tf.constant(image, tf.float32)
    img = shrunk = _resize(original, shapes[0])
    for index, shape in enumerate(shapes):
        if index:
            same_size = _resize(original, shape)
            img = _resize(img, shape) + same_size - _resize(shrunk, shape)  # lost detail
            shrunk = same_size
        seed = tf.constant([config.seed, index], tf.int32)
        img, losses = dreamer.octave(img, weights, *args, seed)
        if on_octave is not None:
            on_octave(index, len(shapes), losses.numpy())
    return np.clip(img.numpy(), 0.0, PIXEL_RANGE)


def enable_determinism() -> None:
    """Same seed, same pixels: on a GPU this picks deterministic (slower) kernels.

    The CPU kernels used here are deterministic already, and the jitter comes from
    stateless random ops seeded by the config.
    """
    if tf.config.list_physical_devices("GPU"):
        tf.config.experimental.enable_op_determinism()
