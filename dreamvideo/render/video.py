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

import numpy as np

from dreamvideo.config import DreamConfig, ModelConfig, OutputConfig, Pipeline, SourceConfig, TemporalConfig
from dreamvideo.core.dream import dream_tensor
from dreamvideo.core.engine import Engine
from dreamvideo.errors import DreamvideoError
from dreamvideo.media.images import fit_size
from dreamvideo.media.outputs import check_output
from dreamvideo.media.recorder import Recorder
from dreamvideo.media.sources import frame_count_kind, probe, read_frames
from dreamvideo.media.threads import prefetch, timed
from dreamvideo.media.writers import VIDEO_EXTENSIONS, AudioSource
from dreamvideo.render.loop import LoopReport, Made, Progress, begin, open_work, run_loop
from dreamvideo.temporal.carry import TemporalDreamer
from dreamvideo.temporal.motion import Clock, with_motion

log = logging.getLogger("dreamvideo")


@dataclass(frozen=True)
class VideoReport(LoopReport):
    """What a render did, for the user and for tuning: the loop's report, the frames
    planned and the scene cuts in the whole output."""

    expected: int | None = None
    scene_cuts: int = 0


def _keep(frames: Iterator[np.ndarray], wanted: Callable[[int], bool]) -> Iterator[np.ndarray]:
    """The frames whose index is wanted; the source is closed whatever happens."""
    try:
        for i, frame in enumerate(frames):
            if wanted(i):
                yield frame
    finally:
        frames.close()  # type: ignore[attr-defined]


def _expected(duration: float | None, fps: float, source: SourceConfig) -> int | None:
    if not duration:
        return None
    end = min(source.end, duration) if source.end is not None else duration
    return max(0, math.ceil((end - (source.start or 0.0)) * fps / source.every - 1e-6))


def later_config(dream: DreamConfig, temporal: TemporalConfig) -> DreamConfig:
    """The lighter dream of a frame that starts from the carried one."""
    return dataclasses.replace(dream, steps=temporal.later_steps, octaves=temporal.later_octaves,
                               step_size=dream.step_size * temporal.later_step_scale)


def dream_functions(engine: Engine, dream: DreamConfig, temporal: TemporalConfig,
                    height: int, width: int) -> tuple[Callable, Callable]:
    """The fresh-frame and carried-frame dreams (device tensors in and out), both on one
    compiled graph."""
    dreamer, layers = engine.prepare(dream, height, width)
    later = later_config(dream, temporal)
    for config in (dream, later):  # warn here once, not on every frame
        engine.octave_count(dreamer, config, height, width)
    return (lambda image: dream_tensor(image, dreamer, dream, layers, warn=False),
            lambda image: dream_tensor(image, dreamer, later, layers, warn=False))


def render_video(source: SourceConfig, output: OutputConfig | str | os.PathLike[str], *,
                 model: ModelConfig | None = None, dream: DreamConfig | None = None,
                 temporal: TemporalConfig | None = None, engine: Engine | None = None,
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
                        temporal or TemporalConfig(), output=given)
    out = check_output(given.path or "", inputs=[source.input], force=force, extensions=VIDEO_EXTENSIONS,
                       folder_ok=True)
    pipeline, engine, comment = begin(pipeline, engine)
    source, dream, temporal, given = pipeline.source, pipeline.dream, pipeline.temporal, pipeline.output
    info = probe(source.input)
    width, height = fit_size(info.width, info.height, source.max_size)
    expected = _expected(info.duration, float(info.fps), source)
    dreamer = TemporalDreamer(temporal, *dream_functions(engine, dream, temporal, height, width))
    keep_audio = given.audio and info.has_audio and out.suffix.lower() in (".mp4", ".webm")
    sound = AudioSource(str(source.input), source.start or 0.0, source.end) if keep_audio else None
    work, restored = open_work(out, comment, resume, force)
    if restored:
        dreamer.restore(*work.load_state()[1:])
    frames: Iterator[np.ndarray] = read_frames(
        source.input, (width, height) if (width, height) != (info.width, info.height) else None,
        source.start, source.end)
    if source.every > 1:
        frames = _keep(frames, lambda i: i % source.every == 0)
    if restored:  # frame restored-1 is the flow's previous frame; it is made already
        frames = _keep(frames, lambda i: i >= restored - 1)
    motions = prefetch(with_motion(timed(frames, clock, "decode"), temporal, clock), depth=4)

    def made() -> Iterator[Made]:
        with contextlib.closing(motions):
            if restored:
                next(motions, None)
            for index, motion in enumerate(motions, start=restored):
                begun = time.perf_counter()
                pixels = dreamer(motion)
                if clock is not None:
                    clock("dream", time.perf_counter() - begun)
                yield Made(index, pixels, lambda index=index: (index + 1, *dreamer.state()))

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
    return VideoReport(**vars(loop), expected=expected, scene_cuts=dreamer.cuts)
