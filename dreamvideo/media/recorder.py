"""Finished frames kept in order behind the dream: encoded, checkpointed, joined at the end.

(Tests: tests/render/test_loop.py, tests/render/test_resume.py.)
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import dataclasses
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from dreamvideo.core.device import to_host
from dreamvideo.core.process import checkpoint_seconds
from dreamvideo.media.threads import Behind
from dreamvideo.media.workfolder import WorkFolder
from dreamvideo.media.writers import CONTAINERS, Encoding, is_stream, join_segments, open_writer


def segment_encoding(output: Path, encoding: Encoding) -> Encoding:
    """How a segment of ``output`` is encoded: as the output, in Matroska (whose segments
    join cleanly however short; MP4 edit lists do not), without the sound and comment
    that the join adds."""
    codec = encoding.codec or CONTAINERS[output.suffix.lower()][0][0]
    return dataclasses.replace(encoding, audio=None, comment=None, codec=codec)


class Recorder:
    """Keeps each finished frame, in order, in a background thread, and now and then the
    state to go on from (:meth:`due`; a resume re-dreams the frames after the last state,
    identically), so a large frame's state costs no time per frame.

    MP4 and WebM outputs are encoded as they come, into segments in the work folder that
    close at a saved state: a resume keeps the closed ones, and :meth:`finish` joins them
    without re-encoding and adds the sound. A segment begins with a key frame, so it
    spans at least SEGMENT_SECONDS of video (a key frame every few frames would cost bits
    and pulse). GIFs, PNG folders and re-timed outputs keep every frame as a PNG in the
    work folder; a fresh render encodes them at once, a resumed one from the saved frames
    in :meth:`finish`. Leaving the ``with`` by an exception aborts the encoder: nothing
    appears at the output.
    """

    SEGMENT_SECONDS = 2.0  # of video, at least, between states of a segmented output
    SAVERS = 4  # threads compressing frames (zlib releases the GIL)

    def __init__(self, work: WorkFolder, output: Path, encoding: Encoding, fresh: bool,
                 keep_frames: bool = False, clock: Callable[[str, float], None] | None = None) -> None:
        self.work, self.output, self.fresh, self.encoding = work, output, fresh, encoding
        self.keep_frames = keep_frames
        self._state_every = checkpoint_seconds()
        # re-timing (--fps) drops and repeats frames over the whole stream: not per segment
        self.segmented = is_stream(output) and not encoding.retimed
        self._clock = clock or (lambda stage, seconds: None)
        self._last_state = -float("inf")
        self._min_frames = self.segment_frames(encoding.fps) if self.segmented else 1
        # frames since the last state. Segmented: a video's state goes with the end of its
        # frame, so the first is due after segment_frames of them and the segments end at
        # its multiples, from frame 0 (or a resumed render's first frame, itself one) on;
        # else: the first state is due at once
        self._frames = 0 if self.segmented else self._min_frames

    @classmethod
    def segment_frames(cls, fps: Any) -> int:
        """The frames of each segment of an MP4 or WebM output: SEGMENT_SECONDS of video,
        from frame 0 on, whatever the render's speed, so that every render of the same
        frames (resumed, or spread over workers) encodes them the same way."""
        return max(1, round(cls.SEGMENT_SECONDS * float(fps or 0))) if checkpoint_seconds() > 0 else 1

    def due(self, frames: int = 1) -> bool:
        """Whether the state that goes with the next submitted frame should be saved;
        ``frames``: how many frames were made since the last call."""
        self._frames += frames
        now = time.monotonic()
        if self._frames < self._min_frames:
            return False
        if not self.segmented and now - self._last_state < self._state_every:
            return False  # (a segmented output's states are its segments' ends: every few seconds of video)
        self._last_state, self._frames = now, 0
        return True

    def __enter__(self) -> Recorder:
        self._segment_cm = self._segment = None
        if self.segmented:
            self.work.drop_segments_from(self.work.load_state()[0] if self.work.has_state() else 0)
        self._saving: collections.deque[concurrent.futures.Future] = collections.deque()
        with contextlib.ExitStack() as stack:  # what __exit__ closes, in reverse order
            self._encoder = stack.enter_context(open_writer(self.output, self.encoding)) \
                if self.fresh and not self.segmented else None
            self._pool = stack.enter_context(
                concurrent.futures.ThreadPoolExecutor(self.SAVERS, thread_name_prefix="dreamvideo-save"))
            # room for a slow state save without stalling
            self._saver = Behind(self._keep, depth=16, clock=self._clock, name="write")
            self._stack = stack.pop_all()
        return self

    def _keep(self, item: tuple) -> None:
        index, frame, state = item
        if frame is not None:  # a device tensor is fetched here, while the next frame is dreamed
            frame = to_host(frame)
        if state is not None and frame is not None and state[0] <= index:
            self._checkpoint(state)  # a state from before this frame (zoom: the frame to go on from)
            state = None
        if frame is not None:
            self._write(index, frame)
        if state is not None:  # (frames done, arrays, values): what the next frame needs
            self._checkpoint(state)
        self._drain(2 * self.SAVERS)

    def _write(self, index: int, frame: np.ndarray) -> None:
        if not self.segmented or self.keep_frames:
            self._saving.append(self._pool.submit(self._save, index, frame))
        encoder = self._encoder
        if self.segmented:
            if self._segment is None:
                encoding = segment_encoding(self.output, self.encoding)
                self._segment_cm = open_writer(self.work.segment_path(index, ".mkv"), encoding)
                self._segment = self._segment_cm.__enter__()
            encoder = self._segment
        if encoder is not None:
            start = time.perf_counter()
            encoder.write(frame)  # waits while ffmpeg is behind
            self._clock("encode", time.perf_counter() - start)

    def _checkpoint(self, state: tuple) -> None:
        """Every frame before the state is kept (its segment closed), then the state."""
        self._close_segment(None)
        self._drain(0)
        self.work.save_state(*state)

    def _close_segment(self, exc: tuple | None) -> None:
        if self._segment_cm is not None:
            cm, self._segment_cm, self._segment = self._segment_cm, None, None
            cm.__exit__(*(exc or (None, None, None)))

    def _save(self, index: int, frame: np.ndarray) -> None:
        start = time.perf_counter()
        self.work.save_frame(index, frame)
        self._clock("save", time.perf_counter() - start)

    def _drain(self, leave: int) -> None:
        """Wait for frames being saved until ``leave`` remain; a failed save raises here."""
        while len(self._saving) > leave:
            self._saving.popleft().result()

    def submit(self, index: int | None, frame: Any, state: tuple | None = None) -> None:
        """Frame ``index`` (RGB uint8, an array or a device tensor; None: a state alone),
        and the state (frames done, arrays, values) that goes with it: after the frame, or
        before it when it says so."""
        self._saver.submit((index, frame, state))

    def __exit__(self, *exc: Any) -> bool | None:
        """Every submitted frame kept and the encoder finished, or, when the block failed
        or keeping did, everything aborted: nothing appears at the output."""
        try:
            self._saver.close()  # every submitted frame kept, or the error that stopped it
            self._drain(0)
            if exc[0] is None:
                self._close_segment(None)
        except BaseException:
            failure = sys.exc_info()
            self._close_segment(failure)
            self._stack.__exit__(*failure)
            if exc[0] is None:
                raise
            return None  # the exception that left the with-block is the one to report
        self._close_segment(exc)  # an exception left the block: a segment it cut short goes
        return self._stack.__exit__(*exc)

    def finish(self, count: int) -> None:
        """Join the segments (or encode a resumed render from its frames) into the output;
        then the work folder goes, unless its frames are to be kept."""
        if self.segmented:
            join_segments(self.work.segments(), self.output, count, self.encoding)
        elif not self.fresh:
            with open_writer(self.output, self.encoding) as out:
                for frame in self.work.frames(count):
                    out.write(frame)
        if not self.keep_frames:
            self.work.remove()
