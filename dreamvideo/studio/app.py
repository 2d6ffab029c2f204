"""The studio's web app: the page, and the JSON endpoints under ``/api`` it (or a script)
drives, in small routers with typed requests. Loopback needs no token; any other host
does (``?token=`` or ``Authorization: token ...``). Requests that change state must come
from the studio's own page (same origin); files are read and written in the workspace only.
(Tests: tests/studio/test_app.py, tests/studio/test_page.py.)"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel

from dreamvideo import __version__
from dreamvideo.api.presets import PRESET_DIR, list_presets, load_preset
from dreamvideo.config import ModelConfig, Pipeline, description_of, pipeline_from_toml, to_toml
from dreamvideo.errors import DreamvideoError
from dreamvideo.media.images import fit_max_size, write_still
from dreamvideo.render.stills import read_input_still
from dreamvideo.studio.controls import controls, pipeline_of
from dreamvideo.studio.engines import Engines
from dreamvideo.studio.previews import Previews, png_data

STATIC = Path(__file__).with_name("static")
UPLOAD_LIMIT = 2 * 2**30  # bytes; `dreamvideo studio --max-upload`
ENDED = ("done", "error", "cancelled")


class PreviewRequest(BaseModel):
    page: str  # one id per open page: its newer previews cancel its older ones
    source: str  # an upload's id
    settings: dict[str, str] = {}  # control name → text, as the flags take it


class ExportRequest(BaseModel):
    source: str | None = None
    settings: dict[str, str] = {}


@dataclass
class Studio:
    """What the routes share: the workspace, the warm engines, the previews."""

    workspace: Path
    engines: Engines
    previews: Previews
    max_upload: int
    command_line: Callable[[Pipeline], str] | None

    @property
    def uploads(self) -> Path:
        return self.workspace / "uploads"

    def source_path(self, source: str) -> Path:
        """An upload by its id; nothing outside the uploads folder (404)."""
        path = (self.uploads / source).resolve()
        if path.parent != self.uploads.resolve() or not path.is_file():
            raise HTTPException(404, f"no source {source!r}; choose an image or a video first")
        return path


def one_line(error: Exception) -> HTTPException:
    """A user's mistake as the CLI says it: one line, status 400."""
    return HTTPException(400, str(error).splitlines()[0] if str(error) else type(error).__name__)


def create_app(workspace: Path, token: str | None = None, max_upload: int = UPLOAD_LIMIT,
               command_line: Callable[[Pipeline], str] | None = None) -> FastAPI:
    """The studio app over ``workspace`` (uploads, the workspace's own presets). ``token``:
    required of every ``/api`` request when set. ``command_line(pipeline)``: the CLI's
    command that renders a pipeline (the CLI owns the flags)."""
    (workspace / "uploads").mkdir(parents=True, exist_ok=True)
    engines = Engines()
    studio = Studio(workspace, engines, Previews(engines), max_upload, command_line)
    app = FastAPI(title="dreamvideo studio", version=__version__,
                  on_startup=[lambda: engines.warm(ModelConfig())])  # the page says "loading" meanwhile
    app.state.studio = studio
    _guard(app, token)
    for router in (_page(), _settings(studio), _sources(studio), _previews(studio)):
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
                "error": engines.error}

    @router.get("/controls")
    def control_list() -> list[dict[str, Any]]:
        return controls()

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


def _sources(studio: Studio) -> APIRouter:
    router = APIRouter(prefix="/api")

    @router.post("/source")
    async def upload(file: UploadFile) -> dict[str, Any]:
        """An image or a video (its first frame), written whole and decoded before use."""
        suffix = Path(file.filename or "upload").suffix.lower()[:8]
        with tempfile.NamedTemporaryFile(dir=studio.uploads, prefix=".upload-", suffix=suffix,
                                         delete=False) as tmp:
            size, digest = 0, hashlib.sha256()
            while chunk := await file.read(2**20):
                size += len(chunk)
                if size > studio.max_upload:
                    break
                digest.update(chunk)
                tmp.write(chunk)
        try:
            if size > studio.max_upload:
                raise HTTPException(413, f"{file.filename} is over the studio's upload limit "
                                         f"({studio.max_upload} bytes)")
            if size == 0:
                raise HTTPException(400, f"{file.filename} is empty")
            try:
                still = read_input_still(tmp.name)
            except DreamvideoError as e:
                raise HTTPException(400, str(e).replace(tmp.name, file.filename or "the file")) from None
        finally:
            os.unlink(tmp.name)
        name = f"{digest.hexdigest()[:16]}.png"
        write_still(studio.uploads / name, still)  # what previews read: upright, its first frame
        return {"id": name, "name": file.filename, "width": still.rgb.shape[1], "height": still.rgb.shape[0],
                "image": png_data(fit_max_size(still, 480).rgb)}

    return router


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
