"""The one resumable frame loop of video and zoom: work folder, recorder, progress,
interruption, the finished output. The renders only say how to make their frames.

A render's frames come as :class:`Made` items, each with the state to go on from after
it (or before it, for zoom) when there is one; the loop keeps them through a
:class:`~dreamvideo.media.recorder.Recorder`, saves a state when one is due, and on
Ctrl-C saves the latest state before it stops (exit code 130 in the CLI).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dreamvideo.config import OutputConfig, Pipeline, as_made, resolved
from dreamvideo.core.engine import Engine
from dreamvideo.errors import DreamvideoError, StreamBroken, out_of_memory
from dreamvideo.media.recorder import Recorder
from dreamvideo.media.sources import count_frames
from dreamvideo.media.workfolder import WorkFolder
from dreamvideo.media.writers import AudioSource, Encoding
from dreamvideo.temporal.motion import Clock

log = logging.getLogger("dreamvideo")

Progress = Callable[[int, int | None], None]  # (done, planned; None when not known)
State = tuple[int, dict, dict]  # (frames done, arrays, values): what the next frame needs


@dataclass(frozen=True)
class Run:
    """How a render runs, beside what it makes (the :class:`Pipeline`): the engine to
    reuse, whether to replace or resume an output, and who hears of its progress."""

    engine: Engine | None = None  # None: one made for the pipeline's model
    force: bool = False  # replace an existing output
    resume: bool = False  # go on with an interrupted render of the same output
    keep_frames: bool = False  # keep the work folder beside the output
    progress: Progress | None = None  # (done, planned) after every frame
    clock: Clock | None = None  # (stage, seconds busy)
    frames: Callable[[int, Any], None] | None = None  # (index, RGB uint8 on the device or host) of each frame


def watched(made: Iterator[Made], frames: Callable[[int, Any], None] | None) -> Iterator[Made]:
    """The frames as they are made, each shown to ``frames`` first (the studio shows the
    latest); closing this closes ``made``."""
    if frames is None:
        yield from made
        return
    try:
        for item in made:
            frames(item.index, item.pixels)
            yield item
    finally:
        made.close()  # type: ignore[attr-defined]


def begin(pipeline: Pipeline, engine: Engine | None) -> tuple[Pipeline, Engine, str]:
    """Every render starts here, whoever asked for it (CLI, preset, ``run``, the API):
    the engine for its model, repeatable kernels when a seed was given, what ``preview``
    implies, and the configuration the output will carry (as asked, with the backend)."""
    if engine is None:
        engine = Engine(pipeline.model)
    elif engine.config != pipeline.model:
        raise DreamvideoError(f"the engine runs {engine.config.name} with other settings than the "
                              "render asks for; make an Engine for its model configuration")
    if pipeline.dream.seed is not None:
        engine.repeatable()
    return resolved(pipeline), engine, as_made(pipeline, engine.backend)


@dataclass(frozen=True)
class Made:
    """One frame of a render: RGB uint8 (an array, or a tensor still on the device)."""

    index: int
    pixels: Any
    state: Callable[[], State] | None = None  # the state that goes with this frame, if it is one
    frames: int = 1  # frames made since the last Made that could carry a state


@dataclass(frozen=True)
class LoopReport:
    """What the loop did: frames in the output, restored from an earlier run, the time."""

    output: Path
    frames: int
    restored: int
    seconds: float  # spent making frames in this run
    complete: bool = True  # False: the input broke off and the output holds what decoded
    written: int | None = None  # frames the output file holds (re-timing drops or repeats frames)

    @property
    def dreamed(self) -> int:
        """Frames made in this run (a resumed run restores the rest)."""
        return self.frames - self.restored

    @property
    def seconds_per_frame(self) -> float:
        """Over the frames made in this run (restored ones cost nothing now)."""
        return self.seconds / max(self.dreamed, 1)


def run_loop(made: Iterator[Made], recorder: Recorder, restored: int, expected: int | None,
             progress: Progress | None = None, nothing: str = "no frames were made") -> LoopReport:
    """Keep every frame ``made`` yields, then join or encode the output. ``nothing``: the
    error when there was not a single frame. A render that runs out of memory leaves no
    work folder behind (the same size would fail again), unless an earlier run made one."""
    try:
        return _loop(made, recorder, restored, expected, progress, nothing)
    except Exception as e:
        if out_of_memory(e) and restored == 0:
            recorder.work.remove()
        raise


def _loop(made: Iterator[Made], recorder: Recorder, restored: int, expected: int | None,
          progress: Progress | None, nothing: str) -> LoopReport:
    work = recorder.work
    done, latest, interrupted, complete = restored, None, False, True
    started = time.perf_counter()
    with recorder, contextlib.closing(made), _ctrl_c() as pressed:
        try:
            for item in made:
                if pressed.is_set():  # Python swallowed the KeyboardInterrupt (in a __del__, say)
                    raise KeyboardInterrupt
                if item.state is not None:
                    latest = item.state
                due = item.state is not None and recorder.due(item.frames)
                recorder.submit(item.index, item.pixels, item.state() if due else None)
                done = item.index + 1
                if progress is not None:
                    progress(done, expected)
        except StreamBroken as e:  # the input broke off: keep what decoded
            if done == restored:
                work.remove()
                raise
            complete = False
            log.warning("stopped after %d frames: %s; the output holds those frames", done, e)
        except KeyboardInterrupt:
            interrupted = True
            if latest is not None and done > restored:  # keep the state after the frames so far
                recorder.submit(None, None, latest())
        if interrupted:
            raise work.interrupted(done)
        if done == 0:
            work.remove()
            raise DreamvideoError(nothing)
    recorder.finish(done)
    return LoopReport(recorder.output, done, restored, time.perf_counter() - started, complete,
                      count_frames(recorder.output))


@contextlib.contextmanager
def _ctrl_c() -> Iterator[threading.Event]:
    """Remember a Ctrl-C as well as raising it: an interrupt that lands while Python runs
    a finaliser is printed and dropped, and the loop must stop at the next frame anyway."""
    pressed = threading.Event()
    main = threading.current_thread() is threading.main_thread()
    before = signal.getsignal(signal.SIGINT) if main else None
    if before is None or before == signal.SIG_IGN:  # not ours to handle
        yield pressed
        return

    def handler(signum, frame):
        pressed.set()
        if callable(before):
            before(signum, frame)
        else:
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)
    try:
        yield pressed
    finally:
        signal.signal(signal.SIGINT, before)


def encoding(output: OutputConfig, size: tuple[int, int], fps: Any, audio: AudioSource | None,
             comment: str) -> Encoding:
    """How a render's frames are written: its size and rate, the output's quality, codec and
    re-timing, the sound to mux in and the configuration to carry."""
    return Encoding(size, fps, output.quality, audio, comment, output.codec, output.fps)


def open_work(output: Path, comment: str, resume: bool, force: bool) -> tuple[WorkFolder, int]:
    """The work folder of ``output`` and how many frames an earlier run already made."""
    work = WorkFolder(output)
    return work, work.open(comment, resume, force)
