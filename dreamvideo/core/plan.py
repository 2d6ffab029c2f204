"""The host's plan of a dream: octave sizes, tiles and every step's roll, from the config
and its seed alone, with NumPy, so every backend walks the same path.

(Tests: tests/core/test_dream.py.)
"""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass

import numpy as np

from dreamvideo.config import DreamConfig
from dreamvideo.errors import DreamvideoError

log = logging.getLogger("dreamvideo")

MAX_OCTAVES = 20  # the most octaves an automatic count (``octaves = None``) picks
TILE_GPU, TILE_CPU = 2048, 512  # unset tile sizes: a GPU runs 1080p whole; a CPU keeps its memory small


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

    @property
    def pieces(self) -> tuple[Pieces, tuple[int, int]]:
        """See :func:`tile_pieces`."""
        return tile_pieces(self.rows, self.cols)


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


def effective_tile(config: DreamConfig, min_size: int, on_gpu: bool) -> int:
    """The tile size in force (unset: by device). Pieces of an evenly split image are at
    least half a tile: keep them visible."""
    tile = config.tile_size or (TILE_GPU if on_gpu else TILE_CPU)
    if tile < 2 * min_size:
        log.warning("tile size %d is too small for these layers; using %d", tile, 2 * min_size)
        return 2 * min_size
    return tile


def sweep(size: int, steps: int, rng: np.random.Generator) -> np.ndarray:
    """One roll per step that together cover 0..size evenly (a random point in each of
    ``steps`` equal strata, in random order)."""
    return ((rng.permutation(steps) + rng.uniform(0.0, 1.0, steps)) * size / steps).astype(np.int64)


def plan_octaves(height: int, width: int, config: DreamConfig, min_size: int, warn: bool = True,
                 on_gpu: bool = False) -> list[OctavePlan]:
    """Every octave's size, tiles and step rolls, from the config and its seed alone.

    Each step rolls the image (wrapping round) by an offset that sweeps the frame over the
    octave's steps, plus the jitter. The network crops a border off its activations and its
    strided layers leave the last rows and columns out, so whatever lies at the rolled
    image's edges is not dreamt in that step: sweeping moves that band over the whole
    frame, and the frame's own edges are dreamt like its middle (with a jitter alone, a
    featureless frame dreamt into a box with hard edges). Tile seams move with it.
    """
    tile = effective_tile(config, min_size, on_gpu)
    plans = []
    for index, shape in enumerate(octave_shapes(height, width, config.octaves, config.octave_scale,
                                                min_size, warn)):
        rows, cols = splits(shape[0], tile), splits(shape[1], tile)
        rng = np.random.default_rng([config.seed_value, index])
        shifts = rng.integers(-config.jitter, config.jitter + 1, (config.steps, 2))
        shifts += np.stack([sweep(shape[0], config.steps, rng), sweep(shape[1], config.steps, rng)], axis=1)
        plans.append(OctavePlan(shape, rows, cols, shifts.astype(np.int32)))
    return plans


def windows(bounds: tuple[int, ...]) -> tuple[tuple[int, ...], int]:
    """Equal windows over near-equal pieces: (window starts, window size).

    Pieces from :func:`splits` differ by at most one pixel; every piece is computed in a
    window of the largest piece's size that contains it (at most a pixel of extra context
    at one side), so every backend can run all pieces through one compiled program.
    """
    size = max(b - a for a, b in itertools.pairwise(bounds))
    return tuple(min(a, bounds[-1] - size) for a in bounds[:-1]), size


Pieces = tuple[tuple[int, ...], ...]  # (top, bottom, left, right, window top, window left) per tile


def tile_pieces(rows: tuple[int, ...], cols: tuple[int, ...]) -> tuple[Pieces, tuple[int, int]]:
    """The tiles row by row, each as (top, bottom, left, right, window top, window left),
    and the one window size (height, width) they are all computed in (:func:`windows`).

    >>> tile_pieces((0, 5, 9), (0, 7))
    (((0, 5, 0, 7, 0, 0), (5, 9, 0, 7, 4, 0)), (5, 7))
    """
    (tops, height), (lefts, width) = windows(rows), windows(cols)
    pieces = tuple((top, bottom, left, right, y, x)
                   for (top, bottom), y in zip(itertools.pairwise(rows), tops, strict=True)
                   for (left, right), x in zip(itertools.pairwise(cols), lefts, strict=True))
    return pieces, (height, width)
