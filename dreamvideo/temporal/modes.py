"""The temporal modes: how a video frame reuses what the frame before it left. Each is an
object chosen once per render (:data:`MODES`, keyed by ``--temporal``), not a test of a
string on every frame; it keeps what the next frame needs, on the device, and gives the
frame's dream as RGB uint8 on the device.

- ``flow``: the previous dream carried along the optical flow, then a light dream
  (Ruder, Dosovitskiy & Brox 2016): the frame step of :mod:`dreamvideo.temporal.step`.
- ``blend``: the previous output mixed into the picture, dreamed in full (as older tools do).
- ``none``: every frame dreamed alone.

A shot's first frame (the first of the render, or after a scene cut) is dreamed fresh in
every mode. (Tests: tests/temporal/test_temporal.py.)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dreamvideo.config import TemporalConfig
from dreamvideo.core.device import to_device, to_host
from dreamvideo.temporal.carry import PLAIN, Dreams, FrameSettings, as_uint8
from dreamvideo.temporal.motion import Motion
from dreamvideo.temporal.step import FlowStep

Tensor = Any  # a tensor of the running Keras backend


class Alone:
    """``none``: every frame dreamed in full, on its own."""

    cuts, cut, last_cut, full = 0, False, False, None

    def __init__(self, config: TemporalConfig, dreams: Dreams) -> None:
        self.dreams = dreams

    def __call__(self, frame: Tensor, motion: Motion, settings: FrameSettings) -> Tensor:
        return as_uint8(self.dreams.full(frame, settings))

    def state(self) -> tuple[dict[str, np.ndarray], dict[str, float | int]]:
        return {}, {}

    def restore(self, arrays: dict[str, np.ndarray], values: dict[str, float | int]) -> None:
        """Nothing to restore: no frame depends on the one before."""


class Blend(Alone):
    """``blend``: the full dream of the picture mixed with the last output."""

    def __init__(self, config: TemporalConfig, dreams: Dreams) -> None:
        super().__init__(config, dreams)
        self.share = config.blend
        self.previous_out: Tensor | None = None

    def __call__(self, frame: Tensor, motion: Motion, settings: FrameSettings) -> Tensor:
        first = self.previous_out is None or motion.cut
        mixed = frame if first else (1 - self.share) * frame + self.share * self.previous_out
        self.previous_out = self.dreams.full(mixed, settings)
        return as_uint8(self.previous_out)

    def state(self) -> tuple[dict[str, np.ndarray], dict[str, float | int]]:
        return ({} if self.previous_out is None else {"previous_out": to_host(self.previous_out)}), {}

    def restore(self, arrays: dict[str, np.ndarray], values: dict[str, float | int]) -> None:
        if "previous_out" in arrays:
            self.previous_out = to_device(arrays["previous_out"])


MODES = {"flow": FlowStep, "blend": Blend, "none": Alone}  # --temporal: its mode


class TemporalDreamer:
    """Dreams one frame after another, each starting from what the last one left, in the
    temporal mode the config names (chosen once). Only the new frame (with the host's
    flow and mask, when the host computed them) goes up; the dreamed frame comes back."""

    def __init__(self, config: TemporalConfig, dreams: Dreams) -> None:
        self.config = config
        self.mode = MODES[config.mode](config, dreams)

    def __call__(self, motion: Motion, settings: FrameSettings = PLAIN) -> Tensor:
        """The dreamed frame, RGB uint8, on the device (fetch it with ``to_host``: whoever
        does so waits for the device, so it need not be the thread that dreams).
        ``settings``: this frame's place in a schedule, if any."""
        sent = motion.uploaded or ()
        frame = sent[0] if sent else to_device(motion.frame, "float32")
        return self.mode(frame, motion, settings)

    @property
    def cut(self) -> bool:
        """Whether a scene cut restarted the chain at the last frame (reading it waits for it)."""
        return self.mode.cut

    @property
    def last_cut(self) -> Any:
        """:attr:`cut` unread: a bool, or a bool tensor on the device (``to_host`` reads it)."""
        return self.mode.last_cut

    @property
    def cuts(self) -> int:
        """The scene cuts so far."""
        return self.mode.cuts

    @property
    def full(self) -> dict[str, int] | None:
        """Flow mode: frames fully dreamed so far, by why (``carry.FULL_REASONS``)."""
        return self.mode.full

    def state(self) -> tuple[dict[str, np.ndarray], dict[str, float | int]]:
        """Everything the next frame depends on (arrays, numbers), for a checkpoint."""
        return self.mode.state()

    def restore(self, arrays: dict[str, np.ndarray], values: dict[str, float | int]) -> None:
        """Continue exactly where :meth:`state` was taken."""
        self.mode.restore(arrays, values)
