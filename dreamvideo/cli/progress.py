"""What the user sees while a render runs: a progress bar on stderr, and its last line."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from dreamvideo.render.loop import Progress
from dreamvideo.temporal.carry import full_dreams_text


class StatusLine(logging.Handler):
    """What a long start is busy with ("loading squeezenet (...)…"), on one line of the
    terminal that the progress bar or an error then takes over: errors stay one line. Not
    shown where stderr is no terminal (a log file keeps only what lasts)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(logging.INFO)
        self.stream, self.shown = stream, False

    def emit(self, record: logging.LogRecord) -> None:
        stream = self.stream or sys.stderr
        if stream.isatty():
            stream.write(f"\r\033[Kdreamvideo: {record.getMessage()}")
            stream.flush()
            self.shown = True

    def clear(self) -> None:
        """Give the line back (to the bar, an error or the final line)."""
        if self.shown:
            stream = self.stream or sys.stderr
            stream.write("\r\033[K")
            stream.flush()
            self.shown = False


STATUS = StatusLine()


@contextlib.contextmanager
def progress_bar(desc: str, unit: str, quiet: bool) -> Iterator[Progress | None]:
    """A tqdm bar driven by (done, planned); none with ``quiet``. It appears with the first
    progress, so a render that fails its checks prints only its error; it goes when done."""
    if quiet:
        yield None
        return
    from tqdm import tqdm

    bars: list[tqdm] = []

    def update(done: int, planned: int | None) -> None:
        if not bars:
            STATUS.clear()
            bars.append(tqdm(desc=desc, unit=unit, leave=False, dynamic_ncols=True))
        bars[0].total = planned
        bars[0].update(done - bars[0].n)

    def note(text: str) -> None:  # a word beside the bar, e.g. "shots 3/10" of a spread render
        if bars:
            bars[0].set_postfix_str(text, refresh=False)

    update.note = note  # type: ignore[attr-defined]
    try:
        yield update
    finally:
        for bar in bars:
            bar.close()


def summary(made: Any) -> str:
    """The ``wrote …`` line: frames, restored ones, time per frame, cuts or dream calls."""
    if isinstance(made, Path):
        return f"wrote {made}"
    zoom = hasattr(made, "dream_calls")
    written = made.frames if made.written is None else made.written
    line = f"wrote {made.output}: {written} frames"
    if written != made.frames:
        line += f" (re-timed from {made.frames})"
    if made.restored:
        line += f" ({made.restored} restored, {made.dreamed} {'made' if zoom else 'dreamed'} in this run)"
    if zoom:
        return line + f", {made.dream_calls} dreamed, {made.seconds_per_frame:.2f} s/frame"
    line += f", {made.seconds_per_frame:.2f} s/frame"
    if made.full_dreams:
        line += f", {full_dreams_text(made.full_dreams)}"
    elif made.scene_cuts:
        line += f", {made.scene_cuts} scene cuts"
    if getattr(made, "workers", 0):
        line += f", {made.workers} worker{'s' * (made.workers > 1)}"
        line += f" {made.busy:.0%} busy" if made.busy is not None else ""
    return line

