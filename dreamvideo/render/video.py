"""Dreaming a video: source → motion → dream with the carry → recorder, in order.

Decoding runs ahead in a thread, the flow in a pool of threads ahead of the dream; the
frames are kept behind it in another thread (encoded, checkpointed for ``--resume``).
The queues between are bounded, so memory does not grow with the video's length.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from dreamvideo.config import (
    AudioConfig,
    ColorConfig,
    DreamConfig,
    ModelConfig,
    OutputConfig,
    Pipeline,
    SourceConfig,
    TemporalConfig,
)
from dreamvideo.core.backends import load_keras
from dreamvideo.core.dream import dream_tensor, loss_weights
from dreamvideo.core.engine import Engine
from dreamvideo.errors import DreamvideoError
from dreamvideo.media.audio import follow
from dreamvideo.media.images import fit_size, read_still
from dreamvideo.media.outputs import check_output
from dreamvideo.media.recorder import Recorder
from dreamvideo.media.sources import frame_count_kind, probe, read_frames
from dreamvideo.media.threads import prefetch, timed
from dreamvideo.media.writers import VIDEO_EXTENSIONS, AudioSource, is_stream
from dreamvideo.render.keyframes import layer_names, video_moment
from dreamvideo.render.loop import LoopReport, Made, Progress, begin, open_work, run_loop
from dreamvideo.temporal.carry import PLAIN, FrameSettings, TemporalDreamer, on_device
from dreamvideo.temporal.coherence import Coherence, coherence
from dreamvideo.temporal.motion import Clock, with_motion

log = logging.getLogger("dreamvideo")


@dataclass(frozen=True)
class VideoReport(LoopReport):
    """What a render did, for the user and for tuning: the loop's report, the frames
    planned and the scene cuts in the whole output."""

    expected: int | None = None
    scene_cuts: int = 0
    workers: int = 0  # Ray workers (0: one process)
    busy: float | None = None  # the workers' share of the render's time spent dreaming pieces
    full_dreams: dict[str, int] | None = None  # flow mode: frames fully dreamed, by why (FULL_REASONS)


def _keep(frames: Iterator[np.ndarray], wanted: Callable[[int], bool]) -> Iterator[np.ndarray]:
    """The frames whose index is wanted; the source is closed whatever happens."""
    try:
        for i, frame in enumerate(frames):
            if wanted(i):
                yield frame
    finally:
        frames.close()  # type: ignore[attr-defined]


def expected_frames(duration: float | None, fps: float, source: SourceConfig) -> int | None:
    """The frames a render of ``source`` makes of a video this long at this rate (None when
    its duration is unknown)."""
    if not duration:
        return None
    end = min(source.end, duration) if source.end is not None else duration
    return max(0, math.ceil((end - (source.start or 0.0)) * fps / source.every - 1e-6))


def later_config(dream: DreamConfig, temporal: TemporalConfig) -> DreamConfig:
    """The lighter dream of a frame that starts from the carried one."""
    return dataclasses.replace(dream, steps=temporal.later_steps, octaves=temporal.later_octaves,
                               step_size=dream.step_size * temporal.later_step_scale)


def dream_functions(engine: Engine, dream: DreamConfig, temporal: TemporalConfig, height: int, width: int,
                    names: tuple[str, ...] | None = None) -> tuple[Callable, Callable]:
    """The fresh-frame and carried-frame dreams (device tensors in and out, with the
    frame's :class:`FrameSettings`), both on one compiled graph. ``names``: every layer a
    schedule may weigh, if more than the configured ones."""
    dreamer, layers = engine.prepare(dream, height, width, names)
    later = later_config(dream, temporal)
    for config in (dream, later):  # warn here once, not on every frame
        engine.octave_count(dreamer, config, height, width)
    weights = {name: layers.get(name, 0.0) for name in dreamer.extractor.layers}

    def first(image: Any, settings: FrameSettings) -> Any:
        return dream_tensor(image, dreamer, dream, weights, warn=False, weights=settings.weights,
                            step_scale=settings.step_scale)

    def carried(image: Any, settings: FrameSettings) -> Any:
        config = later if settings.steps is None else dataclasses.replace(later, steps=settings.steps)
        return dream_tensor(image, dreamer, config, weights, warn=False, weights=settings.weights,
                            step_scale=settings.step_scale)

    return first, carried


def schedule(engine: Engine, dream: DreamConfig, temporal: TemporalConfig, fps: float,
             loudness: np.ndarray | None = None) -> Callable[[int], FrameSettings]:
    """Frame index → its settings: the keyframes eased at that time (layers, step size,
    steps of carried frames, carry, guide weight) and the soundtrack's pull on the step
    size (``loudness``: the step factor of each frame, :mod:`dreamvideo.media.audio`)."""
    if not temporal.keyframes and loudness is None:
        return lambda index: PLAIN
    ops = load_keras().ops
    base = engine.layers(dream)
    dreamer = engine.dreamer(layer_names(temporal.keyframes, base), dream.guide)

    def at(index: int) -> FrameSettings:
        m = video_moment(temporal, dream, base, index / fps)
        weights = ops.convert_to_tensor(loss_weights(dreamer, m.layers, m.guide_weight))
        scale = (m.step_size or dream.step_size) / dream.step_size
        if loudness is not None and len(loudness):
            scale *= float(loudness[min(index, len(loudness) - 1)])
        return FrameSettings(weights, scale, m.carry, m.steps if m.steps != temporal.later_steps else None)

    return at


def soundtrack(audio: AudioConfig, video: str, has_audio: bool, source: SourceConfig) -> AudioSource | None:
    """The sound a video render follows and keeps: ``--audio FILE`` from its start, else
    the input's own over the range rendered, else none."""
    if audio.file:
        return AudioSource(audio.file, 0.0, None)
    return AudioSource(video, source.start or 0.0, source.end) if has_audio else None


def output_coherence(color: ColorConfig) -> tuple[Coherence | None, bool]:
    """What holds a video's output colours (off by default), and whether its reference is
    each frame's own input frame (``input``: the footage keeps its palette)."""
    per_frame = color.reference == "input"
    placeholder = np.zeros((1, 1, 3), np.float32) if per_frame else None  # replaced every frame
    return coherence(color, "none", placeholder, lambda path: read_still(path).rgb), per_frame


def step_factors_for(pipeline: Pipeline, sound: AudioSource | None, fps: float,
                     frames: int | None) -> np.ndarray | None:
    """The step factor of each frame when the dream follows the soundtrack, else None."""
    if pipeline.audio.react <= 0:
        return None
    if sound is None:
        raise DreamvideoError(f"{pipeline.source.input} has no soundtrack for --audio-react to follow; "
                              "give one with --audio FILE")
    audio = pipeline.audio
    return follow(sound.path, fps, frames, audio.react, audio.smooth, sound.start, sound.end)


def decode(source: SourceConfig, info: Any, size: tuple[int, int], first: int = 0) -> Iterator[np.ndarray]:
    """The frames a render dreams, from frame ``first`` on (counted after ``every``). A
    later start seeks to half a frame before that frame, where the constant-rate output
    begins with the frame before it (measured on H.264, VP8, 10.51 fps and real clips), and
    drops that one: the same frames come at any start."""
    start, skip = source.start, 0
    if first:
        start, skip = (source.start or 0.0) + (first * source.every - 0.5) / float(info.fps), 1
    scaled = size if size != (info.width, info.height) else None
    frames: Iterator[np.ndarray] = read_frames(source.input, scaled, start, source.end)
    if skip or source.every > 1:
        frames = _keep(frames, lambda i: i >= skip and (i - skip) % source.every == 0)
    return frames


def ahead(frames: Iterator[np.ndarray], temporal: TemporalConfig,
          clock: Clock | None = None) -> Iterator[Any]:
    """The frames as :class:`~dreamvideo.temporal.motion.Motion` on the device, made ahead
    of the dream by a chain of threads, each a stage of its own behind a short queue:
    decoding (ffmpeg writes into a pipe only as fast as it is read), the flow (its pool),
    the upload. With one thread doing all three in turn, a 1080p render on an H200 made
    23.7 frames/s with no stage busy all the time (the split is not yet timed there)."""
    decoded = prefetch(timed(frames, clock, "decode"), depth=4)
    return prefetch(on_device(prefetch(with_motion(decoded, temporal, clock), depth=4)), depth=2)


def piece_frames(pipeline: Pipeline, engine: Engine, first: int, end: int,
                 factors: np.ndarray | list[float] | None = None) -> Iterator[tuple[int, Any, bool]]:
    """(index, RGB uint8 on the device, cut?) of frames ``first`` to ``end`` - 1 (whoever fetches
    a frame with ``convert_to_numpy`` waits for it), dreamed as in a render
    of the whole video that restarted its chain at ``first`` (a shot's first frame): what
    a worker of a spread render makes (``render.scaled``). ``factors``: the soundtrack's
    step factors of these frames."""
    source, dream, temporal = pipeline.source, pipeline.dream, pipeline.temporal
    info = probe(source.input)
    width, height = fit_size(info.width, info.height, source.max_size)
    names = layer_names(temporal.keyframes, engine.layers(dream))
    dreamer = TemporalDreamer(temporal, *dream_functions(engine, dream, temporal, height, width, names))
    fps = float(info.fps) / source.every
    shifted = None if factors is None else np.concatenate([np.ones(first, np.float32), np.asarray(factors)])
    settings_at = schedule(engine, dream, temporal, fps, shifted)
    # as in a whole render: decoding and the flow run ahead in threads
    motions = ahead(decode(source, info, (width, height), first), temporal)
    with contextlib.closing(motions):
        for index, motion in zip(range(first, end), motions, strict=False):
            cuts = dreamer.cuts
            yield index, dreamer(motion, settings_at(index)), dreamer.cuts > cuts


def render_video(source: SourceConfig, output: OutputConfig | str | os.PathLike[str], *,
                 model: ModelConfig | None = None, dream: DreamConfig | None = None,
                 temporal: TemporalConfig | None = None, color: ColorConfig | None = None,
                 audio: AudioConfig | None = None,
                 engine: Engine | None = None,
                 force: bool = False, resume: bool = False, keep_frames: bool = False,
                 progress: Progress | None = None, clock: Clock | None = None) -> VideoReport:
    """Dream ``source.input`` into ``output`` (.mp4, .webm, .gif, or a folder of PNGs).

    What is made is checkpointed beside the output; after Ctrl-C or a crash, the same
    call with ``resume=True`` goes on from there. ``progress(done, expected)`` hears of
    every frame; ``clock(stage, seconds)`` how long each stage was busy (``bench video``).

    >>> import dreamvideo
    >>> report = dreamvideo.render_video(
    ...     dreamvideo.SourceConfig("clip.mp4", max_size=320, end=2.0), "dreamed.mp4")
    """
    if source.input is None:
        raise DreamvideoError("no input video given")
    if frame_count_kind(source.input) == "still":
        raise DreamvideoError(f"{source.input} is a still image; dream it with `dreamvideo still "
                              f"{source.input} -o OUT.png`, or zoom into it with `dreamvideo zoom "
                              f"{source.input} -o OUT.mp4`")
    given = output if isinstance(output, OutputConfig) else OutputConfig(str(output))
    pipeline = Pipeline("video", source, model or ModelConfig(), dream or DreamConfig(),
                        temporal or TemporalConfig(), color=color or ColorConfig(),
                        audio=audio or AudioConfig(), output=given)
    out = check_output(given.path or "", inputs=[source.input], force=force, extensions=VIDEO_EXTENSIONS,
                       folder_ok=True)
    pipeline, engine, comment = begin(pipeline, engine)
    source, dream, temporal, given = pipeline.source, pipeline.dream, pipeline.temporal, pipeline.output
    info = probe(source.input)
    width, height = fit_size(info.width, info.height, source.max_size)
    expected = expected_frames(info.duration, float(info.fps), source)
    names = layer_names(temporal.keyframes, engine.layers(dream))
    dreamer = TemporalDreamer(temporal, *dream_functions(engine, dream, temporal, height, width, names))
    fps = float(info.fps) / source.every
    sound = soundtrack(pipeline.audio, str(source.input), info.has_audio, source)
    factors = step_factors_for(pipeline, sound, fps, expected)
    settings_at = schedule(engine, dream, temporal, fps, factors)
    keep_audio = given.audio and sound is not None and is_stream(out)
    sound = sound if keep_audio else None
    work, restored = open_work(out, comment, resume, force)
    cohere, per_frame_reference = output_coherence(pipeline.color)
    if restored:
        _, arrays, values = work.load_state()
        if cohere is not None and "color_reference" in arrays:
            cohere.reference = arrays.pop("color_reference")
        dreamer.restore(arrays, values)
    frames = decode(source, info, (width, height))
    if restored:  # frame restored-1 is the flow's previous frame; it is made already
        frames = _keep(frames, lambda i: i >= restored - 1)
    motions = ahead(frames, temporal, clock)

    def state(index: int) -> tuple[int, dict, dict]:
        arrays, values = dreamer.state()
        if cohere is not None and cohere.reference is not None and not per_frame_reference:
            arrays = {**arrays, "color_reference": cohere.reference}
        return index + 1, arrays, values

    def made() -> Iterator[Made]:
        with contextlib.closing(motions):
            if restored:
                next(motions, None)
            for index, motion in enumerate(motions, start=restored):
                begun = time.perf_counter()
                pixels = dreamer(motion, settings_at(index))
                if cohere is not None:  # the output's colours only: the carry goes on as dreamed
                    if per_frame_reference:
                        cohere.reference = motion.frame
                    pixels = cohere(np.asarray(load_keras().ops.convert_to_numpy(pixels)))
                    pixels = np.clip(pixels, 0, 255).round().astype(np.uint8)
                if clock is not None:
                    clock("dream", time.perf_counter() - begun)
                yield Made(index, pixels, lambda index=index: state(index))

    recorder = Recorder(work, out, restored == 0, keep_frames, clock=clock, size=(width, height),
                        fps=info.fps / source.every, quality=given.quality, audio=sound, comment=comment,
                        codec=given.codec, out_fps=given.fps)
    nothing = f"no frames could be decoded from {source.input}" + (f" from {source.start:g} s on"
                                                                    if source.start else "")
    loop = run_loop(made(), recorder, work, restored, expected, progress, nothing)
    if loop.complete and expected and loop.frames < expected - max(2, expected // 20):
        log.warning("the input ended after %d of about %d frames: it may be cut off or corrupt; "
                    "the output holds the frames that decoded", loop.frames, expected)
        loop = dataclasses.replace(loop, complete=False)
    full = dreamer.full if temporal.mode == "flow" else None
    return VideoReport(**vars(loop), expected=expected, scene_cuts=dreamer.cuts, full_dreams=full)
