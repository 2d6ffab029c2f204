"""Previews: a still dreamed at the preview size, each octave's picture sent to the page as
it is done (Server-Sent Events). One preview runs at a time; a newer request from the same
page cancels the older one between octaves, so the latest settings win and nothing stale
waits in a queue. (Tests: tests/studio/test_app.py.)"""

from __future__ import annotations

import base64
import io
import itertools
import queue
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from dreamvideo.config import Pipeline, resolved
from dreamvideo.errors import DreamvideoError
from dreamvideo.media.images import fit_max_size, read_still
from dreamvideo.render.gallery import contact_sheet, label_cell
from dreamvideo.render.stills import dream_array
from dreamvideo.studio.engines import Engines

HISTORY = 20  # previews kept for the page's history strip
SHOWN = 480  # the longer side of a picture the page shows that is not a dream's own (an input, a frame)


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
    cells: list[tuple[str, Pipeline]] | None = None  # a grid: each cell's label and settings
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

    def start(self, page: str, pipeline: Pipeline, cells: list[tuple[str, Pipeline]] | None = None,
              columns: int = 1) -> Preview:
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
            except DreamvideoError as e:
                self._finish(preview, "error", str(e))
            except Exception as e:  # out of memory and the like: the server keeps serving
                self._finish(preview, "error", f"the preview failed: {type(e).__name__}: {str(e)[:200]}")

    def _run(self, preview: Preview) -> None:
        if preview.cells is None:
            self._finish(preview, "done", png_data(self._dream(preview, preview.pipeline, streamed=True)))
            return
        cells = []
        for index, (label, pipeline) in enumerate(preview.cells):
            cells.append(label_cell(self._dream(preview, pipeline, streamed=False), label))
            preview.events.put({"event": "cell", "index": index, "cells": len(preview.cells),
                                "image": png_data(cells[-1])})
        self._finish(preview, "done", png_data(contact_sheet(cells, preview.columns)))

    def _dream(self, preview: Preview, pipeline: Pipeline, streamed: bool) -> np.ndarray:
        """One dream of the preview (``streamed``: each octave's picture sent as it is done);
        a newer preview of the page stops it between octaves."""
        pipeline = resolved(pipeline)
        engine = self.engines.get(pipeline.model)
        if pipeline.dream.seed is not None:
            engine.repeatable()
        still = fit_max_size(read_still(pipeline.source.input), pipeline.source.max_size)

        def octave_image(index: int, octaves: int, rgb: np.ndarray) -> None:
            if not self._current(preview):
                raise Cancelled
            if streamed:
                preview.events.put({"event": "octave", "index": index, "octaves": octaves,
                                    "image": png_data(rgb)})

        return dream_array(still.rgb, engine, pipeline.dream, octave_image=octave_image, warn=False)

    def _finish(self, preview: Preview, state: str, payload: str | None) -> None:
        """The last event of a preview: ``done`` with its picture, ``error`` with its line,
        or ``cancelled``."""
        event: dict[str, Any] = {"event": state}
        event.update({"image": payload} if state == "done" else {"message": payload} if payload else {})
        preview.events.put(event)

