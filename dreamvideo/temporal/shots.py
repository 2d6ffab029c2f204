"""Shots and chunks: the units a video render can be spread over.

The chain of carried dreams restarts at every scene cut anyway, so shots are
independent. The cuts are found by the very rule the render applies frame by frame
(:func:`dreamvideo.temporal.devicemotion.motion_stage`: too few pixels follow the flow, or the
warped previous frame does not match; fades are one shot), so a render spread over
workers restarts its chain exactly where a render in one process does. A shot longer
than ``chunk`` seconds is split into chunks; each chunk after the first starts
``overlap`` frames early, and those frames are cross-faded with the end of the chunk
before (its dream enters warm instead of starting cold at the seam).

(Tests: tests/render/test_scaled.py.)
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from dreamvideo.config import TemporalConfig
from dreamvideo.temporal.devicemotion import motion_stage


@dataclass(frozen=True)
class Piece:
    """Frames ``[start, end)`` of the output, dreamed from ``start - warm`` on (the first
    ``warm`` frames are blended with the piece before)."""

    start: int
    end: int
    warm: int = 0

    @property
    def first(self) -> int:
        """The first frame this piece dreams."""
        return self.start - self.warm

    @property
    def name(self) -> str:
        return f"{self.start:07d}-{self.end:07d}"


def find_shots(frames: Iterable[np.ndarray], config: TemporalConfig) -> tuple[tuple[int, int], ...]:
    """The shots of ``frames`` (RGB uint8 at the render's size), by the render's own rule."""
    rule = config if config.mode == "flow" else dataclasses.replace(config, mode="flow")  # needs the flow
    cuts, total = [], 0
    for total, motion in enumerate(motion_stage(frames, rule), start=1):
        if motion.cut:
            cuts.append(total - 1)
    return shots_from_cuts(cuts, total)


def shots_from_cuts(cuts: Sequence[int], total: int) -> tuple[tuple[int, int], ...]:
    """Back-to-back [first, end) ranges of ``total`` frames, split at ``cuts``."""
    edges = [0, *sorted(c for c in set(cuts) if 0 < c < total), total]
    return tuple((a, b) for a, b in itertools.pairwise(edges) if b > a)


def plan_pieces(shots: Sequence[tuple[int, int]], fps: float, chunk: float | None,
                overlap: int) -> list[Piece]:
    """Each shot as one piece, or as chunks of about ``chunk`` seconds when it is longer
    (``chunk`` None: never)."""
    pieces = []
    longest = None if chunk is None else max(1, round(chunk * fps))
    for a, b in shots:
        count = 1 if longest is None else max(1, math.ceil((b - a) / longest))
        edges = [a + round(i * (b - a) / count) for i in range(count + 1)]
        for i, (start, end) in enumerate(itertools.pairwise(edges)):
            warm = min(overlap, start - a) if i else 0
            pieces.append(Piece(start, end, warm))
    return pieces


def blend_weight(position: int, warm: int) -> float:
    """Weight of the later piece at ``position`` (0 … warm-1) of a cross-fade of ``warm`` frames."""
    return (position + 1) / (warm + 1)
