"""A video frame's path, one named stage after another, composed here and nowhere else:

    read ──▶ motion ──▶ upload ──▶ step ──────────────────▶ (colours) ──▶ write
    ffmpeg    flow, mask,  host to     the temporal mode; in       held to a       device to host,
    decodes   scene cut    device      flow mode the frame step:   reference       encode, checkpoint
              on the host              (flow), carry, dream
    [thread]  [thread+pool] [thread]   [the caller's thread]       [caller's]      [Recorder's thread]

Where the flow runs on the device (``--flow device``, ``auto`` on a GPU) the motion stage
passes the frames on, and the frame step (:mod:`dreamvideo.temporal.step`) computes
flow, mask and cut in the same program as the carry and the dream: the host only
decodes, uploads, downloads and encodes. :func:`ahead` connects read, motion and upload
with bounded queues (:data:`QUEUES`), so they run ahead of the step while memory stays
flat; :func:`dreamed` runs the step, strictly in order (frame t starts from the dream of
frame t-1); the caller hands the frames to a :class:`~dreamvideo.media.recorder.Recorder`
(``render.video``) or to a Ray worker's writer (``render.pieces``). The step's two dreams
travel as one value (:class:`~dreamvideo.temporal.carry.Dreams`), made once per render
by :func:`dreams`. Zoom's feedback loop is a source of its own (``render.zoom``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import math
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from dreamvideo.config import ColorConfig, DreamConfig, Pipeline, SourceConfig, TemporalConfig
from dreamvideo.core.device import to_device, to_host
from dreamvideo.core.dream import dream_tensor, loss_weights
from dreamvideo.core.engine import Engine
from dreamvideo.media.images import fit_size, read_still
from dreamvideo.media.sources import VideoInfo, probe, read_frames
from dreamvideo.media.threads import prefetch, timed
from dreamvideo.render.keyframes import layer_names, video_moment
from dreamvideo.temporal.carry import PLAIN, Dreams, FrameSettings
from dreamvideo.temporal.coherence import coherence
from dreamvideo.temporal.devicecolour import matcher
from dreamvideo.temporal.modes import TemporalDreamer
from dreamvideo.temporal.motion import Clock, Motion, flow_on_device, with_motion

QUEUES = {"read": 4, "motion": 4, "upload": 2}  # frames each stage may run ahead of the next
Settings = Callable[[int], FrameSettings]  # frame index → its place in a schedule


@dataclass(frozen=True)
class Footage:
    """The input as the chain sees it: its stream, the size it is dreamed at, the rate."""

    source: SourceConfig
    info: VideoInfo
    size: tuple[int, int]  # (width, height) after --max-size

    @classmethod
    def open(cls, source: SourceConfig) -> Footage:
        info = probe(source.input)
        return cls(source, info, fit_size(info.width, info.height, source.max_size))

    @property
    def fps(self) -> float:
        """Frames per second of what is dreamed (``--every`` divides the input's rate)."""
        return float(self.info.fps) / self.source.every

    @property
    def expected(self) -> int | None:
        """The frames a render makes (None when the input's duration is unknown)."""
        return expected_frames(self.info.duration, float(self.info.fps), self.source)


def expected_frames(duration: float | None, fps: float, source: SourceConfig) -> int | None:
    """The frames a render of ``source`` makes of a video this long at this rate (None when
    its duration is unknown)."""
    if not duration:
        return None
    end = min(source.end, duration) if source.end is not None else duration
    return max(0, math.ceil((end - (source.start or 0.0)) * fps / source.every - 1e-6))


def keep_indices(frames: Iterator[Any], wanted: Callable[[int], bool]) -> Iterator[Any]:
    """The items whose index is wanted; the source is closed whatever happens."""
    try:
        for i, frame in enumerate(frames):
            if wanted(i):
                yield frame
    finally:
        frames.close()  # type: ignore[attr-defined]


def read(footage: Footage, first: int = 0) -> Iterator[np.ndarray]:
    """Stage 1: the frames a render dreams (RGB uint8), from frame ``first`` on (counted
    after ``every``). A later start seeks to half a frame before that frame, where the
    constant-rate output begins with the frame before it (so on H.264, VP8, 10.51 fps and
    real clips), and drops that one: the same frames come at any start."""
    source, info = footage.source, footage.info
    start, skip = source.start, 0
    if first:
        start, skip = (source.start or 0.0) + (first * source.every - 0.5) / float(info.fps), 1
    scaled = footage.size if footage.size != (info.width, info.height) else None
    frames: Iterator[np.ndarray] = read_frames(source.input, scaled, start, source.end)
    if skip or source.every > 1:
        frames = keep_indices(frames, lambda i: i >= skip and (i - skip) % source.every == 0)
    return frames


def motion(frames: Iterator[np.ndarray], temporal: TemporalConfig,
           clock: Clock | None = None) -> Iterator[Motion]:
    """Stage 2: each frame with the flow from the frame before, the consistency mask and
    the scene-cut test, computed on the host by a pool of its own
    (:func:`~dreamvideo.temporal.motion.with_motion`); where the flow runs on the device the
    frame step computes them itself (:mod:`dreamvideo.temporal.step`) and the frames pass."""
    if flow_on_device(temporal):
        return passing(frames)
    return with_motion(frames, temporal, clock)


def passing(frames: Iterator[np.ndarray]) -> Iterator[Motion]:
    """Each frame as a :class:`Motion` with nothing found yet; the source is closed whatever
    happens."""
    try:
        for frame in frames:
            yield Motion(frame)
    finally:
        frames.close()  # type: ignore[attr-defined]


def upload(motions: Iterator[Motion]) -> Iterator[Motion]:
    """Stage 3: each frame with its flow and mask sent to the device as it comes, so the
    thread that drives the device only dispatches. Closing this closes ``motions``."""
    try:
        for m in motions:
            if m.uploaded is not None:  # the motion stage ran on the device: it is there
                yield m
                continue
            moved = () if m.backward is None else (to_device(m.backward), to_device(m.mask))
            yield dataclasses.replace(m, uploaded=(to_device(m.frame, "float32"), *moved))
    finally:
        close = getattr(motions, "close", None)
        if close is not None:
            close()


def ahead(frames: Iterator[np.ndarray], temporal: TemporalConfig,
          clock: Clock | None = None) -> Iterator[Motion]:
    """read → motion → upload, each in a thread of its own behind a short queue (ffmpeg
    writes into its pipe only as fast as it is read; the flow has its pool)."""
    decoded = prefetch(timed(frames, clock, "decode"), QUEUES["read"], clock, "read")
    moved = prefetch(motion(decoded, temporal, clock), QUEUES["motion"], clock, "motion")
    return prefetch(upload(moved), QUEUES["upload"], clock, "upload")


def dreamed(motions: Iterable[Motion], step: TemporalDreamer, settings_at: Settings, first: int = 0,
            clock: Clock | None = None) -> Iterator[tuple[int, Any, Motion]]:
    """Stage 4: (index, dreamed frame as RGB uint8 on the device, its motion), in order.
    Whoever fetches a frame waits for the device, so the next one is already queued.
    (Whoever made ``motions`` closes them.)"""
    for index, m in enumerate(motions, start=first):
        begun = time.perf_counter()
        pixels = step(m, settings_at(index))
        if clock is not None:
            clock("dream", time.perf_counter() - begun)
        yield index, pixels, m


class Colours:
    """Stage 5, off unless asked (``--color-coherence``): the output's colours held to a
    reference, the first dreamed frame or each frame's own input frame (``input``: the
    footage keeps its palette); the carry goes on as dreamed. On a GPU matched there
    (:func:`~dreamvideo.temporal.devicecolour.matcher`), so the frame comes back to the host once."""

    def __init__(self, color: ColorConfig) -> None:
        self.per_frame = color.reference == "input"
        placeholder = np.zeros((1, 1, 3), np.float32) if self.per_frame else None  # replaced every frame
        cohere = coherence(color, "none", placeholder, lambda path: read_still(path).rgb)
        self.match = None if cohere is None else matcher(cohere.mode, cohere.strength)
        self.reference = None if cohere is None or cohere.reference is None else to_device(cohere.reference)

    def __bool__(self) -> bool:
        return self.match is not None

    def __call__(self, pixels: Any, frame: np.ndarray | None = None) -> Any:
        """The frame (RGB uint8, on the device or the host) with its colours held, as RGB
        uint8 on the device; ``frame``: its input frame, the reference with
        ``--color-reference input``."""
        pixels = to_device(pixels)
        if self.per_frame:
            self.reference = to_device(frame)
        if self.reference is None:  # the first dreamed frame is the reference, and stays as it is
            self.reference = pixels
            return pixels
        return self.match(pixels, self.reference)

    def state(self) -> dict[str, np.ndarray]:
        """What a resumed render needs: the reference taken from the first dreamed frame."""
        held = self.reference is not None and not self.per_frame
        return {"color_reference": to_host(self.reference)} if held else {}

    def restore(self, arrays: dict[str, np.ndarray]) -> None:
        """Take the reference back out of a saved state's ``arrays``."""
        if self and "color_reference" in arrays:
            self.reference = to_device(arrays.pop("color_reference"))


def later_config(dream: DreamConfig, temporal: TemporalConfig) -> DreamConfig:
    """The lighter dream of a frame that starts from the carried one."""
    return dataclasses.replace(dream, steps=temporal.later_steps, octaves=temporal.later_octaves,
                               step_size=dream.step_size * temporal.later_step_scale)


class FrameDreams:
    """A video's full and light dream on one compiled network: device tensors in and out,
    with the frame's :class:`FrameSettings` (schedules reach them as arguments)."""

    def __init__(self, engine: Engine, dream: DreamConfig, temporal: TemporalConfig,
                 size: tuple[int, int]) -> None:
        width, height = size
        names = layer_names(temporal.keyframes, engine.layers(dream))  # every layer a schedule weighs
        self.dreamer, layers = engine.prepare(dream, height, width, names)
        self.dream, self.later = dream, later_config(dream, temporal)
        for config in (self.dream, self.later):  # warn here once, not on every frame
            engine.octave_count(self.dreamer, config, height, width)
        self.weights = {name: layers.get(name, 0.0) for name in self.dreamer.extractor.layers}

    def full(self, image: Any, settings: FrameSettings) -> Any:
        return dream_tensor(image, self.dreamer, self.dream, self._weights(settings), warn=False,
                            step_scale=settings.step_scale)

    def light(self, image: Any, settings: FrameSettings) -> Any:
        later = self.later
        if settings.steps is not None:  # a schedule's steps for this frame
            later = dataclasses.replace(later, steps=settings.steps)
        return dream_tensor(image, self.dreamer, later, self._weights(settings), warn=False,
                            step_scale=settings.step_scale)

    def _weights(self, settings: FrameSettings) -> Any:
        return self.weights if settings.weights is None else settings.weights


def dreams(engine: Engine, pipeline: Pipeline, size: tuple[int, int]) -> Dreams:
    """The one value the step dreams with, kept in the engine with what is compiled with it
    (``Dreams.kept``): the same size and settings again compile nothing. The size and the
    layers are checked, and a reduced octave count warned of, on every call."""
    frame = FrameDreams(engine, pipeline.dream, pipeline.temporal, size)
    key = ("dreams", pipeline.dream, pipeline.temporal, size)
    return engine.keep(key, lambda: Dreams(frame.full, frame.light))


def schedule(engine: Engine, dream: DreamConfig, temporal: TemporalConfig, fps: float,
             loudness: np.ndarray | None = None) -> Settings:
    """Frame index → its settings: the keyframes eased at that time (layers, step size,
    steps of carried frames, carry, guide weight) and the soundtrack's pull on the step
    size (``loudness``: the step factor of each frame, :mod:`dreamvideo.media.audio`)."""
    if not temporal.keyframes and loudness is None:
        return lambda index: PLAIN
    base = engine.layers(dream)
    dreamer = engine.dreamer(layer_names(temporal.keyframes, base), dream.guide)

    def at(index: int) -> FrameSettings:
        m = video_moment(temporal, dream, base, index / fps)
        weights = to_device(loss_weights(dreamer, m.layers, m.guide_weight))
        scale = (m.step_size or dream.step_size) / dream.step_size
        if loudness is not None and len(loudness):
            scale *= float(loudness[min(index, len(loudness) - 1)])
        return FrameSettings(weights, scale, m.carry, m.steps if m.steps != temporal.later_steps else None)

    return at


def dream_range(pipeline: Pipeline, engine: Engine, first: int, end: int,
                factors: np.ndarray | list[float] | None = None) -> Iterator[tuple[int, Any, Any]]:
    """(index, RGB uint8 on the device, cut? (on the device: ``to_host`` reads it)) of frames
    ``first`` to ``end`` - 1, dreamed as in a render of the whole video that restarted its
    chain at ``first`` (a shot's first frame): a Ray worker's piece (``render.pieces``).
    ``factors``: the soundtrack's step factors of these frames."""
    footage = Footage.open(pipeline.source)
    step = TemporalDreamer(pipeline.temporal, dreams(engine, pipeline, footage.size))
    shifted = None if factors is None else np.concatenate([np.ones(first, np.float32), np.asarray(factors)])
    settings_at = schedule(engine, pipeline.dream, pipeline.temporal, footage.fps, shifted)
    motions = ahead(read(footage, first), pipeline.temporal)
    with contextlib.closing(motions):
        for index, pixels, _ in dreamed(itertools.islice(motions, end - first), step, settings_at, first):
            yield index, pixels, step.last_cut  # a cut restarts the chain in every mode
