"""Safe output paths: checked before any work starts, written to a temporary name in
the same folder and renamed only when complete, so a failed run leaves nothing."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from dreamvideo.errors import DreamvideoError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp")
FRAME_NAME = re.compile(r"\d{6}\.png|dreamvideo\.toml")  # what a PNG-folder output holds


def _same_file(a: Path, b: Path) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_output(path: str | os.PathLike[str], *, inputs: Iterable[str | os.PathLike[str]] = (),
                 force: bool = False, extensions: tuple[str, ...] = IMAGE_EXTENSIONS,
                 folder_ok: bool = False) -> Path:
    """Refuse an output that would fail or destroy something, before minutes of work.

    With ``folder_ok`` a path without extension names a folder of frames to create.
    """
    out = Path(path)
    folder = folder_ok and not out.suffix
    if out.suffix.lower() not in extensions and not folder:
        what = f"extension {out.suffix!r}" if out.suffix else "no extension"
        also = " or a folder name without extension" if folder_ok else ""
        raise DreamvideoError(f"cannot write {out}: {what}; use one of {', '.join(extensions)}{also}")
    for source in inputs:
        if _same_file(out, Path(source)):
            raise DreamvideoError(f"output {out} is the input file; choose another output path")
    if out.is_dir() and not folder:
        raise DreamvideoError(f"output {out} is a directory; give a file name")
    if out.exists() and not force:
        raise DreamvideoError(f"output {out} already exists; pass --force to replace it")
    if folder and out.exists():
        strangers = [p.name for p in out.iterdir() if not FRAME_NAME.fullmatch(p.name)] \
            if out.is_dir() else [out.name]
        if strangers:  # --force replaces frames we wrote, never someone's folder
            raise DreamvideoError(f"output {out} holds other files ({', '.join(strangers[:3])}); "
                                  "choose a new or empty folder")
    parent = out.parent
    if not parent.is_dir():
        raise DreamvideoError(f"output folder {parent} does not exist")
    try:  # the real test: permissions, read-only mounts, and root all answer truthfully
        with tempfile.TemporaryFile(dir=parent, prefix=".dreamvideo-probe-"):
            pass
    except OSError as e:
        raise DreamvideoError(f"cannot write to folder {parent}: {e.strerror or e}") from None
    return out


def _final_mode(out: Path) -> int:
    """The replaced file's mode, or what a plain ``open(..., "w")`` would have made."""
    try:
        return out.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it over ``path`` on success only."""
    out = Path(path)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.stem}.", suffix=f".partial{out.suffix}")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, _final_mode(out))  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
