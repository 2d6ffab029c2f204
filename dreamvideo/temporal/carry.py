"""Carrying the previous dream into the next frame, so video does not flicker.

``flow`` (Ruder, Dosovitskiy & Brox 2016): the previous dream's *residual* (output -
input) is warped along the optical flow into the current frame and added where the
forward-backward check trusts the flow; the frame is then dreamed a few steps from
there. Carrying the residual rather than the pixels lets the dream follow moving
objects while the current frame's own content shows through; newly revealed pixels
(mask 0) start from the plain frame and get dreamed fresh. The carried residual keeps
the mean colour of a fresh dream and is capped at its strength, so the video does not
brighten or intensify frame after frame. A cut (:mod:`dreamvideo.temporal.motion`)
restarts the carry. ``blend`` mixes the previous output into the next input and dreams
the mix in full (as older tools do); ``none`` dreams every frame alone.

The previous frame, its dream and the reference strength live on the device; only the
new frame with its flow and mask go up, and the dreamed frame comes back. The modes
themselves are :mod:`dreamvideo.temporal.modes`.

(Tests: tests/temporal/test_temporal.py.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from dreamvideo.config import TemporalConfig
from dreamvideo.core.backends import load_keras, module
from dreamvideo.core.device import to_device, to_host
from dreamvideo.temporal.devicewarp import gather_warp, restore_detail, upsample, upsample_flow
from dreamvideo.temporal.devicewarp import warp as host_or_device_warp
from dreamvideo.temporal.modes import MODES
from dreamvideo.temporal.motion import LOW_TEXTURE, Motion

REFRESH_TEXTURE = 2.0  # the reference is taken again once a shot's contrast has grown this much
Tensor = Any  # a tensor of the running Keras backend


@dataclass(frozen=True)
class FrameSettings:
    """What a schedule (keyframes, the soundtrack) changes from frame to frame. They reach
    the compiled step as arguments, so changing them does not recompile anything (but a
    new step count compiles once per count)."""

    weights: Tensor | None = None  # loss weights in the extractor's order; None: the configured ones
    step_scale: float = 1.0  # times the configured step size
    carry: float | None = None  # None: the configured carry
    steps: int | None = None  # steps of a carried frame; None: the configured ones


PLAIN = FrameSettings()
# why a frame of a flow render got the full dream: the first of a shot (the start, a scene
# cut), a new reference as a fade gains contrast, pixels the consistency mask distrusts
FULL_REASONS = ("start", "scene cut", "fade-in", "low mask coverage")


def full_dreams_text(counts: dict[str, int]) -> str:
    """``4 fully dreamed (1 start, 2 scene cut, 1 low mask coverage)``: the frames of a flow
    render that got the full dream besides or instead of the light one, and why."""
    reasons = ", ".join(f"{n} {reason}" for reason, n in counts.items() if n)
    return f"{sum(counts.values())} fully dreamed ({reasons})" if reasons else "none fully dreamed"
DreamFn = Callable[[Tensor, FrameSettings], Tensor]  # float32 RGB 0-255 in and out, on the device


@dataclass(frozen=True)
class Dreams:
    """The two dreams of a video, as one value: ``full`` for a shot's first frame (and
    pixels with nothing to carry), ``light`` for a frame that starts from the carried dream."""

    full: DreamFn
    light: DreamFn


def as_uint8(image: Tensor) -> Tensor:
    """A dreamed frame as RGB uint8, still on the device."""
    ops = load_keras().ops
    return ops.cast(ops.round(ops.clip(image, 0.0, 255.0)), "uint8")


class TemporalDreamer:
    """Dreams one frame after another, each starting from what the last one left, in the
    temporal mode the config names (:mod:`dreamvideo.temporal.modes`, chosen once).

    The previous frame, its dream and the reference strength live on the device; only
    the new frame with its flow and mask go up, and the dreamed frame comes back.
    """

    def __init__(self, config: TemporalConfig, dreams: Dreams) -> None:
        self.ops = load_keras().ops
        self.config, self.dreams = config, dreams
        self._mode = MODES[config.mode]()
        # the carry and the light dream of a frame as one program where the backend compiles
        # whole steps (JAX: one dispatch a frame instead of hundreds)
        backend = module()
        self._step = backend.compile_step(self._later_step, static=("steps",))
        self._whole_steps = backend.WHOLE_STEPS
        self.previous_in: Tensor | None = None
        self.previous_out: Tensor | None = None
        self._reference = self.ops.convert_to_tensor(np.float32(0.0))  # mean |residual| of a fresh dream
        self._reference_mean = self.ops.zeros((1, 1, 3))  # and its mean colour
        self._reference_texture = 0.0  # luminance std of the frame that fresh dream was on
        self._reference_scale = 1.0  # the step scale that fresh dream had (a schedule may ramp it)
        self.cuts = 0
        # frames that got the full dream, by why: in flow mode the others only a light one
        self.full = dict.fromkeys(FULL_REASONS, 0)

    def state(self) -> tuple[dict[str, np.ndarray], dict[str, float | int]]:
        """Everything the next frame depends on (arrays, numbers), for a checkpoint."""
        arrays = {"previous_in": self.previous_in, "previous_out": self.previous_out,
                  "reference_mean": self._reference_mean}
        return ({k: to_host(v) for k, v in arrays.items() if v is not None},
                {"reference": float(to_host(self._reference)), "reference_texture": self._reference_texture,
                 "reference_scale": self._reference_scale, "cuts": self.cuts,
                 **{f"full {reason}": count for reason, count in self.full.items()}})

    def restore(self, arrays: dict[str, np.ndarray], values: dict[str, float | int]) -> None:
        """Continue exactly where :meth:`state` was taken."""
        self.previous_in = to_device(arrays["previous_in"]) if "previous_in" in arrays else None
        self.previous_out = to_device(arrays["previous_out"]) if "previous_out" in arrays else None
        self._reference_mean = to_device(arrays["reference_mean"])
        self._reference = to_device(np.float32(values["reference"]))
        self._reference_texture = float(values.get("reference_texture", 255.0))
        self._reference_scale = float(values.get("reference_scale", 1.0))
        self.cuts = int(values["cuts"])
        self.full = {reason: int(values.get(f"full {reason}", 0)) for reason in FULL_REASONS}

    def set_reference(self, frame: Tensor, fresh: Tensor, frame_texture: float, scale: float) -> None:
        """A fresh dream's strength and mean colour: what the carried residual is held to."""
        ops = self.ops
        self._reference = ops.mean(ops.abs(fresh - frame))
        self._reference_mean = ops.mean(fresh - frame, axis=(0, 1), keepdims=True)
        self._reference_texture = frame_texture
        self._reference_scale = max(scale, 1e-6)

    def refresh_reference(self, frame: Tensor, frame_texture: float, settings: FrameSettings) -> None:
        """A shot that fades in from black took its reference from a dark frame: a weak
        dream whose mean is all brightening (clipped at 0). Each time the picture has
        doubled its contrast since, the reference is taken again from a fresh dream of
        the current frame; that dream is not shown (the carry goes on), so nothing strobes."""
        if frame_texture >= LOW_TEXTURE and frame_texture >= REFRESH_TEXTURE * self._reference_texture:
            self.full["fade-in"] += 1
            self.set_reference(frame, self.dreams.full(frame, settings), frame_texture, settings.step_scale)

    def carried(self, frame: Tensor, motion: Motion, settings: FrameSettings) -> Tensor:
        """The previous dream carried along the flow into ``frame``, dreamed lightly."""
        flow, mask = _flow_and_mask(motion)
        carry = self.config.carry if settings.carry is None else settings.carry
        # a dream ramped up (or down) by a schedule may be as strong as a fresh one would be now
        grown = np.float32(settings.step_scale / self._reference_scale)
        return self._step(frame, self.previous_in, self.previous_out, flow, mask, self._reference * grown,
                          self._reference_mean, settings.weights, np.float32(settings.step_scale),
                          np.float32(carry), steps=settings.steps)

    def _later_step(self, frame: Tensor, previous_in: Tensor, previous_out: Tensor, backward: Tensor,
                    mask: Tensor, reference: Tensor, reference_mean: Tensor, weights: Tensor | None,
                    step_scale: Tensor, carry: Tensor, steps: int | None) -> Tensor:
        """The previous dream's residual carried along the flow into ``frame`` and dreamed
        lightly from there. Flow and mask come at the flow's size."""
        ops = self.ops
        warp = gather_warp if self._whole_steps else host_or_device_warp  # compiled: no host round trip
        shape = tuple(frame.shape[:2])
        before = previous_out - previous_in
        residual = warp(before, upsample_flow(backward, shape), self.config.resample)
        if self.config.restore_detail:
            residual = restore_detail(before, residual)
        # no drift in brightness or colour: hold the mean where a fresh dream puts it
        residual = residual + reference_mean - ops.mean(residual, axis=(0, 1), keepdims=True)
        size = ops.mean(ops.abs(residual))
        # no growth past a fresh dream's strength
        shrink = ops.where(ops.logical_and(size > reference, reference > 0),
                           reference / ops.maximum(size, 1e-12), 1.0)
        carried = residual * (shrink * carry) * upsample(mask[..., None], shape)
        settings = FrameSettings(weights, step_scale, None, steps)
        return self.dreams.light(ops.clip(frame + carried, 0.0, 255.0), settings)

    def fresh_where_distrusted(self, frame: Tensor, out: Tensor, motion: Motion,
                               settings: FrameSettings) -> Tensor:
        """Pixels with nothing trustworthy to carry (newly revealed, occluded) would get only
        the light later dream and look soft beside the rest; they get a full fresh dream
        of the frame instead, faded in by the mask so no seam shows."""
        _, mask = _flow_and_mask(motion)
        weight = upsample(self.ops.subtract(1.0, mask)[..., None], tuple(frame.shape[:2]))
        return out + weight * (self.dreams.full(frame, settings) - out)

    def __call__(self, motion: Motion, settings: FrameSettings = PLAIN) -> Tensor:
        """The dreamed frame, RGB uint8, on the device (fetch it with ``to_host``: whoever
        does so waits for the device, so it need not be the thread that dreams).
        ``settings``: this frame's place in a schedule, if any."""
        sent = motion.uploaded or ()
        frame = sent[0] if sent else to_device(motion.frame, "float32")
        out = self._mode(self, frame, motion, settings)
        self.previous_in, self.previous_out = frame, out
        return as_uint8(out)


def _flow_and_mask(motion: Motion) -> tuple[Tensor, Tensor]:
    """The frame's flow and mask on the device: as uploaded ahead, or now."""
    sent = motion.uploaded or ()
    return sent[1:] if len(sent) == 3 else (to_device(motion.backward), to_device(motion.mask))
