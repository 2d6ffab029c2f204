"""The temporal modes: how a video frame reuses what the frame before it left. Each is an
object chosen once per render (:data:`MODES`, keyed by ``--temporal``), not a test of a
string on every frame. A mode returns the frame's dream (float32, on the device); the
:class:`~dreamvideo.temporal.carry.TemporalDreamer` keeps what the next frame needs.

- ``flow``: the previous dream carried along the optical flow, then a light dream
  (Ruder, Dosovitskiy & Brox 2016; see :mod:`dreamvideo.temporal.carry`).
- ``blend``: the previous output mixed into the picture, dreamed in full (as older tools do).
- ``none``: every frame dreamed alone.

A shot's first frame (the first of the render, or after a scene cut) is dreamed fresh in
every mode. (Tests: tests/temporal/test_temporal.py.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dreamvideo.temporal.motion import Motion, distrusted_share

if TYPE_CHECKING:
    from dreamvideo.temporal.carry import FrameSettings, TemporalDreamer

Tensor = Any  # a tensor of the running Keras backend


def fresh(td: TemporalDreamer, frame: Tensor, motion: Motion, settings: FrameSettings, count: bool) -> Tensor:
    """The full dream of a shot's first frame, which becomes the carry's reference;
    ``count``: it is counted among the frames fully dreamed (flow mode)."""
    td.cuts += int(motion.cut)
    td.full["scene cut" if motion.cut else "start"] += int(count)
    out = td.dreams.full(frame, settings)
    td.set_reference(frame, out, motion.texture, settings.step_scale)
    return out


class Alone:
    """``none``: every frame dreamed in full, on its own."""

    def __call__(self, td: TemporalDreamer, frame: Tensor, motion: Motion, settings: FrameSettings) -> Tensor:
        return fresh(td, frame, motion, settings, count=False)


class Blend:
    """``blend``: the full dream of the picture mixed with the last output."""

    def __call__(self, td: TemporalDreamer, frame: Tensor, motion: Motion, settings: FrameSettings) -> Tensor:
        if td.previous_out is None or motion.cut:
            return fresh(td, frame, motion, settings, count=False)
        share = td.config.blend
        return td.dreams.full((1 - share) * frame + share * td.previous_out, settings)


class Flow:
    """``flow``: the previous dream's residual carried along the flow, dreamed lightly;
    where the mask distrusts more than ``fresh_share`` of the frame, those pixels get a full
    fresh dream faded in."""

    def __call__(self, td: TemporalDreamer, frame: Tensor, motion: Motion, settings: FrameSettings) -> Tensor:
        if td.previous_out is None or motion.cut:
            return fresh(td, frame, motion, settings, count=True)
        if motion.backward is None or motion.mask is None:
            raise ValueError("flow mode needs Motion with backward flow and mask (see with_motion)")
        td.refresh_reference(frame, motion.texture, settings)
        out = td.carried(frame, motion, settings)
        share = distrusted_share(motion.mask) if motion.distrusted is None else motion.distrusted
        if share > td.config.fresh_share:
            td.full["low mask coverage"] += 1
            out = td.fresh_where_distrusted(frame, out, motion, settings)
        return out


MODES = {"flow": Flow, "blend": Blend, "none": Alone}  # --temporal: its mode
