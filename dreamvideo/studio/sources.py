"""The studio's sources: an image or a video uploaded (written whole, within the size limit,
decoded before use), a video's frame at a time, and the settings a dreamvideo output
carries. (Tests: tests/studio/test_app.py.)"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, UploadFile
from pydantic import BaseModel

from dreamvideo.config import pipeline_from_toml
from dreamvideo.errors import DreamvideoError
from dreamvideo.media.images import Still
from dreamvideo.media.provenance import read_config
from dreamvideo.media.sources import frame_count_kind, probe, read_frames
from dreamvideo.render.stills import read_input_still
from dreamvideo.studio.controls import controls
from dreamvideo.studio.workspace import Studio


class FrameRequest(BaseModel):
    video: str  # an uploaded video's id
    time: float  # seconds into it


async def _receive(studio: Studio, file: UploadFile) -> Path:
    """An upload written whole into the workspace under a temporary name (the caller
    removes it), within the size limit, never empty."""
    suffix = Path(file.filename or "upload").suffix.lower()[:8]
    with tempfile.NamedTemporaryFile(dir=studio.uploads, prefix=".upload-", suffix=suffix,
                                     delete=False) as tmp:
        size = 0
        while chunk := await file.read(2**20):
            size += len(chunk)
            if size > studio.max_upload:
                break
            tmp.write(chunk)
    if size > studio.max_upload or size == 0:
        os.unlink(tmp.name)
        if size:
            raise HTTPException(413, f"{file.filename} is over the studio's upload limit "
                                     f"({studio.max_upload} bytes)")
        raise HTTPException(400, f"{file.filename} is empty")
    return Path(tmp.name)


def adopt(studio: Studio, path: Path, name: str) -> dict[str, Any]:
    """A file in the uploads as a source: its first frame kept to preview, and a video
    itself kept under a name of its own (``path`` is moved there) for its other frames.
    What the page shows of it, or a one-line 400."""
    video = None
    try:
        still = read_input_still(str(path))
        if frame_count_kind(path) == "video":
            info = probe(path)
            video = {"id": f"{uuid.uuid4().hex[:16]}{path.suffix.lower()}", "duration": info.duration,
                     "fps": float(info.fps)}
            path.rename(studio.uploads / video["id"])
    except DreamvideoError as e:
        raise HTTPException(400, str(e).replace(str(path), name)) from None
    return {**studio.keep(still, name), "video": video}


def sources(studio: Studio) -> APIRouter:
    router = APIRouter(prefix="/api")

    @router.post("/source")
    async def upload(file: UploadFile) -> dict[str, Any]:
        """An image, or a video (kept, for :func:`frame`; its first frame shown), written
        whole and decoded before use."""
        path = await _receive(studio, file)
        try:
            return adopt(studio, path, file.filename or "the file")
        finally:
            path.unlink(missing_ok=True)

    @router.post("/frame")
    def frame(request: FrameRequest) -> dict[str, Any]:
        """The frame of an uploaded video at ``time`` seconds, decoded by the project's own
        reader, as a source to preview."""
        video = studio.source_path(request.video)
        frames = read_frames(video, start=max(0.0, request.time))
        try:
            rgb = next(frames, None)
        finally:
            frames.close()
        if rgb is None:
            raise HTTPException(400, f"no frame at {request.time:g} s")
        return {**studio.keep(Still(rgb), f"{request.time:g} s"), "video": None}

    @router.post("/restore")
    async def restore(file: UploadFile) -> dict[str, Any]:
        """The settings a dreamvideo output carries (PNG, JPEG, MP4, WebM), as the controls."""
        path = await _receive(studio, file)
        try:
            pipeline = pipeline_from_toml(read_config(path), file.filename or "the file")
        except DreamvideoError as e:
            raise HTTPException(400, str(e).replace(str(path), file.filename or "the file")) from None
        finally:
            path.unlink()
        return {"command": pipeline.command, "controls": controls(pipeline)}

    return router
