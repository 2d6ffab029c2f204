"""Render jobs: a still, a video or a zoom rendered in full through the same code as the
command line (``api.render``: configuration inside the output, atomic writes, resume), one
at a time, later ones queued. Each job's state is a JSON file in the workspace, so a
reload finds it and a restart lists an unfinished one as interrupted, to resume. A job that
fails (out of memory, a full disk) says what to do in one line and leaves nothing behind.
(Tests: tests/studio/test_app.py, tests/studio/test_page.py.)"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import queue
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dreamvideo.api.presets import render
from dreamvideo.core.device import to_host
from dreamvideo.errors import DreamvideoError, RenderInterrupted
from dreamvideo.media.images import Still, fit_max_size
from dreamvideo.render.loop import Run
from dreamvideo.studio.controls import pipeline_of
from dreamvideo.studio.engines import Engines
from dreamvideo.studio.failures import failure
from dreamvideo.studio.previews import SHOWN, png_bytes

COMMANDS = {"still": ".png", "video": ".mp4", "zoom": ".mp4"}  # what the page renders, into what
LATEST_EVERY = 1.0  # seconds between the frames a running render shows

log = logging.getLogger("dreamvideo")


@dataclass
class Job:
    """One render: what it makes, how far it is, and how it ended."""

    id: str
    command: str
    settings: dict[str, str]
    source: str | None  # the input's path in the workspace (none: a zoom from noise)
    output: str  # the output's file name in the workspace's outputs
    state: str = "queued"  # queued, running, done, failed, interrupted
    done: int = 0
    total: int | None = None
    error: str | None = None
    started: float | None = None
    finished: float | None = None
    resume: bool = False
    shown: int = 0  # how many times the latest frame was taken (the page asks again when it grows)
    stop: bool = field(default=False, repr=False)
    latest: bytes | None = field(default=None, repr=False)  # the latest frame made, as PNG

    def public(self) -> dict[str, Any]:
        """What the page and the job's file hold (not the stop flag)."""
        values = dataclasses.asdict(self)
        values.pop("stop")
        values.pop("latest")
        if self.started and self.done and self.total and self.state == "running":
            rate = (time.time() - self.started) / self.done
            values["eta"] = round(rate * (self.total - self.done), 1)
        return values


class Jobs:
    """The render queue of one workspace: one job at a time, in a thread of its own."""

    def __init__(self, workspace: Path, engines: Engines) -> None:
        self.folder, self.outputs = workspace / "jobs", workspace / "outputs"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.outputs.mkdir(exist_ok=True)
        self.engines = engines
        self.jobs: dict[str, Job] = {}
        names = {f.name for f in dataclasses.fields(Job)}
        for path in sorted(self.folder.glob("*.json")):  # what an earlier server left
            saved = json.loads(path.read_text(encoding="utf-8"))
            job = Job(**{k: v for k, v in saved.items() if k in names})
            if job.state in ("queued", "running"):
                job.state = "interrupted"
                self._save(job)
            self.jobs[job.id] = job
        self._todo: queue.Queue[Job] = queue.Queue()
        threading.Thread(target=self._work, name="dreamvideo-studio-render", daemon=True).start()

    def submit(self, command: str, settings: dict[str, str], source: str | None) -> Job:
        """Queue a render; a bad setting raises its one line before anything is queued."""
        if command not in COMMANDS:
            raise DreamvideoError(f"command must be one of {', '.join(COMMANDS)}, got {command!r}")
        job_id = uuid.uuid4().hex[:12]
        job = Job(job_id, command, dict(settings), source, f"{job_id}-{command}{COMMANDS[command]}")
        self._pipeline(job)
        self.jobs[job.id] = job
        self._save(job)
        self._todo.put(job)
        return job

    def resume(self, job_id: str) -> Job:
        job = self.jobs[job_id]
        if job.state != "interrupted":
            raise DreamvideoError(f"job {job_id} is {job.state}; only an interrupted job resumes")
        job.state, job.resume, job.stop, job.error = "queued", True, False, None
        self._save(job)
        self._todo.put(job)
        return job

    def cancel(self, job_id: str) -> Job:
        job = self.jobs[job_id]
        job.stop = True
        return job

    def _pipeline(self, job: Job) -> Any:
        values = {**job.settings, "output.path": str(self.outputs / job.output)}
        if job.source:
            values["source.input"] = job.source
        pipeline = pipeline_of(values)
        return dataclasses.replace(pipeline, command=job.command)

    def _work(self) -> None:
        while True:
            job = self._todo.get()
            if job.stop:
                self._end(job, "interrupted", None)
                continue
            try:
                self._run(job)
            except (RenderInterrupted, KeyboardInterrupt):  # cancelled: its state is kept
                self._end(job, "interrupted", None)
            except Exception as e:  # a bad setting, out of memory, a full disk: it fails, the queue goes on
                self._discard(job)
                self._end(job, "failed", failure(e, self.outputs))

    def _run(self, job: Job) -> None:
        pipeline = self._pipeline(job)
        engine = self.engines.get(pipeline.model)
        job.state, job.started = "running", time.time()
        self._save(job)

        def progress(done: int, total: int | None) -> None:
            job.done, job.total = done, total
            if job.stop:
                raise KeyboardInterrupt  # the loop saves its state and stops: resumable
            self._save(job, every=1.0)

        render(pipeline, Run(engine=engine, resume=job.resume, progress=progress, frames=self._latest(job)))
        self._end(job, "done", None)

    @staticmethod
    def _latest(job: Job) -> Callable[[int, Any], None]:
        """Keep the frame being made, about once a second, for the page to show."""
        taken = [0.0]

        def frame(index: int, pixels: Any) -> None:
            if time.monotonic() - taken[0] >= LATEST_EVERY:
                taken[0] = time.monotonic()
                job.latest = png_bytes(fit_max_size(Still(to_host(pixels)), SHOWN).rgb)
                job.shown += 1

        return frame

    def _end(self, job: Job, state: str, error: str | None) -> None:
        job.state, job.error, job.finished = state, error, time.time()
        self._save(job)

    def _discard(self, job: Job) -> None:
        """Whatever a failed job left in the outputs (its output's temporary file, its work
        folder of frames): a failed job does not resume, and a full disk wants the space."""
        for path in [*self.outputs.glob(f"{job.id}-*"), *self.outputs.glob(f".{job.id}-*")]:
            with contextlib.suppress(OSError):
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink()

    def _save(self, job: Job, every: float = 0.0) -> None:
        """The job's file, written whole (at most every ``every`` seconds while it runs)."""
        now = time.monotonic()
        if every and now - getattr(job, "_saved", 0.0) < every:
            return
        job._saved = now  # type: ignore[attr-defined]
        path = self.folder / f"{job.id}.json"
        tmp = path.with_name(f".{path.name}.tmp")
        try:
            tmp.write_text(json.dumps(job.public()), encoding="utf-8")
            os.replace(tmp, path)
        except OSError as e:  # a full disk: the list in memory still says it; the queue goes on
            with contextlib.suppress(OSError):
                tmp.unlink()
            log.warning("cannot save job %s: %s", job.id, e.strerror or e)
