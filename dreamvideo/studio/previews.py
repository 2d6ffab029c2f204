"""Previews: a still dreamed at the preview size, each octave's picture sent to the page as
it is done (Server-Sent Events). One preview runs at a time; a newer request from the same
page cancels the older one between two steps of an octave, so the latest settings win at
once and nothing stale waits in a queue. (Tests: tests/studio/test_app.py,
tests/studio/test_previews.py.)"""

from __future__ import annotations

import base64
import dataclasses
import io
import itertools
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from dreamvideo.config import Pipeline, resolved
from dreamvideo.core.device import to_host
from dreamvideo.media.images import fit_max_size, read_still
from dreamvideo.render.gallery import contact_sheet, label_cell
from dreamvideo.render.stills import dream_array
from dreamvideo.studio.engines import Engines
from dreamvideo.studio.failures import failure

HISTORY = 20  # previews kept for the page's history strip
SHOWN = 480  # the longer side of a picture the page shows that is not a dream's own (an input, a frame)
STEPS_AT_ONCE = 3  # an octave's steps run between two looks at whether a newer preview came
Cells = list[tuple[tuple[str, ...], Pipeline]]  # a grid: each cell's label (a line per axis) and settings


class Cancelled(Exception):
    """A newer preview from the same page took this one's place."""


def png_bytes(rgb: np.ndarray) -> bytes:
    """An RGB uint8 picture as PNG (fast, lossless)."""
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def png_data(rgb: np.ndarray) -> str:
    """An RGB uint8 picture as a ``data:`` URL the page can show at once."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(rgb)).decode()


@dataclass
class Preview:
    """One preview: its settings (a grid's cells) and the events the page streams."""

    id: int
    page: str
    pipeline: Pipeline
    cells: Cells | None = None
    columns: int = 1
    events: queue.Queue = field(default_factory=queue.Queue)


class Previews:
    """Runs previews one after another in a thread of its own, the latest of each page only."""

    def __init__(self, engines: Engines) -> None:
        self.engines = engines
        self._ids = itertools.count(1)
        self._latest: dict[str, int] = {}  # page → its newest preview
        self._jobs: dict[int, Preview] = {}
        self._todo: queue.Queue[Preview] = queue.Queue()
        self._lock = threading.Lock()
        threading.Thread(target=self._work, name="dreamvideo-studio-preview", daemon=True).start()

    def start(self, page: str, pipeline: Pipeline, cells: Cells | None = None, columns: int = 1) -> Preview:
        """Queue a preview of ``pipeline`` for ``page`` (or a grid of ``cells``, row by row
        in ``columns``); its older ones are cancelled."""
        with self._lock:
            preview = Preview(next(self._ids), page, pipeline, cells, columns)
            self._latest[page] = preview.id
            self._jobs[preview.id] = preview
            for old in [i for i in self._jobs if i < preview.id - 4 * HISTORY]:
                del self._jobs[old]
        self._todo.put(preview)
        return preview

    def get(self, preview_id: int) -> Preview | None:
        return self._jobs.get(preview_id)

    def _current(self, preview: Preview) -> bool:
        return self._latest.get(preview.page) == preview.id

    def _work(self) -> None:
        while True:
            preview = self._todo.get()
            if not self._current(preview):
                self._finish(preview, "cancelled", None)
                continue
            try:
                self._run(preview)
            except Cancelled:
                self._finish(preview, "cancelled", None)
            except Exception as e:  # a bad setting, out of memory: one line, and the server keeps serving
                self._finish(preview, "error", failure(e, "the workspace"))

    def _run(self, preview: Preview) -> None:
        if preview.cells is None:
            self._finish(preview, "done", png_data(self._dream(preview, preview.pipeline, streamed=True)))
            return
        cells = []
        for index, (lines, pipeline) in enumerate(preview.cells):
            cells.append(labelled(self._dream(preview, pipeline, streamed=False), lines))
            preview.events.put({"event": "cell", "index": index, "cells": len(preview.cells),
                                "label": ", ".join(lines), "image": png_data(cells[-1])})
        self._finish(preview, "done", png_data(contact_sheet(cells, preview.columns)))

    def _dream(self, preview: Preview, pipeline: Pipeline, streamed: bool) -> np.ndarray:
        """One dream of the preview (``streamed``: each octave's picture sent as it is done);
        a newer preview of the page stops it between two steps."""
        pipeline = resolved(pipeline)
        engine = self.engines.get(pipeline.model)
        if pipeline.dream.seed is not None:
            engine.repeatable()
        still = fit_max_size(read_still(pipeline.source.input), pipeline.source.max_size)

        def go_on() -> None:
            if not self._current(preview):
                raise Cancelled

        def octave_image(index: int, octaves: int, rgb: np.ndarray) -> None:
            go_on()
            if streamed:
                preview.events.put({"event": "octave", "index": index, "octaves": octaves,
                                    "image": png_data(rgb)})

        return dream_array(still.rgb, Stoppable(engine, go_on), pipeline.dream, octave_image=octave_image,
                           warn=False)

    def _finish(self, preview: Preview, state: str, payload: str | None) -> None:
        """The last event of a preview: ``done`` with its picture, ``error`` with its line,
        or ``cancelled``."""
        event: dict[str, Any] = {"event": state}
        event.update({"image": payload} if state == "done" else {"message": payload} if payload else {})
        preview.events.put(event)


def labelled(rgb: np.ndarray, lines: tuple[str, ...]) -> np.ndarray:
    """A grid cell: its dream over one strip per line of its label (its X value, its Y value)."""
    for line in lines:
        rgb = label_cell(rgb, line)
    return rgb


class Stoppable:
    """An engine whose dreamers run each octave ``STEPS_AT_ONCE`` steps at a time, calling
    ``go_on`` (which raises to stop) between them; the same steps, so the same pixels."""

    def __init__(self, engine: Any, go_on: Callable[[], None]) -> None:
        self._engine, self._go_on = engine, go_on

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)

    def prepare(self, *args: Any, **kwargs: Any) -> tuple[Any, dict[str, float]]:
        dreamer, layers = self._engine.prepare(*args, **kwargs)
        return _Steps(dreamer, self._go_on), layers


class _Steps:
    """A dreamer (see :class:`Stoppable`) whose octave is its steps in short runs."""

    def __init__(self, dreamer: Any, go_on: Callable[[], None]) -> None:
        self._dreamer, self._go_on = dreamer, go_on

    def __getattr__(self, name: str) -> Any:
        return getattr(self._dreamer, name)

    def octave(self, image: Any, weights: Any, plan: Any, step: Any, max_loss: float) -> tuple[Any, Any, int]:
        """The core's octave (image, losses of the steps taken, steps taken), run after run."""
        losses: list[np.ndarray] = []
        for start in range(0, len(plan.shifts), STEPS_AT_ONCE):
            self._go_on()
            run = dataclasses.replace(plan, shifts=plan.shifts[start:start + STEPS_AT_ONCE])
            image, run_losses, taken = self._dreamer.octave(image, weights, run, step, max_loss)
            losses.append(to_host(run_losses)[:int(taken)])  # waits for the run, so each look is current
            if losses[-1].size and losses[-1][-1] > max_loss:  # the core stops there: so does this
                break
        taken_losses = np.concatenate(losses) if losses else np.zeros((0,), np.float32)
        return image, taken_losses, len(taken_losses)
