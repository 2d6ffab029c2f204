"""Carrying the previous dream into the next frame, so video does not flicker.

``flow`` (Ruder, Dosovitskiy & Brox 2016): the previous dream's *residual* (output -
input) is warped along the optical flow into the current frame and added where the
forward-backward check trusts the flow; the frame is then dreamed a few steps from
there. Carrying the residual rather than the pixels lets the dream follow moving
objects while the current frame's own content shows through; newly revealed pixels
(mask 0) start from the plain frame and get dreamed fresh. The carried residual keeps
the mean colour of a fresh dream and is capped at its strength, so the video does not
brighten or intensify frame after frame. A cut (:mod:`dreamvideo.temporal.motion`)
restarts the carry.

This module holds the carry itself (:func:`carried_residual`) and the values a frame's
dreams are made with; :mod:`dreamvideo.temporal.step` composes them into a flow
render's frame step, :mod:`dreamvideo.temporal.modes` chooses the mode.

(Tests: tests/temporal/test_temporal.py.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from dreamvideo.config import TemporalConfig
from dreamvideo.core.backends import load_keras, module
from dreamvideo.temporal.devicewarp import gather_warp, restore_detail, upsample, upsample_flow
from dreamvideo.temporal.devicewarp import warp as host_or_device_warp

REFRESH_TEXTURE = 2.0  # the reference is taken again once a shot's contrast has grown this much
Tensor = Any  # a tensor of the running Keras backend


@dataclass(frozen=True)
class FrameSettings:
    """What a schedule (keyframes, the soundtrack) changes from frame to frame. They reach
    the compiled step as arguments, so changing them does not recompile anything (but a
    new step count compiles once per count)."""

    weights: Tensor | None = None  # loss weights in the extractor's order; None: the configured ones
    step_scale: Any = 1.0  # times the configured step size
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
    pixels with nothing to carry), ``light`` for a frame that starts from the carried dream.
    ``programs``: what has been compiled with them (:meth:`kept`)."""

    full: DreamFn
    light: DreamFn
    programs: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def kept(self, key: Any, build: Callable[[], Any]) -> Any:
        """``build()`` (a compiled frame step of these dreams) once per ``key``: every render
        given these same dreams (``render.chain.dreams`` keeps them in the engine) reuses it."""
        if key not in self.programs:
            self.programs[key] = build()
        return self.programs[key]


def as_uint8(image: Tensor) -> Tensor:
    """A dreamed frame as RGB uint8, still on the device."""
    ops = load_keras().ops
    return ops.cast(ops.round(ops.clip(image, 0.0, 255.0)), "uint8")


class Reference(NamedTuple):
    """A shot's fresh dream as the carry is held to it: its mean |residual| (strength),
    the residual's mean colour (1, 1, 3), the luminance standard deviation of the frame it
    was dreamed on and its step scale. Tensors on the device."""

    strength: Tensor
    colour: Tensor
    texture: Tensor
    scale: Tensor


def reference_of(frame: Tensor, fresh: Tensor, texture: Tensor, step_scale: Tensor) -> Reference:
    """The reference a fresh dream of ``frame`` sets."""
    ops = load_keras().ops
    return Reference(ops.mean(ops.abs(fresh - frame)), ops.mean(fresh - frame, axis=(0, 1), keepdims=True),
                     ops.convert_to_tensor(texture, "float32"),
                     ops.maximum(ops.convert_to_tensor(step_scale, "float32"), 1e-6))


def carried_residual(frame: Tensor, before: Tensor, backward: Tensor, mask: Tensor, reference: Reference,
                     amounts: tuple[Tensor, Tensor], config: TemporalConfig) -> Tensor:
    """``before`` (the previous dream's residual, output - input) warped along the
    backward flow into ``frame``'s place (``config.resample``), its detail restored
    (``config.restore_detail``), its mean colour held to the reference's and its strength
    capped at it, times the mask and the carry. Flow and mask come at the flow's size.
    ``amounts``: (step scale, carry) of this frame; a schedule that ramps the step scale
    may make the carry as strong as a fresh dream would be now."""
    step_scale, carry = amounts
    ops = load_keras().ops
    warp = gather_warp if module().WHOLE_STEPS else host_or_device_warp  # compiled: no host round trip
    shape = tuple(frame.shape[:2])
    residual = warp(before, upsample_flow(backward, shape), config.resample)
    if config.restore_detail:
        residual = restore_detail(before, residual)
    # no drift in brightness or colour: hold the mean where a fresh dream puts it
    residual = residual + reference.colour - ops.mean(residual, axis=(0, 1), keepdims=True)
    size = ops.mean(ops.abs(residual))
    # no growth past a fresh dream's strength
    limit = reference.strength * (step_scale / reference.scale)
    shrink = ops.where(ops.logical_and(size > limit, limit > 0), limit / ops.maximum(size, 1e-12), 1.0)
    return residual * (shrink * carry) * upsample(mask[..., None], shape)
