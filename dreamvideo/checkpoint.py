"""Resumable renders: completed frames and the state to go on from, beside the output.

A video or zoom render keeps a work folder ``.NAME.dreamvideo-work`` next to its
output: every finished frame as a PNG, and after it, atomically, the state that the
next frame needs (for video the previous input and dream, for zoom the last dreamed
frame). Killed at any instant, the folder holds frames 0..n-1 and the state for n; a
run with ``--resume`` goes on from there and makes the same frames an uninterrupted
run makes. The output is assembled only when every frame is done.
"""

from __future__ import annotations

import collections
import concurrent.futures
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import imageio.v3 as iio
import numpy as np

from dreamvideo.errors import DreamvideoError

SEGMENTED = (".mp4", ".webm")  # outputs encoded in segments as the render goes


class RenderInterrupted(DreamvideoError):
    """Ctrl-C: the frames done so far are saved; the message says how to go on."""


class WorkFolder:
    """The checkpoint folder of one output."""

    def __init__(self, output: str | os.PathLike[str]) -> None:
        out = Path(output)
        self.path = out.parent / f".{out.name}.dreamvideo-work"
        self.frames_dir = self.path / "frames"

    def open(self, config: str, resume: bool, force: bool) -> int:
        """Prepare for a render of ``config``; return how many frames are already done."""
        if self.path.exists() and not resume:
            if not force:
                raise DreamvideoError(f"an unfinished render of this output is waiting in {self.path}; "
                                      "pass --resume to continue it, or --force to start over")
            shutil.rmtree(self.path)
        if resume:
            if not (self.path / "config.toml").is_file():
                raise DreamvideoError(f"nothing to resume: no unfinished render in {self.path}")
            if (self.path / "config.toml").read_text(encoding="utf-8") != config:
                raise DreamvideoError(f"the unfinished render in {self.path} was made with other settings; "
                                      "run it with those, or pass --force (without --resume) to start over")
            return self.load_state()[0] if self.has_state() else 0
        self.frames_dir.mkdir(parents=True)
        _atomic_write(self.path / "config.toml", config.encode())
        return 0

    def has_state(self) -> bool:
        return (self.path / "state.npz").is_file()

    def segment_path(self, start: int, suffix: str) -> Path:
        """The segment of encoded frames that begins with frame ``start``."""
        folder = self.path / "segments"
        folder.mkdir(exist_ok=True)
        return folder / f"{start:06d}{suffix}"

    def segments(self) -> list[Path]:
        """The closed segments, in order (a segment cut short by a kill has no final name)."""
        folder = self.path / "segments"
        return sorted(p for p in folder.iterdir() if not p.name.startswith(".")) if folder.is_dir() else []

    def drop_segments_from(self, start: int) -> None:
        """Forget segments from frame ``start`` on, and any cut short: they are made again."""
        folder = self.path / "segments"
        for path in folder.iterdir() if folder.is_dir() else ():
            if path.name.startswith(".") or int(path.stem) >= start:
                path.unlink()

    def frame_path(self, index: int) -> Path:
        return self.frames_dir / f"{index + 1:06d}.png"

    def save_frame(self, index: int, frame: np.ndarray) -> None:
        tmp = self.frames_dir / f".{index + 1:06d}.tmp.png"
        try:
            iio.imwrite(tmp, frame, plugin="pillow", compress_level=1)  # 6x faster than the default
            os.replace(tmp, self.frame_path(index))
        except OSError as e:  # disk full, folder gone: say so in one line
            reason = e.strerror or e
            raise DreamvideoError(f"cannot save frame {index + 1} in {self.path}: {reason}") from None

    def save_state(self, done: int, arrays: dict[str, np.ndarray], values: dict[str, Any]) -> None:
        """Frames 0..done-1 are on disk; ``arrays`` and ``values`` make frame ``done``.
        One file, replaced atomically: a kill leaves the old state or the new one."""
        tmp = self.path / ".state.tmp.npz"
        meta = np.array(json.dumps({"done": done, **values}))
        try:
            with open(tmp, "wb") as f:
                np.savez(f, _meta=meta, **arrays)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path / "state.npz")
        except OSError as e:
            raise DreamvideoError(f"cannot save the render state in {self.path}: {e.strerror or e}") from None

    def load_state(self) -> tuple[int, dict[str, np.ndarray], dict[str, Any]]:
        """(frames done, arrays, values) as last saved."""
        with np.load(self.path / "state.npz") as data:
            values = json.loads(str(data["_meta"]))
            arrays = {k: data[k] for k in data.files if k != "_meta"}
        return int(values.pop("done")), arrays, values

    def frames(self, count: int) -> Iterator[np.ndarray]:
        for index in range(count):
            yield iio.imread(self.frame_path(index))

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)

    def interrupted(self, done: int) -> RenderInterrupted:
        return RenderInterrupted(f"interrupted after {done} frames, saved in {self.path}; "
                                 "run the same command with --resume to go on")



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

    # seconds of work between saved states; 0 saves one after every frame (the tests do)
    STATE_EVERY = float(os.environ.get("DREAMVIDEO_CHECKPOINT_SECONDS", "1.0"))
    SEGMENT_SECONDS = 2.0  # of video, at least, between states of a segmented output
    SAVERS = 4  # threads compressing frames (zlib releases the GIL)

    def __init__(self, work: WorkFolder, output: Path, fresh: bool, keep_frames: bool = False,
                 clock: Callable[[str, float], None] | None = None, **writer: Any) -> None:
        self.work, self.output, self.fresh, self._writer_args = work, output, fresh, writer
        self.keep_frames = keep_frames
        # re-timing (--fps) drops and repeats frames over the whole stream: not per segment
        retimed = writer.get("out_fps") not in (None, writer.get("fps"))
        self.segmented = output.suffix.lower() in SEGMENTED and not retimed
        self._clock = clock or (lambda stage, seconds: None)
        self._last_state = -float("inf")
        per_segment = self.SEGMENT_SECONDS * float(writer.get("fps") or 0) if self.STATE_EVERY > 0 else 0
        self._min_frames = max(1, round(per_segment)) if self.segmented else 1
        self._frames = self._min_frames  # since the last state: the first one is due at once

    def due(self, frames: int = 1) -> bool:
        """Whether the state that goes with the next submitted frame should be saved;
        ``frames``: how many frames were made since the last call."""
        self._frames += frames
        now = time.monotonic()
        if now - self._last_state < self.STATE_EVERY or self._frames < self._min_frames:
            return False
        self._last_state, self._frames = now, 0
        return True

    def __enter__(self) -> Recorder:
        from dreamvideo.threads import Behind
        from dreamvideo.writers import open_writer

        self._segment_cm = self._segment = None
        if self.segmented:
            self.work.drop_segments_from(self.work.load_state()[0] if self.work.has_state() else 0)
        self._encoder_cm = open_writer(self.output, **self._writer_args) \
            if self.fresh and not self.segmented else None
        self._encoder = self._encoder_cm.__enter__() if self._encoder_cm else None
        self._pool = concurrent.futures.ThreadPoolExecutor(self.SAVERS, thread_name_prefix="dreamvideo-save")
        self._saving: collections.deque[concurrent.futures.Future] = collections.deque()
        self._saver = Behind(self._keep, depth=16)  # room for a slow state save without stalling
        return self

    def _keep(self, item: tuple) -> None:
        index, frame, state = item
        if frame is not None and not isinstance(frame, np.ndarray):  # a device tensor: fetched here,
            from dreamvideo.backends import load_keras  # so the dream of the next frame goes on meanwhile

            frame = np.asarray(load_keras().ops.convert_to_numpy(frame))
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
                from dreamvideo.writers import CONTAINERS, open_writer

                # Matroska segments join cleanly however short (MP4 edit lists do not)
                args = {k: v for k, v in self._writer_args.items() if k not in ("audio", "comment")}
                args["codec"] = args.get("codec") or CONTAINERS[self.output.suffix.lower()][0][0]
                self._segment_cm = open_writer(self.work.segment_path(index, ".mkv"), **args)
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

    def __exit__(self, *exc: Any) -> None:
        try:
            try:
                self._saver.close()  # every submitted frame kept, or the error that stopped it
                self._drain(0)
                if exc[0] is None:
                    self._close_segment(None)
            finally:
                self._pool.shutdown(wait=True)
                self._close_segment(sys.exc_info() if sys.exc_info()[0] else exc)  # a segment cut short
        except BaseException:
            if self._encoder_cm:
                self._encoder_cm.__exit__(*sys.exc_info())  # abort: nothing at the output
            if exc[0] is None:
                raise
            return  # the exception that left the with-block is the one to report
        if self._encoder_cm:
            self._encoder_cm.__exit__(*exc)

    def finish(self, count: int) -> None:
        """Join the segments (or encode a resumed render from its frames) into the output;
        then the work folder goes, unless its frames are to be kept."""
        if self.segmented:
            from dreamvideo.writers import join_segments

            join_segments(self.work.segments(), self.output, count, **self._writer_args)
        elif not self.fresh:
            from dreamvideo.writers import open_writer

            with open_writer(self.output, **self._writer_args) as out:
                for frame in self.work.frames(count):
                    out.write(frame)
        if not self.keep_frames:
            self.work.remove()


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
