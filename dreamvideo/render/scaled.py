"""A video spread over Ray workers: shots (and chunks of long shots) as Ray tasks.

The driver finds the shots with the render's own cut rule (``temporal.shots``), sends
each piece to a task, which dreams it with the same carry as a render in one process
(the chain restarting at the piece's first frame) and keeps its frames as PNGs in the
output's work folder; then it writes the output once, in order, with the chunks'
overlaps cross-faded, colour coherence (an output-side step) applied and the audio
muxed once. Finished pieces stay in the work folder: ``--resume`` renders only the rest.
Ray is imported here only, when workers are asked for.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from dreamvideo.config import (
    Pipeline,
    RenderConfig,
    absolute_paths,
    as_made,
    resolved,
    to_toml,
)
from dreamvideo.core.backends import select
from dreamvideo.core.process import usable_cpus
from dreamvideo.errors import DreamvideoError
from dreamvideo.media.outputs import check_output
from dreamvideo.media.sources import count_frames
from dreamvideo.media.threads import prefetch
from dreamvideo.media.workfolder import WorkFolder
from dreamvideo.media.writers import VIDEO_EXTENSIONS, is_stream
from dreamvideo.render.assembly import Spread, write_output
from dreamvideo.render.chain import Footage, read
from dreamvideo.render.loop import Run, encoding
from dreamvideo.render.pieces import dream_piece, restart_point, warm_worker
from dreamvideo.render.video import VideoReport, soundtrack, step_factors_for
from dreamvideo.render.workers import (
    SlotQueue,
    import_ray,
    ray_session,
    slot_options,
    start_ray,
)
from dreamvideo.temporal.shots import Piece, find_shots, plan_pieces

log = logging.getLogger("dreamvideo")


class _Stopped(Exception):
    """The render stopped before every frame was made: the output is not written."""


class Slots:
    """The workers of a render on Ray: how many, the threads of each, the task options of
    each slot (on this machine's CPUs each slot keeps to cores of its own, a worker
    process per slot, which Ray reuses from one piece to the next)."""

    def __init__(self, ray: Any, pipeline: Pipeline) -> None:
        self.workers = pipeline.render.workers or 1
        self.threads, self.options = slot_options(ray, self.workers, pipeline.render.ray_address)
        if not self.options[0]["num_gpus"] and self.threads < usable_cpus():
            log.warning("on the CPU each worker computes with %d of the %d cores, so its float sums, and the "
                        "frames, differ slightly from a one-process render's", self.threads, usable_cpus())
        temporal = dataclasses.replace(pipeline.temporal,
                                       flow_workers=pipeline.temporal.flow_workers or self.threads)
        self.config = to_toml(absolute_paths(dataclasses.replace(pipeline, temporal=temporal)))

    def warm(self, ray: Any) -> list[Any]:
        """Every slot's worker started and its network loaded (the refs; nobody must wait)."""
        task = ray.remote(warm_worker)
        return [task.options(**o, max_retries=0).remote(self.config, self.threads) for o in self.options]


def run_pieces(spread: Spread, progress: Any, slots: Slots | None = None) -> float:
    """Dream every piece of ``spread`` not yet done on Ray, at most ``workers`` at once; a
    piece whose worker dies is tried again by Ray. Ctrl-C cancels the workers and raises.
    Returns the seconds the workers spent dreaming (for the report: how busy they were)."""
    pipeline, pieces, folder, factors = spread.pipeline, spread.pieces, spread.folder, spread.factors
    ray = import_ray()
    start_ray(ray, pipeline.render.ray_address, pipeline.render.workers or 1)
    slots = slots or Slots(ray, pipeline)
    task = ray.remote(dream_piece)

    def send(piece: Piece, slot: int) -> Any:
        part = None if factors is None else factors[piece.first:piece.end].tolist()
        return task.options(**slots.options[slot], max_retries=3, retry_exceptions=False).remote(
            slots.config, (piece.start, piece.end, piece.warm), str(folder / piece.name), part, slots.threads)

    todo = [p for p in pieces if not (folder / p.name / "done").is_file()]
    queue = SlotQueue(ray, todo, slots.workers, send)
    busy = 0.0
    try:
        for finished in queue.finished(timeout=0.5):
            for _, ref in finished:
                try:
                    busy += ray.get(ref)["seconds"]  # a piece that failed for good raises here
                except ray.exceptions.RayTaskError as e:
                    raise DreamvideoError(f"a worker failed: {e.cause if e.cause else e}") from None
            if progress is not None:
                progress(_frames_done(pieces, folder), spread.total)
                if hasattr(progress, "note"):  # the CLI's bar shows the shots too
                    done = sum((folder / p.name / "done").is_file() for p in pieces)
                    progress.note(f"pieces {done}/{len(pieces)}")
    except KeyboardInterrupt:
        queue.cancel()
        raise
    return busy


def pieces_of(render: RenderConfig, shots: tuple[tuple[int, int], ...], fps: float) -> list[Piece]:
    """The pieces the workers dream: the shots, long ones in chunks when there is more than
    one worker to share them (one worker gains nothing from chunks, and each costs a
    fresh start and its overlap)."""
    chunk = render.chunk if (render.workers or 1) > 1 else None
    return plan_pieces(shots, fps, chunk, render.overlap)


def survey(pipeline: Pipeline, footage: Footage) -> tuple[tuple[int, int], ...]:
    """The shots of the range rendered. One worker has no one to share shots with: the whole
    range is one piece (its chain restarts at the cuts as in one process), and the pre-pass
    only counts the frames instead of running the flow over all of them."""
    frames = read(footage)
    if (pipeline.render.workers or 1) > 1:
        return find_shots(frames, pipeline.temporal)
    count = sum(1 for _ in frames)
    return ((0, count),) if count else ()


def _cuts_found(piece: Piece, folder: Path) -> int:
    """The cuts a finished piece's chain restarted at inside it (its done marker: frames,
    cuts): none where the pieces are the shots; the cuts of the range for one worker."""
    marker = (folder / piece.name / "done").read_text().split()
    return int(marker[1]) if len(marker) > 1 else 0


def _frames_done(pieces: list[Piece], folder: Path, partial: bool = True) -> int:
    """The frames made so far; ``partial=False``: only those a resumed render keeps (an
    unfinished piece's up to its last restart at a cut)."""
    done = 0
    for p in pieces:
        own = folder / p.name
        if (own / "done").is_file():
            done += p.end - p.start
        elif partial and own.is_dir():
            done += max(0, sum(1 for _ in own.glob("*.png")) - p.warm)
        elif own.is_dir():  # kept up to its last restart at a cut
            done += max(0, restart_point(own, p.first) - p.start)
    return done


def _in_a_thread(compute: Callable[[], Any]) -> Iterator[Any]:
    """One item, computed by whoever iterates (``prefetch``: a thread of its own)."""
    yield compute()


def render_scaled(pipeline: Pipeline, run: Run | None = None) -> VideoReport:
    """Render a video pipeline over Ray workers (``pipeline.render.workers``): the same
    frames as in one process, the shots rendered side by side."""
    run = run or Run()
    ray = import_ray()  # before any work: a missing Ray is a one-line error
    if pipeline.source.input is None:
        raise DreamvideoError("no input video given")
    out = check_output(pipeline.output.path or "", inputs=[pipeline.source.input], force=run.force,
                       extensions=VIDEO_EXTENSIONS, folder_ok=True)
    asked, pipeline = pipeline, resolved(pipeline)
    footage = Footage.open(pipeline.source)
    render = pipeline.render
    # the pre-pass looks for the shots while Ray starts and the workers load the network
    found = prefetch(_in_a_thread(lambda: render.shots or survey(pipeline, footage)), depth=1)
    with ray_session(ray, render.ray_address, render.workers or 1) as workers_done:
        slots = Slots(ray, pipeline)
        slots.warm(ray)
        spread = _open(asked, pipeline, footage, out, next(found), run)
        started = time.perf_counter()
        busy, count = _dream_and_write(spread, slots, run, workers_done)
        cuts = len(spread.shots) - 1 + sum(_cuts_found(p, spread.folder) for p in spread.pieces)
        spread.work.remove()
        took = time.perf_counter() - started
        return VideoReport(out, count, spread.restored, took, written=count_frames(out),
                           expected=spread.total, scene_cuts=cuts, workers=slots.workers,
                           busy=busy / (slots.workers * took) if took > 0 else None)


def _open(asked: Pipeline, pipeline: Pipeline, footage: Footage, out: Path,
          shots: tuple[tuple[int, int], ...], run: Run) -> Spread:
    """The render's shots recorded in its configuration (``run --from`` re-renders the same
    pieces), its work folder opened, the pieces planned and what is done of them counted."""
    if not shots:
        raise DreamvideoError(f"no frames could be decoded from {pipeline.source.input}")
    asked = dataclasses.replace(asked, render=dataclasses.replace(asked.render, shots=shots))
    pipeline = dataclasses.replace(pipeline, render=dataclasses.replace(pipeline.render, shots=shots))
    comment = as_made(asked, select(pipeline.model.backend))
    work = WorkFolder(out)
    work.open(comment, run.resume, run.force)
    folder = (work.path / "shots").absolute()  # as the workers see it
    folder.mkdir(exist_ok=True)
    pieces = pieces_of(pipeline.render, shots, footage.fps)
    sound = soundtrack(pipeline.audio, str(pipeline.source.input), footage.info.has_audio, pipeline.source)
    factors = step_factors_for(pipeline, sound, footage.fps, shots[-1][1])
    keep_audio = pipeline.output.audio and sound is not None and is_stream(out)
    return Spread(pipeline, footage, out, shots, comment, work, pieces, folder,
                  _frames_done(pieces, folder, partial=False), sound if keep_audio else None, factors)


def _dream_and_write(spread: Spread, slots: Slots, run: Run, workers_done: Any) -> tuple[float, int]:
    """The pieces dreamed on the workers while the output is written beside them, in
    order, as their frames come: (the workers' busy seconds, the frames written)."""
    stop, written = threading.Event(), []

    def waiting() -> None:
        if stop.wait(0.02):
            raise _Stopped

    def write() -> None:
        try:
            fps = spread.footage.info.fps / spread.pipeline.source.every
            how = encoding(spread.pipeline.output, spread.footage.size, fps, spread.sound, spread.comment)
            written.append(write_output(spread, how, waiting))
        except _Stopped:
            pass
        except BaseException as e:  # raised again in the render's own thread
            written.append(e)

    writer = threading.Thread(target=write, name="dreamvideo-assembly", daemon=True)
    writer.start()
    try:
        busy = run_pieces(spread, run.progress, slots)
        workers_done()
    except KeyboardInterrupt:
        stop.set()
        writer.join()
        raise spread.work.interrupted(_frames_done(spread.pieces, spread.folder, partial=False)) from None
    except BaseException:
        stop.set()
        writer.join()
        raise
    writer.join()
    if not written or isinstance(written[0], BaseException):
        stop.set()
        raise written[0] if written else DreamvideoError(f"the output {spread.out} could not be written")
    return busy, written[0]
