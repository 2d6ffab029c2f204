"""The work folder beside an output: what a render has made, and the state to go on from.

A video or zoom render keeps ``.NAME.dreamvideo-work`` next to its output: its frames
(encoded segments, or PNGs) and, atomically, the state the next frame needs (for video
the previous input and dream, for zoom the last dreamed frame). Killed at any instant,
the folder holds what was made up to the last state and that state; ``--resume`` goes on
from there and makes the same frames an uninterrupted run makes.

(Tests: tests/render/test_resume.py.)
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import imageio.v3 as iio
import numpy as np

from dreamvideo.errors import DreamvideoError, RenderInterrupted
from dreamvideo.media.writers import frame_file


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
        return self.frames_dir / frame_file(index)

    def save_frame(self, index: int, frame: np.ndarray) -> None:
        tmp = self.frames_dir / f".{frame_file(index)}.tmp.png"
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


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
