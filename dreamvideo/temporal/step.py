"""A flow render's frame step: what one video frame does where the dream runs, composed
once here of small parts and compiled as one program per frame size where the backend
compiles whole steps (JAX, TensorFlow; PyTorch runs it op by op, each octave compiled):

    sense ─────────▶ decide ─────────▶ fresh ──────────▶ carry ─────────▶ light ─────▶ mix
    flow both ways,  a cut, a fade      the full dream,   the previous     the light     the fresh dream
    mask, cut test   gaining contrast,  only when one     dream's residual dream from    in full at a cut,
    (or the host's   a distrusted       of those holds    along the flow   the carried   faded in where
    flow, uploaded)  share of pixels    (and the shot's   (carry)          frame         the mask distrusts
                                        new reference)

Nothing comes back to the host between the parts: the decisions are tensors, each branch
an ``ops.cond`` (only the one taken runs), and what the next frame needs stays on the
device (:class:`Carried`). The host uploads the frame (and the host's flow, if it computed
it), and reads back the dreamed frame; a frame's cut and the counts of full dreams are
read when someone asks. The first frame of a render has no last one: :func:`first_step`
dreams it fresh in a small program of its own.

(Tests: tests/temporal/test_step.py.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from dreamvideo.config import TemporalConfig
from dreamvideo.core.backends import load_keras, module
from dreamvideo.core.device import to_device, to_host
from dreamvideo.errors import DreamvideoError
from dreamvideo.temporal.carry import (
    FULL_REASONS,
    PLAIN,
    REFRESH_TEXTURE,
    Dreams,
    FrameSettings,
    Reference,
    as_uint8,
    carried_residual,
    reference_of,
)
from dreamvideo.temporal.devicemotion import compiled
from dreamvideo.temporal.devicewarp import upsample
from dreamvideo.temporal.motion import (
    LOW_TEXTURE,
    Motion,
    cut_rule,
    distrusted_share,
    flow_on_device,
    flow_shape,
)

Tensor = Any  # a tensor of the running Keras backend


class Carried(NamedTuple):
    """What the next frame needs of the last one, all on the device."""

    previous_in: Tensor  # (H, W, 3) float32: the last frame
    previous_out: Tensor  # its dream
    luminance: Tensor  # (h, w, 1): its luminance at the flow's size (a placeholder when the host flows)
    texture: Tensor  # its luminance standard deviation (0-255)
    reference: Reference  # the shot's fresh dream, as the carry is held to it
    counts: Tensor  # (len(FULL_REASONS),) float32: frames fully dreamed so far, by why


class Given(NamedTuple):
    """The host's motion of a frame, uploaded: flow and mask at the flow's size, and
    ``facts``, [cut (0 or 1), texture, share of pixels distrusted]."""

    backward: Tensor
    mask: Tensor
    facts: Tensor


class Sensed(NamedTuple):
    """What the sense part found between the last frame and this one."""

    backward: Tensor  # (h, w, 2) flow current → previous, at the flow's size
    mask: Tensor  # (h, w) trust of each pixel's carried dream
    cut: Tensor  # bool: a new shot starts here
    texture: Tensor  # luminance standard deviation of the frame (0-255)
    distrusted: Tensor  # share of pixels the mask distrusts
    luminance: Tensor  # the frame's luminance, for the next frame


class Decision(NamedTuple):
    """Why the frame gets its full dream (bool tensors): a new shot, a fade gaining
    contrast (a new reference), a share of distrusted pixels past ``fresh_share``."""

    cut: Tensor
    fade: Tensor
    low: Tensor


def sense(frame: Tensor, carried: Carried, given: Given | None, config: TemporalConfig) -> Sensed:
    """The frame's motion from the last one: the host's, or flow both ways, mask and the
    cut test computed here (:func:`~dreamvideo.temporal.devicemotion.pair_motion`)."""
    if given is not None:
        facts = given.facts
        return Sensed(given.backward, given.mask, facts[0] > 0.5, facts[1], facts[2], carried.luminance)
    pair, luminance = compiled(config.mask_softness)  # inlined where the whole step compiles
    now, texture = luminance(frame, shape=tuple(carried.luminance.shape[:2]))
    backward, mask, stats = pair(carried.luminance, now)
    cut = cut_rule((texture, carried.texture), stats[0], config, stats[1])
    return Sensed(backward, mask, cut, texture, stats[2], now)


def decide(sensed: Sensed, carried: Carried, config: TemporalConfig) -> Decision:
    """The frame's :class:`Decision`. A shot that fades in from black took its reference
    from a dark frame (a weak dream whose mean is all brightening): each time the picture
    has doubled its contrast since, the reference is taken again from a fresh dream that is
    not shown (the carry goes on), so nothing strobes."""
    ops = load_keras().ops
    carries, texture = ops.logical_not(sensed.cut), sensed.texture
    grown = ops.logical_and(texture >= LOW_TEXTURE, texture >= REFRESH_TEXTURE * carried.reference.texture)
    return Decision(sensed.cut, ops.logical_and(carries, grown),
                    ops.logical_and(carries, sensed.distrusted > config.fresh_share))


def renewed(decision: Decision, new: Callable[[], Reference], old: Reference) -> Reference:
    """The reference after this frame: the fresh dream's (``new``) at a cut or a fade, else
    as it was."""
    ops = load_keras().ops
    return ops.cond(ops.logical_or(decision.cut, decision.fade), new, lambda: old)


def mixed(decision: Decision, fresh: Tensor, light: Tensor, mask: Tensor) -> Tensor:
    """The frame's dream: the fresh one at a cut; else the light one, with the fresh one
    faded in by the mask where too much of the frame is distrusted (newly revealed or
    occluded pixels would look soft beside the rest)."""
    ops = load_keras().ops

    def faded() -> Tensor:
        weight = upsample(ops.subtract(1.0, mask)[..., None], tuple(light.shape[:2]))
        return light + weight * (fresh - light)

    return ops.cond(decision.cut, lambda: fresh, lambda: ops.cond(decision.low, faded, lambda: light))


def counted(counts: Tensor, decision: Decision) -> Tensor:
    """The counts of full dreams by why (:data:`FULL_REASONS`: start, scene cut, fade-in,
    low mask coverage), this later frame's added."""
    ops = load_keras().ops
    return counts + ops.cast(ops.stack([False, decision.cut, decision.fade, decision.low]), "float32")


def first_step(dreams: Dreams, config: TemporalConfig, frame: Tensor, texture: Tensor | None,
               settings: FrameSettings) -> tuple[Tensor, Carried]:
    """The first frame of a render (or of a Ray worker's piece), dreamed fresh: (the dream
    as RGB uint8, what the next frame needs). ``texture``: the host's, when the host flows;
    else the frame's luminance is taken here for the next frame's flow. A program of its own,
    small, so the first frame is out before the later frames' program is compiled."""
    ops = load_keras().ops
    if texture is None:
        shape = flow_shape(*frame.shape[:2], config.flow_size)
        now, texture = compiled(config.mask_softness)[1](frame, shape=shape)
    else:
        now = ops.zeros((1, 1, 1))  # a placeholder: the host computes the flow
    out = dreams.full(frame, settings)
    counts = ops.convert_to_tensor(np.eye(len(FULL_REASONS), dtype=np.float32)[0])  # one start
    reference = reference_of(frame, out, texture, settings.step_scale)
    return as_uint8(out), Carried(frame, out, now, texture, reference, counts)


def frame_step(dreams: Dreams, config: TemporalConfig, frame: Tensor, given: Given | None,
               carried: Carried, settings: FrameSettings) -> tuple[Tensor, Carried, Tensor]:
    """sense → decide → fresh → carry → light → mix, for a frame after the first (float32
    RGB 0-255 on the device): (the dream as RGB uint8, what the next frame needs, whether a
    scene cut starts a new shot here). ``settings.carry`` is a number here."""
    ops = load_keras().ops
    sensed = sense(frame, carried, given, config)
    decision = decide(sensed, carried, config)
    anew = ops.logical_or(ops.logical_or(decision.cut, decision.fade), decision.low)
    fresh = ops.cond(anew, lambda: dreams.full(frame, settings), lambda: frame)
    reference = renewed(decision, lambda: reference_of(frame, fresh, sensed.texture, settings.step_scale),
                        carried.reference)

    def light() -> Tensor:
        residual = carried_residual(frame, carried.previous_out - carried.previous_in, sensed.backward,
                                    sensed.mask, reference, (settings.step_scale, settings.carry), config)
        return dreams.light(ops.clip(frame + residual, 0.0, 255.0), settings)

    out = mixed(decision, fresh, ops.cond(decision.cut, lambda: frame, light), sensed.mask)
    counts = counted(carried.counts, decision)
    after = Carried(frame, out, sensed.luminance, sensed.texture, reference, counts)
    return as_uint8(out), after, decision.cut


class Programs(NamedTuple):
    """A flow render's two compiled programs, :func:`first_step` and :func:`frame_step`,
    with the schedule's values as arguments: (frame, texture or None, loss weights or None,
    (step scale, carry), steps=) and (frame, :class:`Given` or None, :class:`Carried`,
    loss weights or None, (step scale, carry), steps=)."""

    first: Callable[..., tuple[Tensor, Carried]]
    later: Callable[..., tuple[Tensor, Carried, Tensor]]


def compile_programs(config: TemporalConfig, dreams: Dreams) -> Programs:
    """The :class:`Programs` of ``dreams`` and ``config``, compiled where the backend
    compiles whole steps (once per frame size and step count of a schedule)."""

    def first(frame: Tensor, texture: Tensor | None, weights: Tensor | None, amounts: tuple[Tensor, Tensor],
              steps: int | None) -> tuple[Tensor, Carried]:
        return first_step(dreams, config, frame, texture, FrameSettings(weights, *amounts, steps))

    def later(frame: Tensor, given: Given | None, carried: Carried, weights: Tensor | None,
              amounts: tuple[Tensor, Tensor], steps: int | None) -> tuple[Tensor, Carried, Tensor]:
        return frame_step(dreams, config, frame, given, carried, FrameSettings(weights, *amounts, steps))

    compile_step = module().compile_step
    return Programs(compile_step(first, static=("steps",)), compile_step(later, static=("steps",)))


class FlowStep:
    """The ``flow`` mode: :func:`first_step` for the first frame, then :func:`frame_step`
    for every later one, the :class:`Carried` state on the device. The compiled
    :class:`Programs` are kept with the dreams (``Dreams.kept``), so every render that
    shares those dreams compiles them once."""

    def __init__(self, config: TemporalConfig, dreams: Dreams) -> None:
        self.config, self.dreams = config, dreams
        self.in_step = flow_on_device(config)
        self.programs: Programs = dreams.kept(("flow step", config), lambda: compile_programs(config, dreams))
        self.carried: Carried | None = None
        self.last_cut: Any = False  # whether a scene cut started a shot at the last frame (on the device)

    def __call__(self, frame: Tensor, motion: Motion, settings: FrameSettings = PLAIN) -> Tensor:
        """The frame's dream, RGB uint8 on the device; ``frame``: ``motion.frame`` uploaded."""
        carry = self.config.carry if settings.carry is None else settings.carry
        amounts = (np.float32(settings.step_scale), np.float32(carry))
        if self.carried is None:
            texture = None if self.in_step else to_device(np.float32(motion.texture))
            pixels, self.carried = self.programs.first(frame, texture, settings.weights, amounts,
                                                       steps=settings.steps)
            self.last_cut = False
            return pixels
        if not self.in_step and motion.backward is None:
            raise ValueError("flow mode needs Motion with backward flow and mask (see with_motion)")
        given = None if self.in_step else self._given(motion)
        later = self.programs.later
        pixels, self.carried, self.last_cut = later(frame, given, self.carried, settings.weights, amounts,
                                                    steps=settings.steps)
        return pixels

    def _given(self, motion: Motion) -> Given:
        """The host's motion of the frame on the device (as uploaded ahead, or now)."""
        sent = motion.uploaded or ()
        backward, mask = sent[1:] if len(sent) == 3 else (motion.backward, motion.mask)
        share = distrusted_share(motion.mask) if motion.distrusted is None else motion.distrusted
        facts = np.array([float(motion.cut), motion.texture, share], np.float32)
        return Given(to_device(backward), to_device(mask), to_device(facts))

    @property
    def cut(self) -> bool:
        """Whether a scene cut started a new shot at the last frame."""
        return bool(to_host(self.last_cut))

    @property
    def full(self) -> dict[str, int]:
        """Frames fully dreamed so far, by why (:data:`FULL_REASONS`)."""
        counts = np.zeros(len(FULL_REASONS)) if self.carried is None else to_host(self.carried.counts)
        return {reason: round(float(n)) for reason, n in zip(FULL_REASONS, counts, strict=True)}

    @property
    def cuts(self) -> int:
        return self.full["scene cut"]

    def state(self) -> tuple[dict[str, np.ndarray], dict[str, float | int]]:
        """Everything the next frame depends on (arrays, numbers), for a checkpoint."""
        if self.carried is None:
            return {}, {}
        c = self.carried
        arrays = {"previous_in": c.previous_in, "previous_out": c.previous_out, "luminance": c.luminance,
                  "reference_mean": c.reference.colour, "full_counts": c.counts}
        values = {"texture": c.texture, "reference": c.reference.strength,
                  "reference_texture": c.reference.texture, "reference_scale": c.reference.scale}
        return {k: to_host(v) for k, v in arrays.items()}, {k: float(to_host(v)) for k, v in values.items()}

    def restore(self, arrays: dict[str, np.ndarray], values: dict[str, float | int]) -> None:
        """Continue exactly where :meth:`state` was taken."""
        if "previous_in" not in arrays:
            return
        if "luminance" not in arrays:
            raise DreamvideoError("this unfinished render was saved by an older dreamvideo and cannot go on; "
                                  "run it again with --force instead of --resume")
        scalar = {k: to_device(np.float32(values[k]))
                  for k in ("texture", "reference", "reference_texture", "reference_scale")}
        reference = Reference(scalar["reference"], to_device(arrays["reference_mean"]),
                              scalar["reference_texture"], scalar["reference_scale"])
        self.carried = Carried(to_device(arrays["previous_in"]), to_device(arrays["previous_out"]),
                               to_device(arrays["luminance"]), scalar["texture"], reference,
                               to_device(arrays["full_counts"]))
