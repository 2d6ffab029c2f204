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
new frame with its flow and mask go up, and the dreamed frame comes back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from dreamvideo.config import TemporalConfig
from dreamvideo.core.backends import load_keras, module
from dreamvideo.temporal.devicewarp import gather_warp, restore_detail, upsample, upsample_flow
from dreamvideo.temporal.devicewarp import warp as host_or_device_warp
from dreamvideo.temporal.motion import LOW_TEXTURE, Motion, distrusted_share

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


def on_device(motions: Iterator[Motion]) -> Iterator[Motion]:
    """Each frame with its flow and mask sent to the device as it comes: run in the thread
    ahead of the dream (inside ``prefetch``), so the thread that drives the device only
    dispatches. Closing this closes ``motions``."""
    ops = load_keras().ops
    try:
        for m in motions:
            frame = ops.cast(ops.convert_to_tensor(m.frame), "float32")
            moved = () if m.backward is None else (ops.convert_to_tensor(m.backward),
                                                   ops.convert_to_tensor(m.mask))
            yield dataclasses.replace(m, uploaded=(frame, *moved))
    finally:
        close = getattr(motions, "close", None)
        if close is not None:
            close()


class TemporalDreamer:
    """Dreams one frame after another, each starting from what the last one left.

    The previous frame, its dream and the reference strength live on the device; only
    the new frame with its flow and mask go up, and the dreamed frame comes back.
    """

    def __init__(self, config: TemporalConfig, first: DreamFn, later: DreamFn) -> None:
        self.ops = load_keras().ops
        self.config, self._first, self._later = config, first, later
        # the carry and the light dream of a frame as one program where the backend compiles
        # whole steps (JAX: one dispatch a frame instead of hundreds)
        backend = module()
        self._step = backend.compile_step(self._later_step, static=("steps",))
        self._whole_steps = backend.WHOLE_STEPS
        self._previous_in: Tensor | None = None
        self._previous_out: Tensor | None = None
        self._reference = self.ops.convert_to_tensor(np.float32(0.0))  # mean |residual| of a fresh dream
        self._reference_mean = self.ops.zeros((1, 1, 3))  # and its mean colour
        self._reference_texture = 0.0  # luminance std of the frame that fresh dream was on
        self._reference_scale = 1.0  # the step scale that fresh dream had (a schedule may ramp it)
        self.cuts = 0
        # frames that got the full dream, by why: in flow mode the others only a light one
        self.full = dict.fromkeys(FULL_REASONS, 0)

    def state(self) -> tuple[dict[str, np.ndarray], dict[str, float | int]]:
        """Everything the next frame depends on (arrays, numbers), for a checkpoint."""
        to_numpy = self.ops.convert_to_numpy
        arrays = {"previous_in": self._previous_in, "previous_out": self._previous_out,
                  "reference_mean": self._reference_mean}
        return ({k: np.asarray(to_numpy(v)) for k, v in arrays.items() if v is not None},
                {"reference": float(to_numpy(self._reference)), "reference_texture": self._reference_texture,
                 "reference_scale": self._reference_scale, "cuts": self.cuts,
                 **{f"full {reason}": count for reason, count in self.full.items()}})

    def restore(self, arrays: dict[str, np.ndarray], values: dict[str, float | int]) -> None:
        """Continue exactly where :meth:`state` was taken."""
        tensor = self.ops.convert_to_tensor
        self._previous_in = tensor(arrays["previous_in"]) if "previous_in" in arrays else None
        self._previous_out = tensor(arrays["previous_out"]) if "previous_out" in arrays else None
        self._reference_mean = tensor(arrays["reference_mean"])
        self._reference = tensor(np.float32(values["reference"]))
        self._reference_texture = float(values.get("reference_texture", 255.0))
        self._reference_scale = float(values.get("reference_scale", 1.0))
        self.cuts = int(values["cuts"])
        self.full = {reason: int(values.get(f"full {reason}", 0)) for reason in FULL_REASONS}

    def _set_reference(self, frame: Tensor, fresh: Tensor, frame_texture: float, scale: float) -> None:
        ops = self.ops
        self._reference = ops.mean(ops.abs(fresh - frame))
        self._reference_mean = ops.mean(fresh - frame, axis=(0, 1), keepdims=True)
        self._reference_texture = frame_texture
        self._reference_scale = max(scale, 1e-6)

    def _refresh_reference(self, frame: Tensor, frame_texture: float, settings: FrameSettings) -> None:
        """A shot that fades in from black took its reference from a dark frame: a weak
        dream whose mean is all brightening (clipped at 0). Each time the picture has
        doubled its contrast since, the reference is taken again from a fresh dream of
        the current frame; that dream is not shown (the carry goes on), so nothing strobes."""
        if frame_texture >= LOW_TEXTURE and frame_texture >= REFRESH_TEXTURE * self._reference_texture:
            self.full["fade-in"] += 1
            self._set_reference(frame, self._first(frame, settings), frame_texture, settings.step_scale)

    def _later_step(self, frame: Tensor, previous_in: Tensor, previous_out: Tensor, backward: Tensor,
                    mask: Tensor, reference: Tensor, reference_mean: Tensor, weights: Tensor | None,
                    step_scale: Tensor, carry: Tensor, steps: int | None) -> tuple[Tensor, Tensor]:
        """The previous dream's residual carried along the flow into ``frame`` and dreamed
        lightly from there: (dream, dream as uint8). Flow and mask come at the flow's size."""
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
        out = self._later(ops.clip(frame + carried, 0.0, 255.0), settings)
        return out, ops.cast(ops.round(ops.clip(out, 0.0, 255.0)), "uint8")

    def _fresh_where_distrusted(self, frame: Tensor, out: Tensor, distrusted: Tensor,
                                settings: FrameSettings) -> tuple[Tensor, Tensor]:
        """Pixels with nothing trustworthy to carry (newly revealed, occluded) would get only
        the light later dream and look soft beside the rest; they get a full fresh dream
        of the frame instead, faded in by the mask so no seam shows."""
        ops = self.ops
        weight = upsample(distrusted[..., None], tuple(frame.shape[:2]))
        out = out + weight * (self._first(frame, settings) - out)
        return out, ops.cast(ops.round(ops.clip(out, 0.0, 255.0)), "uint8")

    def __call__(self, motion: Motion, settings: FrameSettings = PLAIN) -> Tensor:
        """The dreamed frame, RGB uint8, on the device (fetch it with ``convert_to_numpy``:
        whoever does so waits for the device, so it need not be the thread that dreams).
        ``settings``: this frame's place in a schedule, if any."""
        ops = self.ops
        sent = motion.uploaded or ()
        frame = sent[0] if sent else ops.cast(ops.convert_to_tensor(motion.frame), "float32")
        mode = self.config.mode
        if self._previous_out is None or mode == "none" or motion.cut or mode == "blend":
            if mode == "blend" and self._previous_out is not None and not motion.cut:
                # as older tools do: the full dream on the picture mixed with the last output
                out = self._first((1 - self.config.blend) * frame + self.config.blend * self._previous_out,
                                  settings)
            else:
                self.cuts += int(motion.cut)
                self.full["scene cut" if motion.cut else "start"] += int(mode == "flow")
                out = self._first(frame, settings)
                self._set_reference(frame, out, motion.texture, settings.step_scale)
            pixels = ops.cast(ops.round(ops.clip(out, 0.0, 255.0)), "uint8")
        else:
            if motion.backward is None or motion.mask is None:
                raise ValueError("flow mode needs Motion with backward flow and mask (see with_motion)")
            self._refresh_reference(frame, motion.texture, settings)
            flow, mask = sent[1:] if len(sent) == 3 else (ops.convert_to_tensor(motion.backward),
                                                           ops.convert_to_tensor(motion.mask))
            carry = self.config.carry if settings.carry is None else settings.carry
            # a dream ramped up (or down) by a schedule may be as strong as a fresh one would be now
            grown = np.float32(settings.step_scale / self._reference_scale)
            out, pixels = self._step(frame, self._previous_in, self._previous_out, flow, mask,
                                     self._reference * grown, self._reference_mean, settings.weights,
                                     np.float32(settings.step_scale), np.float32(carry), steps=settings.steps)
            share = distrusted_share(motion.mask) if motion.distrusted is None else motion.distrusted
            if share > self.config.fresh_share:
                self.full["low mask coverage"] += 1
                out, pixels = self._fresh_where_distrusted(frame, out, ops.subtract(1.0, mask), settings)
        self._previous_in, self._previous_out = frame, out
        return pixels
