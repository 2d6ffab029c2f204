"""The DeepDream octave core: step → loop → octaves, on any Keras backend.

As in Chollet's keras-io example, but with nothing global: a :class:`Dreamer` holds one
extractor and its backend's compiled octave loop. What is random or depends on the image
size (octave sizes, tiles, the jitter of every step) is planned here on the host with
NumPy, so every backend walks the same path; the loss and the resizing between octaves
are ``keras.ops``. A backend module (``dreamvideo.backends.*``) adds only the gradient
of the loss with respect to the image and the compiled loop of one octave's steps.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dreamvideo.backends import load_keras, module
from dreamvideo.config import DreamConfig
from dreamvideo.errors import DreamvideoError
from dreamvideo.models import Extractor

log = logging.getLogger("dreamvideo")

BORDER = 2  # activation pixels cropped per side: edge effects are not dreamt
MAX_OCTAVES = 20  # the most octaves an automatic count (``octaves = None``) picks
EPSILON = 1e-7  # floor of the gradient normaliser
DITHER = 0.01  # tie-breaking pattern the network sees on top of the image (0-255 scale)
PIXEL_RANGE = 255.0

OctaveCallback = Callable[[int, int, np.ndarray], None]  # (octave index, octaves, step losses)
Tensor = Any  # a tensor of the running backend


def splits(n: int, tile: int) -> tuple[int, ...]:
    """Boundaries of ceil(n / tile) near-equal pieces of 0..n (no sliver at the end)."""
    count = max(1, math.ceil(n / tile))
    return tuple(int(v) for v in np.round(np.linspace(0.0, n, count + 1)))


@dataclass(frozen=True)
class OctavePlan:
    """One octave, decided on the host: its size, its tiles and every step's roll."""

    shape: tuple[int, int]  # (height, width)
    rows: tuple[int, ...]  # tile boundaries, 0 … height (two entries: one tile)
    cols: tuple[int, ...]
    shifts: np.ndarray  # (steps, 2) int32: each step's roll (jitter, plus a seam offset when tiled)

    @property
    def tiled(self) -> bool:
        return len(self.rows) > 2 or len(self.cols) > 2


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


TILE_GPU, TILE_CPU = 2048, 512  # unset tile sizes: a GPU runs 1080p whole; a CPU keeps its memory small


def effective_tile(config: DreamConfig, min_size: int) -> int:
    """The tile size in force (unset: by device). Pieces of an evenly split image are at
    least half a tile: keep them visible."""
    tile = config.tile_size or (TILE_GPU if module().on_gpu() else TILE_CPU)
    if tile < 2 * min_size:
        log.warning("tile size %d is too small for these layers; using %d", tile, 2 * min_size)
        return 2 * min_size
    return tile


def sweep(size: int, steps: int, rng: np.random.Generator) -> np.ndarray:
    """One roll per step that together cover 0..size evenly (a random point in each of
    ``steps`` equal strata, in random order)."""
    return ((rng.permutation(steps) + rng.uniform(0.0, 1.0, steps)) * size / steps).astype(np.int64)


def plan_octaves(height: int, width: int, config: DreamConfig, min_size: int,
                 warn: bool = True) -> list[OctavePlan]:
    """Every octave's size, tiles and step rolls, from the config and its seed alone.

    Each step rolls the image (wrapping round) by an offset that sweeps the frame over the
    octave's steps, plus the jitter. The network crops a border off its activations and its
    strided layers leave the last rows and columns out, so whatever lies at the rolled
    image's edges is not dreamt in that step: sweeping moves that band over the whole
    frame, and the frame's own edges are dreamt like its middle (with a jitter alone, a
    featureless frame dreamt into a box with hard edges). Tile seams move with it.
    """
    tile = effective_tile(config, min_size)
    plans = []
    for index, shape in enumerate(octave_shapes(height, width, config.octaves, config.octave_scale,
                                                min_size, warn)):
        rows, cols = splits(shape[0], tile), splits(shape[1], tile)
        rng = np.random.default_rng([config.seed, index])
        shifts = rng.integers(-config.jitter, config.jitter + 1, (config.steps, 2))
        shifts += np.stack([sweep(shape[0], config.steps, rng), sweep(shape[1], config.steps, rng)], axis=1)
        plans.append(OctavePlan(shape, rows, cols, shifts.astype(np.int32)))
    return plans


def dream_loss(features: dict[str, Tensor], layers: Sequence[str], weights: Tensor) -> Tensor:
    """Weighted sum over layers of sum(a²) inside a 2-pixel border / element count, in float32."""
    ops = load_keras().ops
    total = 0.0
    for i, name in enumerate(layers):
        act = ops.cast(features[name], "float32")
        inner = act[:, BORDER:-BORDER, BORDER:-BORDER, :]
        total = total + weights[i] * ops.sum(ops.square(inner)) / ops.cast(ops.size(act), "float32")
    return total


def windows(bounds: tuple[int, ...]) -> tuple[tuple[int, ...], int]:
    """Equal windows over near-equal pieces: (window starts, window size).

    Pieces from :func:`splits` differ by at most one pixel; every piece is computed in a
    window of the largest piece's size that contains it (at most a pixel of extra context
    at one side), so every backend can run all pieces through one compiled program.
    """
    size = max(b - a for a, b in itertools.pairwise(bounds))
    return tuple(min(a, bounds[-1] - size) for a in bounds[:-1]), size


def tiled_value_and_grad(value_and_grad: Callable[..., tuple[Tensor, Tensor]], image: Tensor,
                         rows: tuple[int, ...], cols: tuple[int, ...]) -> tuple[Tensor, Tensor]:
    """Loss and gradient piece by piece, so memory is bounded by the tile (static tiles).

    Each piece's gradient comes from its window and is weighted by the piece's share of
    the area, as is its loss, so the sum approximates the whole image's loss; the caller
    rolls the image so the seams move every step. ``value_and_grad(piece, origin)``.
    """
    if len(rows) == 2 and len(cols) == 2:
        return value_and_grad(image, (0, 0))
    ops = load_keras().ops
    (tops, height), (lefts, width) = windows(rows), windows(cols)
    area = float(rows[-1] * cols[-1])
    total, grad_rows = 0.0, []
    for (top, bottom), y in zip(itertools.pairwise(rows), tops, strict=True):
        pieces = []
        for (left, right), x in zip(itertools.pairwise(cols), lefts, strict=True):
            loss, grad = value_and_grad(image[y:y + height, x:x + width], (y, x))
            share = (bottom - top) * (right - left) / area
            total = total + loss * share
            pieces.append(grad[top - y:bottom - y, left - x:right - x] * share)
        grad_rows.append(ops.concatenate(pieces, axis=1))
    return total, ops.concatenate(grad_rows, axis=0)


def normalised_ascent(image: Tensor, grad: Tensor, step: Tensor) -> Tensor:
    """One step: the gradient divided by its mean absolute value, clipped to 0-255."""
    ops = load_keras().ops
    grad = grad / ops.maximum(ops.mean(ops.abs(grad)), EPSILON)
    return ops.clip(image + step * grad, 0.0, PIXEL_RANGE)


class Dreamer:
    """Gradient ascent on the activations of one extractor, on the running backend."""

    def __init__(self, extractor: Extractor) -> None:
        self.extractor = extractor
        self.backend = module()
        self._octave = self.backend.compile_octave(extractor)
        self._gradient: Callable[[Tensor, Tensor], tuple[Tensor, Tensor]] | None = None

    def octave(self, image: Tensor, weights: Tensor, plan: OctavePlan, step: float,
               max_loss: float) -> tuple[Tensor, Tensor, Tensor]:
        """All steps of one octave: (image, losses of the steps taken (padded), steps taken)."""
        return self._octave(image, weights, plan, step, max_loss)

    def gradient(self, image: Tensor, weights: Tensor) -> tuple[Tensor, Tensor]:
        """Loss and gradient of one whole image, compiled: the bare pass ``bench`` times."""
        if self._gradient is None:
            self._gradient = self.backend.compile_gradient(self.extractor)
        return self._gradient(image, weights)


def check_size(extractor: Extractor, height: int, width: int) -> None:
    """The image must be large enough for the deepest layer to survive the border crop."""
    if min(height, width) < extractor.min_size:
        raise DreamvideoError(
            f"the image is {width}x{height} but layers {', '.join(extractor.layers)} need at "
            f"least {extractor.min_size} px per side; use a larger image or shallower layers")


def _resize(image: Tensor, shape: tuple[int, int]) -> Tensor:
    if tuple(image.shape[:2]) == tuple(shape):
        return image
    ops = load_keras().ops
    return ops.image.resize(image, shape, interpolation="bilinear", antialias=True)


def dream_tensor(image: Tensor, dreamer: Dreamer, config: DreamConfig, layer_weights: dict[str, float],
                 on_octave: OctaveCallback | None = None, warn: bool = True) -> Tensor:
    """Dream a float32 RGB tensor (H, W, 3; 0-255) on the device; the result stays there.

    Octaves go small to large; after each upscale the detail that resizing lost is
    re-injected from the original, so the dream grows on the real image.
    """
    ops = load_keras().ops
    height, width = image.shape[:2]
    check_size(dreamer.extractor, height, width)
    plans = plan_octaves(height, width, config, dreamer.extractor.min_size, warn)
    weights = ops.convert_to_tensor(np.array([layer_weights[name] for name in dreamer.extractor.layers],
                                             np.float32))
    step = config.step_size * PIXEL_RANGE
    max_loss = math.inf if config.max_loss is None else config.max_loss
    img = shrunk = _resize(image, plans[0].shape)
    for index, plan in enumerate(plans):
        if index:
            same_size = _resize(image, plan.shape)
            img = _resize(img, plan.shape) + same_size - _resize(shrunk, plan.shape)  # lost detail
            shrunk = same_size
        img, losses, taken = dreamer.octave(img, weights, plan, step, max_loss)
        if on_octave is not None:
            on_octave(index, len(plans), ops.convert_to_numpy(losses)[:int(taken)])
    return ops.clip(img, 0.0, PIXEL_RANGE)


def dream(image: np.ndarray, dreamer: Dreamer, config: DreamConfig,
          layer_weights: dict[str, float], on_octave: OctaveCallback | None = None,
          warn: bool = True) -> np.ndarray:
    """Dream an RGB image (H, W, 3; values 0-255) and return float32 RGB in 0-255."""
    if np.ndim(image) != 3 or np.shape(image)[2] != 3:
        raise ValueError(f"expected an RGB image of shape (H, W, 3), got {np.shape(image)}")
    ops = load_keras().ops
    out = dream_tensor(ops.convert_to_tensor(np.asarray(image, np.float32)), dreamer, config,
                       layer_weights, on_octave, warn)
    return ops.convert_to_numpy(out)


def enable_determinism() -> None:
    """Same seed, same pixels: on a GPU this picks deterministic (slower) kernels.

    The jitter is planned on the host from the seed; what remains is the backend's
    choice of kernels.
    """
    module().enable_determinism()
