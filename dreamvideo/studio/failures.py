"""Why a render or a preview failed, in one line that says what to do: out of memory (any
backend's kind), a full disk, or the error's own first line. (Tests: tests/studio/test_app.py.)"""

from __future__ import annotations

import errno

from dreamvideo.errors import DreamvideoError, out_of_memory

OUT_OF_MEMORY = ("out of memory: lower source.max_size (--max-size) or dream.tile_size (--tile-size), "
                 "then try again")
DISK_FULL = "the disk is full (writing {where}): free some space there, then try again"


def disk_full(error: BaseException) -> bool:
    """ENOSPC or a quota, raised here or reported by a program that wrote (ffmpeg)."""
    return ((isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT))
            or "No space left on device" in str(error))


def failure(error: BaseException, where: object) -> str:
    """One line for ``error``; ``where``: the folder a full disk was being written in."""
    if out_of_memory(error):
        return OUT_OF_MEMORY
    if disk_full(error):
        return DISK_FULL.format(where=where)
    text = (str(error).strip().splitlines() or [""])[0][:300]
    if isinstance(error, DreamvideoError):
        return text
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
