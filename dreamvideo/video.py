"""Dreaming a video: source → dream → temporal carry → writer, one pass, in order.

Decoding and optical flow run ahead of the dream in a thread; saving each finished
frame (the checkpoint that makes ``--resume`` possible) and encoding it run behind it
in another (ffmpeg itself in its own process). The queues between are bounded, so
memory does not grow with the video's length.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dreamvideo.checkpoint import Recorder, WorkFolder
from dreamvideo.config import DreamConfig, ModelConfig, SourceConfig, TemporalConfig
from dreamvideo.errors import DreamvideoError
from dreamvideo.images import fit_size
from dreamvideo.outputs import check_output
from dreamvideo.provenance import describe
from dreamvideo.sources import StreamBroken, frame_count_kind, probe, read_frames
from dreamvideo.stills import progress_bar
from dreamvideo.temporal import Clock, TemporalDreamer, with_motion
from dreamvideo.threads import prefetch, timed
from dreamvideo.writers import VIDEO_EXTENSIONS, AudioSource

log = logging.getLogger("dreamvideo")

FrameProgress = Callable[[int, int | None], None]  # (frames done, frames expected)


@dataclass(frozen=True)
class VideoReport:
    """What a render did, for the user and for tuning."""

    output: Path
    frames: int  # in the output
    expected: int | None
    seconds: float  # spent dreaming in this run
    scene_cuts: int  # in the whole output
    complete: bool  # False: the input broke off and the output holds what decoded
    restored: int = 0  # frames a resumed run took from the work folder

    @property
    def dreamed(self) -> int:
        """Frames dreamed in this run."""
        return self.frames - self.restored

    @property
    def seconds_per_frame(self) -> float:
        """Over the frames dreamed in this run (restored ones cost nothing now)."""
        return self.seconds / max(self.dreamed, 1)


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


def dream_functions(model: ModelConfig, dream: DreamConfig, temporal: TemporalConfig,
                    height: int, width: int) -> tuple[Callable, Callable]:
    """The fresh-frame and carried-frame dreams (device tensors in and out), both on one
    compiled graph."""
    from dreamvideo.dream import dream_tensor as run
    from dreamvideo.dream import octave_shapes
    from dreamvideo.stills import prepare

    dreamer, layers = prepare(model, dream, height, width)
    later = later_config(dream, temporal)
    for config in (dream, later):  # warn here once, not on every frame
        octave_shapes(height, width, config.octaves, config.octave_scale, dreamer.extractor.min_size)
    return (lambda image: run(image, dreamer, dream, layers, warn=False),
            lambda image: run(image, dreamer, later, layers, warn=False))


def render_video(source: SourceConfig, output: str | os.PathLike[str], *,
                 model: ModelConfig | None = None, dream: DreamConfig | None = None,
                 temporal: TemporalConfig | None = None, quality: int | None = None,
                 audio: bool = True, codec: str | None = None, fps: float | None = None,
                 force: bool = False, quiet: bool = True, resume: bool = False,
                 keep_frames: bool = False, progress: FrameProgress | None = None,
                 clock: Clock | None = None) -> VideoReport:
    """Dream ``source.input`` into ``output`` (.mp4, .webm, .gif, or a folder of PNGs).

    Every finished frame is checkpointed beside the output; after Ctrl-C or a crash,
    the same call with ``resume=True`` goes on from the last one. ``clock(stage, seconds)``
    hears how long each stage was busy (``dreamvideo bench video``).

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
    model, dream = model or ModelConfig(), dream or DreamConfig()
    temporal = temporal or TemporalConfig()
    out = check_output(output, inputs=[source.input], force=force, extensions=VIDEO_EXTENSIONS,
                       folder_ok=True)
    info = probe(source.input)
    width, height = fit_size(info.width, info.height, source.max_size)
    rate = info.fps / source.every
    expected = _expected(info.duration, float(info.fps), source)
    first, later = dream_functions(model, dream, temporal, height, width)
    keep_audio = audio and info.has_audio and out.suffix.lower() in (".mp4", ".webm")
    sound = AudioSource(str(source.input), source.start or 0.0, source.end) if keep_audio else None
    comment = describe("video", source, out, model=model, dream=dream, temporal=temporal,
                       quality=quality, audio=audio, codec=codec, fps=fps)
    work = WorkFolder(out)
    done = restored = work.open(comment, resume, force)
    dreamer = TemporalDreamer(temporal, first, later)
    if done:
        dreamer.restore(*work.load_state()[1:])
    frames: Iterator[np.ndarray] = read_frames(
        source.input, (width, height) if (width, height) != (info.width, info.height) else None,
        source.start, source.end)
    if source.every > 1:
        frames = _keep(frames, lambda i: i % source.every == 0)
    if done:
        resume_from = done - 1  # frame done-1 is the flow's previous frame (`done` moves on below)
        frames = _keep(frames, lambda i: i >= resume_from)
    update, close = progress_bar(f"dreaming {Path(source.input).name}", quiet, expected, unit="frame")
    complete, interrupted, started = True, False, time.perf_counter()
    motions = prefetch(with_motion(timed(frames, clock, "decode"), temporal, clock), depth=4)
    recorder = Recorder(work, out, done == 0, keep_frames, clock=clock, size=(width, height), fps=rate,
                        quality=quality, audio=sound, comment=comment, codec=codec, out_fps=fps)
    with recorder:
        try:
            if done:
                next(motions, None)  # frame done-1 is on disk already
            for motion in motions:
                begun = time.perf_counter()
                frame = dreamer(motion)
                if clock is not None:
                    clock("dream", time.perf_counter() - begun)
                recorder.submit(done, frame, (done + 1, *dreamer.state()) if recorder.due() else None)
                done += 1
                if update is not None:
                    update(done, expected)
                if progress is not None:
                    progress(done, expected)
        except StreamBroken as e:  # the input broke off: keep what decoded
            if done == 0:
                work.remove()
                raise
            complete = False
            log.warning("stopped after %d frames: %s; the output holds those frames", done, e)
        except KeyboardInterrupt:
            interrupted = True
            if done > restored:  # the frames so far are submitted: keep the state after them
                recorder.submit(None, None, (done, *dreamer.state()))
        finally:
            motions.close()
            close()
        if interrupted:
            raise work.interrupted(done)
        if done == 0:
            work.remove()
            raise DreamvideoError(f"no frames could be decoded from {source.input}"
                                  + (f" from {source.start:g} s on" if source.start else ""))
    recorder.finish(done)
    if complete and expected and done < expected - max(2, expected // 20):
        complete = False
        log.warning("the input ended after %d of about %d frames: it may be cut off or corrupt; "
                    "the output holds the frames that decoded", done, expected)
    return VideoReport(out, done, expected, time.perf_counter() - started, dreamer.cuts, complete, restored)
