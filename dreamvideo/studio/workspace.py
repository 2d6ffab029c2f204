"""The studio's workspace: where uploads are kept (by their content's hash) and found again,
nothing outside it; and what the routes share (the engines, the previews).
(Tests: tests/studio/test_app.py.)"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import HTTPException

from dreamvideo.config import Pipeline
from dreamvideo.media.images import Still, fit_max_size, write_still
from dreamvideo.studio.engines import Engines
from dreamvideo.studio.jobs import Jobs
from dreamvideo.studio.previews import SHOWN, Previews, png_data


@dataclass
class Studio:
    """What the routes share: the workspace, the warm engines, the previews."""

    workspace: Path
    engines: Engines
    previews: Previews
    jobs: Jobs
    max_upload: int
    command_line: Callable[[Pipeline], str] | None
    start: dict[str, Any] | None = None  # the source the page starts with (`dreamvideo studio INPUT`)

    @property
    def uploads(self) -> Path:
        return self.workspace / "uploads"

    def keep(self, still: Still, name: str) -> dict[str, Any]:
        """A picture to preview, kept in the uploads under its content's hash: its id and how
        the page shows it."""
        kept = f"{hashlib.sha256(still.rgb.tobytes()).hexdigest()[:16]}.png"
        write_still(self.uploads / kept, still)  # what previews read: upright, one frame
        return {"id": kept, "name": name, "width": still.rgb.shape[1], "height": still.rgb.shape[0],
                "image": png_data(fit_max_size(still, SHOWN).rgb)}

    def output_path(self, name: str) -> Path:
        """A finished render's file by name; nothing outside the outputs folder (404)."""
        return _inside(self.workspace / "outputs", name, f"no output {name!r}")

    def source_path(self, source: str) -> Path:
        """An upload by its id; nothing outside the uploads folder (404)."""
        return _inside(self.uploads, source, f"no source {source!r}; choose an image or a video first")


def _inside(folder: Path, name: str, missing: str) -> Path:
    """The file ``name`` directly in ``folder``, links resolved; ``..``, absolute paths and
    links out of it are as missing (404, ``missing``)."""
    path = (folder / name).resolve()
    if path.parent != folder.resolve() or not path.is_file():
        raise HTTPException(404, missing)
    return path


def one_line(error: Exception) -> HTTPException:
    """A user's mistake as the CLI says it: one line, status 400."""
    return HTTPException(400, str(error).splitlines()[0] if str(error) else type(error).__name__)
