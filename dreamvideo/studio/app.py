"""The studio's web app: the page, and the JSON endpoints under ``/api`` it (or a script)
drives, in small routers with typed requests. Loopback needs no token; any other host
does (``?token=`` or ``Authorization: token ...``). Requests that change state must come
from the studio's own page (same origin); files are read and written in the workspace only.
(Tests: tests/studio/test_app.py, tests/studio/test_page.py.)"""

from __future__ import annotations

import asyncio
import json
import secrets
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel

from dreamvideo import __version__
from dreamvideo.api.presets import PRESET_DIR, list_presets, load_preset
from dreamvideo.config import ModelConfig, Pipeline, description_of, pipeline_from_toml, to_toml
from dreamvideo.errors import DreamvideoError
from dreamvideo.studio.controls import controls, pipeline_of
from dreamvideo.studio.engines import Engines
from dreamvideo.studio.jobs import COMMANDS, Jobs
from dreamvideo.studio.previews import Previews
from dreamvideo.studio.sources import adopt, sources
from dreamvideo.studio.workspace import Studio, one_line

STATIC = Path(__file__).with_name("static")
UPLOAD_LIMIT = 2 * 2**30  # bytes; `dreamvideo studio --max-upload`
ENDED = ("done", "error", "cancelled")


class PreviewRequest(BaseModel):
    page: str  # one id per open page: its newer previews cancel its older ones
    source: str  # an upload's id
    settings: dict[str, str] = {}  # control name → text, as the flags take it


class Axis(BaseModel):
    name: str  # a control, e.g. dream.step_size
    values: list[str]  # its values, as the control takes them


class GridRequest(PreviewRequest):
    x: Axis
    y: Axis | None = None


class RenderRequest(BaseModel):
    command: str  # still, video or zoom
    source: str | None = None  # an upload's id (a video's own id to render the video)
    settings: dict[str, str] = {}


class ExportRequest(BaseModel):
    source: str | None = None
    settings: dict[str, str] = {}


def create_app(workspace: Path, token: str | None = None, max_upload: int = UPLOAD_LIMIT,
               command_line: Callable[[Pipeline], str] | None = None, source: str | None = None) -> FastAPI:
    """The studio app over ``workspace`` (uploads, the workspace's own presets). ``token``:
    required of every ``/api`` request when set. ``command_line(pipeline)``: the CLI's
    command that renders a pipeline (the CLI owns the flags). ``source``: a file the page
    starts with (``dreamvideo studio INPUT``)."""
    (workspace / "uploads").mkdir(parents=True, exist_ok=True)
    engines = Engines()
    studio = Studio(workspace, engines, Previews(engines), Jobs(workspace, engines), max_upload, command_line)
    app = FastAPI(title="dreamvideo studio", version=__version__,
                  on_startup=[lambda: engines.warm(ModelConfig())])  # the page says "loading" meanwhile
    app.state.studio = studio
    if source is not None:  # a copy in the uploads, as if it had been chosen on the page
        copy = workspace / "uploads" / f".start-{uuid.uuid4().hex}{Path(source).suffix.lower()}"
        shutil.copyfile(source, copy)
        try:
            studio.start = adopt(studio, copy, Path(source).name)
        except HTTPException as e:
            raise DreamvideoError(e.detail) from None
        finally:
            copy.unlink(missing_ok=True)
    _guard(app, token)
    for router in (_page(), _settings(studio), sources(studio), _previews(studio), _renders(studio)):
        app.include_router(router)
    return app


def _guard(app: FastAPI, token: str | None) -> None:
    """The token (off loopback) on every ``/api`` request, and same-origin writes."""

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Any:
        if request.url.path.startswith("/api") and token is not None:
            header = request.headers.get("authorization", "").removeprefix("token ").strip()
            if not secrets.compare_digest(request.query_params.get("token") or header, token):
                return JSONResponse({"detail": "a token is needed: open the address the studio printed"}, 401)
        origin = request.headers.get("origin")
        own = f"{request.url.scheme}://{request.url.netloc}"
        writes = request.method not in ("GET", "HEAD", "OPTIONS")
        if writes and origin is not None and origin.rstrip("/") != own:
            return JSONResponse({"detail": "requests from other sites are refused"}, 403)
        return await call_next(request)


def _page() -> APIRouter:
    router = APIRouter()

    @router.get("/")
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @router.get("/favicon.ico")
    def icon() -> Response:
        return Response(status_code=204)  # none: the browser asks anyway

    @router.get("/static/{name}")
    def static(name: str) -> FileResponse:
        files = {p.name: p for p in STATIC.iterdir()}  # the page's own files, by name only
        if name not in files:
            raise HTTPException(404, "not found")
        return FileResponse(files[name])

    return router


def _settings(studio: Studio) -> APIRouter:
    router = APIRouter(prefix="/api")

    @router.get("/status")
    def status() -> dict[str, Any]:
        engines = studio.engines
        return {"version": __version__, "ready": engines.ready, "loading": engines.loading,
                "error": engines.error, "source": studio.start}

    @router.get("/controls")
    def control_list(command: str = "still") -> list[dict[str, Any]]:
        """The controls of a still preview, or of a video or zoom render (``?command=``)."""
        if command not in COMMANDS:
            raise HTTPException(400, f"command must be one of {', '.join(COMMANDS)}, got {command!r}")
        return controls(command=command)

    @router.get("/presets")
    def presets() -> list[dict[str, str]]:
        own = [{"name": p.stem, "description": description_of(p.read_text(encoding="utf-8")),
                "where": "workspace"} for p in sorted(studio.workspace.glob("*.toml"))]
        return [{"name": n, "description": d, "where": "bundled"} for n, d in list_presets()] + own

    @router.get("/presets/{name}")
    def preset(name: str) -> dict[str, Any]:
        files = {p.stem: p for p in [*PRESET_DIR.glob("*.toml"), *studio.workspace.glob("*.toml")]}
        if name not in files:
            raise HTTPException(404, f"no preset {name!r}")
        try:
            pipeline = load_preset(files[name])
        except DreamvideoError as e:
            raise one_line(e) from None
        return {"command": pipeline.command, "controls": controls(pipeline)}

    @router.post("/export")
    def export(request: ExportRequest) -> dict[str, str]:
        settings = dict(request.settings)
        if request.source:
            settings["source.input"] = str(studio.source_path(request.source))
        try:
            pipeline = pipeline_of(settings)
        except (DreamvideoError, ValueError) as e:
            raise one_line(e) from None
        text = to_toml(pipeline, only_used=True,
                       header="# Made in the dreamvideo studio: dreamvideo run THIS_FILE -o OUTPUT.png")
        pipeline_from_toml(text)  # what it exports reads back
        return {"toml": text, "command": studio.command_line(pipeline) if studio.command_line else ""}

    return router


def _label(x_name: str, x: str, y_name: str | None, y: str | None) -> tuple[str, ...]:
    """A grid cell's label, a line per axis: its own values, without the section names."""
    short = f"{x_name.split('.')[-1]}={x}"
    return (short,) if y_name is None else (short, f"{y_name.split('.')[-1]}={y}")


def _previews(studio: Studio) -> APIRouter:
    router = APIRouter(prefix="/api")

    @router.post("/preview")
    def preview(request: PreviewRequest) -> dict[str, Any]:
        path = studio.source_path(request.source)
        try:
            pipeline = pipeline_of({**request.settings, "source.input": str(path)})
        except (DreamvideoError, ValueError) as e:
            raise one_line(e) from None
        return {"id": studio.previews.start(request.page, pipeline).id}

    @router.post("/grid")
    def grid(request: GridRequest) -> dict[str, Any]:
        """One sheet: a cell per value of ``x`` (times each of ``y``), A1111's X/Y plot, each
        cell labelled with its own values; its cells stream as they are done, then the sheet."""
        path = studio.source_path(request.source)
        base = {**request.settings, "source.input": str(path)}
        ys = [(None, None)] if request.y is None else [(request.y.name, v) for v in request.y.values]
        if not 1 <= len(request.x.values) * len(ys) <= 64 or (request.y is not None and not request.y.values):
            raise HTTPException(400, "a grid takes 1 to 64 cells: give the X (and Y) values, one per line")
        try:
            cells = [(_label(request.x.name, x, y_name, y),
                      pipeline_of({**base, request.x.name: x, **({y_name: y} if y_name else {})}))
                     for y_name, y in ys for x in request.x.values]
        except (DreamvideoError, ValueError) as e:
            raise one_line(e) from None
        job = studio.previews.start(request.page, cells[0][1], cells, columns=len(request.x.values))
        return {"id": job.id}

    @router.get("/preview/{preview_id}/events")
    async def events(preview_id: int) -> StreamingResponse:
        """Server-Sent Events: ``octave`` with each octave's picture, then ``done`` (or
        ``error``, ``cancelled``)."""
        job = studio.previews.get(preview_id)
        if job is None:
            raise HTTPException(404, f"no preview {preview_id}")

        async def stream() -> Any:
            while True:
                event = await asyncio.to_thread(job.events.get)
                yield f"event: {event['event']}\ndata: {json.dumps(event)}\n\n"
                if event["event"] in ENDED:
                    return

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store"})

    return router


def _renders(studio: Studio) -> APIRouter:
    router = APIRouter(prefix="/api")

    @router.post("/render")
    def start(request: RenderRequest) -> dict[str, Any]:
        """A full render in the background, queued behind any other."""
        source = str(studio.source_path(request.source)) if request.source else None
        try:
            return studio.jobs.submit(request.command, request.settings, source).public()
        except (DreamvideoError, ValueError) as e:
            raise one_line(e) from None

    @router.get("/jobs")
    def jobs() -> list[dict[str, Any]]:
        return [job.public() for job in sorted(studio.jobs.jobs.values(), key=lambda j: j.id)]

    @router.post("/jobs/{job_id}/{action}")
    def act(job_id: str, action: str) -> dict[str, Any]:
        """``cancel`` (it stops at its next frame, resumable) or ``resume``."""
        if job_id not in studio.jobs.jobs or action not in ("cancel", "resume"):
            raise HTTPException(404, f"no job {job_id!r} to {action}")
        try:
            return getattr(studio.jobs, action)(job_id).public()
        except DreamvideoError as e:
            raise one_line(e) from None

    @router.get("/jobs/{job_id}/latest")
    def latest(job_id: str) -> Response:
        """The latest frame a render made (taken about once a second), as PNG."""
        job = studio.jobs.jobs.get(job_id)
        if job is None or job.latest is None:
            raise HTTPException(404, f"no frame of job {job_id!r} yet")
        return Response(job.latest, media_type="image/png", headers={"Cache-Control": "no-store"})

    @router.get("/files/{name}")
    def file(name: str) -> FileResponse:
        """A finished output, from the workspace's outputs only."""
        return FileResponse(studio.output_path(name))

    return router
