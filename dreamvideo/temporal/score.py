"""Temporal stability figures: warping error (Lai et al., ECCV 2018) and dream strength.

Warping error of a video O against its input I: the mean over frames t ≥ 1 of
``Σ M_t |O_t - warp(O_{t-1})| / Σ M_t``, where the flow and the consistency mask M_t
come from the *input* frames, so output and input are judged by the same motion.
The input's own figure is the floor set by lighting changes and flow errors; the
output's excess over it is the flicker the dream added. Strength is mean |O_t - I_t|:
a static output has no flicker and is worthless. Added detail is the fine detail the
dream put in (``look.detail`` of O_t minus that of I_t), also by quarter of the clip:
a carried dream that blurs frame after frame loses it. All on the 0-255 scale.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from dreamvideo.errors import DreamvideoError
from dreamvideo.temporal.flow import consistency_mask, optical_flow, warp
from dreamvideo.temporal.look import detail, quarters

_END = object()


@dataclass(frozen=True)
class VideoScore:
    """Averages over the frames scored."""

    frames: int
    warp_error: float  # the output's
    input_warp_error: float
    strength: float
    detail: float = 0.0  # fine detail the dream added, mean over frames
    detail_quarters: tuple[float, ...] = field(default=())  # the same by quarter of the clip

    @property
    def excess(self) -> float:
        """Flicker the dream added: the output's warping error minus the input's."""
        return self.warp_error - self.input_warp_error


def _masked_error(current: np.ndarray, previous_warped: np.ndarray, mask: np.ndarray) -> float:
    diff = np.abs(current.astype(np.float32) - previous_warped.astype(np.float32)).mean(axis=2)
    return float((diff * mask).sum() / max(mask.sum(), 1.0))


def score_frames(inputs: Iterable[np.ndarray], outputs: Iterable[np.ndarray],
                 method: str = "dis") -> VideoScore:
    """Score paired frames; both sequences must have frames of the same size."""
    out_errors, in_errors, strengths, added = [], [], [], []
    prev_in = prev_out = None
    for cur_in, cur_out in _paired(inputs, outputs):
        if cur_in.shape != cur_out.shape:
            raise DreamvideoError(f"input frame {cur_in.shape[1]}x{cur_in.shape[0]} and output frame "
                                  f"{cur_out.shape[1]}x{cur_out.shape[0]} differ in size")
        strengths.append(float(np.abs(cur_out.astype(np.float32) - cur_in).mean()))
        added.append(detail(cur_out) - detail(cur_in))
        if prev_in is not None:
            back, fwd = optical_flow(cur_in, prev_in, method), optical_flow(prev_in, cur_in, method)
            mask = consistency_mask(back, fwd)
            out_errors.append(_masked_error(cur_out, warp(prev_out, back), mask))
            in_errors.append(_masked_error(cur_in, warp(prev_in, back), mask))
        prev_in, prev_out = cur_in, cur_out
    if not out_errors:
        raise DreamvideoError("scoring needs at least two frames in both videos")
    return VideoScore(len(strengths), float(np.mean(out_errors)), float(np.mean(in_errors)),
                      float(np.mean(strengths)), float(np.mean(added)), quarters(added))


def _paired(inputs: Iterable[np.ndarray], outputs: Iterable[np.ndarray]) -> Iterator[tuple]:
    """Frame pairs; sequences of different lengths are an error that gives both counts."""
    inputs, outputs = iter(inputs), iter(outputs)
    for count, (a, b) in enumerate(itertools.zip_longest(inputs, outputs, fillvalue=_END)):
        if a is _END or b is _END:
            more = 1 + sum(1 for _ in (outputs if a is _END else inputs))
            n_in, n_out = (count, count + more) if a is _END else (count + more, count)
            raise DreamvideoError(f"the input gives {n_in} frames and the output {n_out}: they are not the "
                                  "same range; pass the render's --start/--end (and --every) to compare")
        yield a, b
