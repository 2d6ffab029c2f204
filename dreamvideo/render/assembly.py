"""The output of a spread render (a :class:`Spread`): the pieces' frames in order, written once.

Each piece's own frames, its warm frames cross-faded with the end of the piece before,
colour coherence (an output-side step in video) applied in order, the audio muxed once.
Written beside the workers: a frame not made yet is waited for.

(Tests: tests/render/test_scaled.py.)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from dreamvideo.config import Pipeline
from dreamvideo.core.device import to_host
from dreamvideo.errors import DreamvideoError
from dreamvideo.media.recorder import Recorder, segment_encoding
from dreamvideo.media.workfolder import WorkFolder
from dreamvideo.media.writers import Encoding, frame_file, is_stream, join_segments, open_writer
from dreamvideo.render.chain import Colours, Footage, read
from dreamvideo.temporal.shots import Piece, blend_weight

Waiting = Callable[[], None] | None  # called while a frame is not there yet; raises to give up


@dataclass
class Spread:
    """A spread render under way: its pieces, where the workers keep their frames, the
    output's work folder and what the output is written with."""

    pipeline: Pipeline
    footage: Footage
    out: Path
    shots: tuple[tuple[int, int], ...]
    comment: str
    work: WorkFolder
    pieces: list[Piece]
    folder: Path
    restored: int
    sound: Any
    factors: np.ndarray | None

    @property
    def total(self) -> int:
        """The frames of the range rendered: up to the end of the last shot."""
        return self.shots[-1][1] if self.shots else 0


def _read_png(path: Path, waiting: Waiting = None) -> np.ndarray:
    while waiting is not None and not path.is_file():
        waiting()
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise DreamvideoError(f"a finished piece lost its frame {path}; run again with --force")
    return image[..., ::-1]


def assembled(pieces: list[Piece], folder: Path, waiting: Waiting = None) -> Iterator[np.ndarray]:
    """The output's frames in order: each piece's own frames, its warm frames cross-faded
    with the end of the piece before. With ``waiting``, frames not made yet are waited for."""
    held: dict[int, np.ndarray] = {}  # the end of the piece before, waiting for the next one's warm frames
    for number, piece in enumerate(pieces):
        own = folder / piece.name
        for i in range(piece.first, piece.start):
            w = blend_weight(i - piece.first, piece.warm)
            mixed = (1 - w) * held.pop(i).astype(np.float32) + w * _read_png(own / frame_file(i), waiting)
            yield np.clip(mixed, 0, 255).round().astype(np.uint8)
        following = pieces[number + 1].warm if number + 1 < len(pieces) else 0
        for i in range(piece.start, piece.end):
            frame = _read_png(own / frame_file(i), waiting)
            if i >= piece.end - following:
                held[i] = frame
            else:
                yield frame


def write_output(spread: Spread, written: Encoding, waiting: Waiting = None) -> int:
    """The one output of ``spread``: frames in order, colour coherence applied, the audio
    muxed once. An MP4 or WebM output is encoded in the segments a one-process render makes
    (in its work folder), so that its frames decode to that render's exactly."""
    pipeline, out, work = spread.pipeline, spread.out, spread.work
    colours = Colours(pipeline.color)
    inputs = read(Footage.open(pipeline.source)) if colours and colours.per_frame else None
    segmented = is_stream(out) and not written.retimed

    def frames() -> Iterator[np.ndarray]:
        for frame in assembled(spread.pieces, spread.folder, waiting):
            if colours:
                frame = to_host(colours(frame, next(inputs) if inputs is not None else None))
            yield frame

    with contextlib.closing(inputs) if inputs is not None else contextlib.nullcontext():
        if segmented:
            return _write_segments(frames(), work, out, written)
        count = 0
        with open_writer(out, written) as encoder:
            for frame in frames():
                encoder.write(frame)
                count += 1
        return count


def _write_segments(frames: Iterator[np.ndarray], work: WorkFolder, out: Path, written: Encoding) -> int:
    """Encode ``frames`` in segments of ``Recorder.segment_frames`` from frame 0 on, then join them
    with the sound: what a one-process render's recorder does."""
    every, segments = Recorder.segment_frames(written.fps), segment_encoding(out, written)
    work.drop_segments_from(0)
    count = 0
    with contextlib.ExitStack() as segment:
        for frame in frames:
            if count % every == 0:
                segment.close()
                encoder = segment.enter_context(open_writer(work.segment_path(count, ".mkv"), segments))
            encoder.write(frame)
            count += 1
    join_segments(work.segments(), out, count, written)
    return count
