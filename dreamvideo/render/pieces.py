"""What a Ray worker does with one piece of a spread video (``render.scaled``): the
network loaded once per worker process, the piece's frames dreamed as a render of the
whole video would dream them and kept as numbered PNGs, a piece stopped midway going on
from the last cut it passed.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from dreamvideo.config import Pipeline, pipeline_from_toml
from dreamvideo.core.device import to_host
from dreamvideo.core.engine import Engine
from dreamvideo.core.process import pin_cpus
from dreamvideo.errors import DreamvideoError
from dreamvideo.media.threads import Behind
from dreamvideo.media.writers import frame_file
from dreamvideo.render.chain import dream_range

PNG = [cv2.IMWRITE_PNG_COMPRESSION, 0]  # fastest (4.5 ms a 320x180 frame at 1): read once, deleted


# a worker process keeps its engine (network, compiled loops) from one piece to the next
_ENGINES: dict[str, Any] = {}


def _engine(pipeline: Pipeline) -> Engine:
    key = repr(pipeline.model)
    if key not in _ENGINES:
        _ENGINES[key] = Engine(pipeline.model)
    return _ENGINES[key]


def warm_worker(config: str, threads: int) -> int:
    """A Ray task sent to each worker slot while the driver looks for the shots: the
    backend imported and the network loaded there, so the first piece starts dreaming."""
    pin_cpus(threads)
    _engine(pipeline_from_toml(config))
    return os.getpid()


RESTARTS = "restarts"  # a piece's frames where its chain restarted at a cut, one per line


def _restarts(own: Path) -> list[int]:
    """The frames a piece's chain restarted at, as recorded, in order."""
    marks = own / RESTARTS
    return sorted({int(x) for x in marks.read_text().split()}) if marks.is_file() else []


def restart_point(own: Path, first: int) -> int:
    """Where an unfinished piece goes on from (after Ctrl-C, or when Ray retries a killed
    worker): its last chain restart at a cut whose frames before it are all kept, since a
    chain restarted at a cut dreams the same frames as a piece that starts there; else its
    first frame."""
    if (own / "done").is_file():
        return first
    for r in reversed(_restarts(own)):
        if r > first and all((own / frame_file(i)).is_file() for i in range(first, r)):
            return r
    return first


def dream_piece(config: str, piece: tuple[int, int, int], folder: str, factors: list[float] | None,
                threads: int) -> dict[str, Any]:
    """A Ray task: dream the frames of one piece (``config``: the render's TOML) into
    numbered PNGs in ``folder``, then mark it done. Run again (retried, or resumed), it goes
    on from its last restart at a cut (``restart_point``), else from its start."""
    pin_cpus(threads)
    pipeline = pipeline_from_toml(config)
    out = Path(folder)
    if not out.parent.is_dir():
        raise DreamvideoError(f"this worker cannot see {out.parent}: with a Ray cluster, input and output "
                              "must be on storage every node sees (a shared file system)")
    out.mkdir(exist_ok=True)
    (out / "pid").write_text(str(os.getpid()))  # for whoever watches (and the fault tests)
    engine = _engine(pipeline)
    if pipeline.dream.seed is not None:
        engine.repeatable()
    first = piece[0] - piece[2]  # (start, end, warm): dreamed from start - warm on
    go_on = restart_point(out, first)
    restarts = _restarts(out) if go_on > first else []
    (out / RESTARTS).write_text("".join(f"{r}\n" for r in restarts if r <= go_on))
    started, count, cuts = time.perf_counter(), go_on - first, [r for r in restarts if r <= go_on]

    def keep(item: tuple[int, Any, Any]) -> None:  # behind the dream, in order: fetched and written
        index, pixels, cut = item
        if bool(to_host(cut)):  # every frame before it is written: a run that stops from here on can go on
            cuts.append(index)
            with open(out / RESTARTS, "a") as marks:
                marks.write(f"{index}\n")
        part = out / f".{frame_file(index)}.part.png"  # whole files only: the driver writes them as they come
        cv2.imwrite(str(part), np.ascontiguousarray(to_host(pixels)[..., ::-1]), PNG)
        os.replace(part, out / frame_file(index))

    behind = Behind(keep, depth=4)
    try:
        part = None if factors is None else factors[go_on - first:]
        for index, pixels, cut in dream_range(pipeline, engine, go_on, piece[1], part):
            behind.submit((index, pixels, cut))
            count += 1
    finally:
        behind.close()
    (out / "done").write_text(f"{count} {len(cuts)}")  # frames, and the cuts the chain restarted at
    return {"frames": count, "cuts": len(cuts), "seconds": time.perf_counter() - started, "pid": os.getpid()}
