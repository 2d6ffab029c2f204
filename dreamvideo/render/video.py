"""Dreaming a video: the chain of stages (:mod:`dreamvideo.render.chain`) from the input
to a :class:`~dreamvideo.media.recorder.Recorder`, with the work folder that makes it
resumable (:mod:`dreamvideo.render.loop`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from dreamvideo.config import AudioConfig, Pipeline, SourceConfig
from dreamvideo.errors import DreamvideoError, out_of_memory
from dreamvideo.media.audio import follow
from dreamvideo.media.outputs import check_output
from dreamvideo.media.recorder import Recorder
from dreamvideo.media.sources import frame_count_kind
from dreamvideo.media.writers import VIDEO_EXTENSIONS, AudioSource, is_stream
from dreamvideo.render.chain import (
    Colours,
    Footage,
    Settings,
    ahead,
    dreamed,
    dreams,
    keep_indices,
    read,
    schedule,
)
from dreamvideo.render.loop import LoopReport, Made, Run, begin, encoding, open_work, run_loop, watched
from dreamvideo.temporal.modes import TemporalDreamer

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


def soundtrack(audio: AudioConfig, video: str, has_audio: bool, source: SourceConfig) -> AudioSource | None:
    """The sound a video render follows and keeps: ``--audio FILE`` from its start, else
    the input's own over the range rendered, else none."""
    if audio.file:
        return AudioSource(audio.file, 0.0, None)
    return AudioSource(video, source.start or 0.0, source.end) if has_audio else None


def step_factors_for(pipeline: Pipeline, sound: AudioSource | None, fps: float,
                     frames: int | None) -> np.ndarray | None:
    """The step factor of each frame when the dream follows the soundtrack, else None."""
    if pipeline.audio.react <= 0:
        return None
    if sound is None:
        raise DreamvideoError(f"{pipeline.source.input} has no soundtrack for --audio-react to follow; "
                              "give one with --audio FILE")
    audio = pipeline.audio
    return follow(sound, fps, frames, audio.react, audio.smooth)


def check_video_input(source: SourceConfig) -> None:
    """A video to dream, or the one line that says what to do instead."""
    if source.input is None:
        raise DreamvideoError("no input video given")
    if frame_count_kind(source.input) == "still":
        raise DreamvideoError(f"{source.input} is a still image; dream it with `dreamvideo still "
                              f"{source.input} -o OUT.png`, or zoom into it with `dreamvideo zoom "
                              f"{source.input} -o OUT.mp4`")


def render_video(pipeline: Pipeline, run: Run | None = None) -> VideoReport:
    """Dream ``pipeline.source.input`` into ``pipeline.output`` (.mp4, .webm, .gif, or a
    folder of PNGs).

    What is made is checkpointed beside the output; after Ctrl-C or a crash, the same
    call with ``Run(resume=True)`` goes on from there. ``run.progress(done, expected)``
    hears of every frame; ``run.clock(stage, seconds)`` how long each stage was busy.

    >>> import dreamvideo
    >>> pipeline = dreamvideo.Pipeline("video", dreamvideo.SourceConfig("clip.mp4", max_size=320, end=2.0),
    ...                                output=dreamvideo.OutputConfig("dreamed.mp4"))
    >>> report = dreamvideo.render_video(pipeline)  # doctest: +SKIP
    """
    run = run or Run()
    check_video_input(pipeline.source)
    out = check_output(pipeline.output.path or "", inputs=[pipeline.source.input], force=run.force,
                       extensions=VIDEO_EXTENSIONS, folder_ok=True)
    pipeline, engine, comment = begin(pipeline, run.engine)
    footage = Footage.open(pipeline.source)
    step = TemporalDreamer(pipeline.temporal, dreams(engine, pipeline, footage.size))
    sound = soundtrack(pipeline.audio, str(pipeline.source.input), footage.info.has_audio, pipeline.source)
    factors = step_factors_for(pipeline, sound, footage.fps, footage.expected)
    settings_at = schedule(engine, pipeline.dream, pipeline.temporal, footage.fps, factors)
    work, restored = open_work(out, comment, run.resume, run.force)
    colours = Colours(pipeline.color)
    if restored:
        _, arrays, values = work.load_state()
        colours.restore(arrays)
        step.restore(arrays, values)
    muxed = sound if pipeline.output.audio and sound is not None and is_stream(out) else None
    fps = footage.info.fps / pipeline.source.every  # exact (a Fraction), as the encoder takes it
    written = encoding(pipeline.output, footage.size, fps, muxed, comment)
    recorder = Recorder(work, out, written, restored == 0, run.keep_frames, clock=run.clock)
    made = _made(footage, pipeline, step, settings_at, colours, restored, run)
    try:
        loop = run_loop(watched(made, run.frames), recorder, restored, footage.expected, run.progress,
                        _nothing(pipeline.source))
    except Exception as e:
        if out_of_memory(e):
            raise DreamvideoError(_too_big(footage.size, pipeline)) from e
        raise
    return _report(loop, footage.expected, step, pipeline)


def _too_big(size: tuple[int, int], pipeline: Pipeline) -> str:
    """What to do when a frame does not fit the device's memory."""
    flow = pipeline.temporal.flow_size
    return (f"a {size[0]}x{size[1]} frame does not fit in the device's memory; lower --max-size "
            f"(now {pipeline.source.max_size or 'unset'}) or --flow-size (now {flow or 'unset'}), or "
            "--tile-size")


def _made(footage: Footage, pipeline: Pipeline, step: TemporalDreamer, settings_at: Settings,
          colours: Colours, restored: int, run: Run) -> Iterator[Made]:
    """The chain's frames as the loop keeps them, each with the state to go on from."""
    frames = read(footage)
    if restored:  # frame restored-1 is the flow's previous frame; it is made already
        frames = keep_indices(frames, lambda i: i >= restored - 1)
    motions = ahead(frames, pipeline.temporal, run.clock)

    def state(index: int) -> tuple[int, dict, dict]:
        arrays, values = step.state()
        return index + 1, {**arrays, **colours.state()}, values

    with contextlib.closing(motions):
        if restored:
            next(motions, None)
        for index, pixels, m in dreamed(motions, step, settings_at, restored, run.clock):
            if colours:  # the output's colours only: the carry goes on as dreamed
                with _timed(run, "dream"):
                    pixels = colours(pixels, m.uploaded[0] if m.uploaded else m.frame)
            yield Made(index, pixels, lambda index=index: state(index))


@contextlib.contextmanager
def _timed(run: Run, stage: str) -> Iterator[None]:
    """The block's time added to ``stage`` of the run's clock."""
    begun = time.perf_counter()
    yield
    if run.clock is not None:
        run.clock(stage, time.perf_counter() - begun)


def _nothing(source: SourceConfig) -> str:
    """The error of a render that could not decode a single frame."""
    return f"no frames could be decoded from {source.input}" + (f" from {source.start:g} s on"
                                                                 if source.start else "")


def _report(loop: LoopReport, expected: int | None, step: TemporalDreamer, pipeline: Pipeline) -> VideoReport:
    """The loop's report, with a warning when the input ended well before its length said."""
    if loop.complete and expected and loop.frames < expected - max(2, expected // 20):
        log.warning("the input ended after %d of about %d frames: it may be cut off or corrupt; "
                    "the output holds the frames that decoded", loop.frames, expected)
        loop = dataclasses.replace(loop, complete=False)
    full = step.full if pipeline.temporal.mode == "flow" else None
    return VideoReport(**vars(loop), expected=expected, scene_cuts=step.cuts, full_dreams=full)

