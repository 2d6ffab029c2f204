"""Many inputs through one preset: ``dreamvideo batch``, one Ray task per input.

Each input becomes its own pipeline (the preset, the ``--set`` overrides, its input and
an output in the folder named after it) and renders alone: with workers as a Ray task
(the same placement and thread limits as a spread video), else one after another here.
One input failing does not stop the others; it is reported with its one-line error.

(Tests: tests/render/test_scaled.py, tests/cli/test_look_flags.py.)
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dreamvideo.api.presets import load_preset, render
from dreamvideo.config import (
    Pipeline,
    RenderConfig,
    absolute_paths,
    pipeline_from_toml,
    to_toml,
    with_overrides,
)
from dreamvideo.core.process import pin_cpus
from dreamvideo.errors import DreamvideoError
from dreamvideo.render.loop import Progress, Run
from dreamvideo.render.workers import SlotQueue, import_ray, ray_session, slot_options

SUFFIX = {"still": ".png", "gallery": ".png", "video": ".mp4", "zoom": ".mp4"}


@dataclass(frozen=True)
class BatchItem:
    """What became of one input."""

    input: str
    output: str
    frames: int = 0
    seconds: float = 0.0
    error: str | None = None


def pipelines_for(preset: str | os.PathLike[str], inputs: Sequence[str], folder: str | os.PathLike[str],
                  sets: Sequence[str] = ()) -> list[Pipeline]:
    """One pipeline per input: the preset with the overrides, its input, its output."""
    base = with_overrides(load_preset(preset), list(sets))
    suffix = SUFFIX[base.command]
    names = [Path(i).stem for i in inputs]
    if len(set(names)) != len(names):
        raise DreamvideoError("two inputs have the same name; their outputs would collide: rename one")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    return [dataclasses.replace(base, source=dataclasses.replace(base.source, input=str(i)),
                                output=dataclasses.replace(base.output, path=str(out / f"{n}{suffix}")))
            for i, n in zip(inputs, names, strict=True)]


def render_one(config: str, force: bool, threads: int = 0) -> BatchItem:
    """Render one pipeline (its TOML); an error becomes the item's one line, not a raise."""
    pipeline = pipeline_from_toml(config)
    if threads:  # a Ray worker: its own cores, before any backend sizes its thread pools
        pin_cpus(threads)
    started = time.perf_counter()
    source, output = str(pipeline.source.input), str(pipeline.output.path)
    try:
        made = render(pipeline, Run(force=force))
    except (DreamvideoError, OSError, ValueError) as e:
        return BatchItem(source, output, error=str(e).splitlines()[0] if str(e) else type(e).__name__)
    frames = getattr(made, "frames", 1)
    return BatchItem(source, output, frames, time.perf_counter() - started)


@dataclass(frozen=True)
class Dispatch:
    """How an input goes to Ray: the remote task (``render_one``), each worker slot's task
    options and threads (as ``slot_options`` gives them), and whether outputs are replaced."""

    task: Any
    options: list[dict[str, Any]]
    threads: int
    force: bool

    def send(self, config: str, slot: int) -> Any:
        """The ref of ``config`` rendered in ``slot``; Ray retries a worker that dies."""
        return self.task.options(**self.options[slot], max_retries=3).remote(config, self.force, self.threads)


def run_batch(preset: str | os.PathLike[str], inputs: Sequence[str], folder: str | os.PathLike[str], *,
              sets: Sequence[str] = (), scale: RenderConfig | None = None,
              run: Run | None = None) -> list[BatchItem]:
    """Render every input through ``preset`` into ``folder``: here one after another, or
    with ``scale.workers`` as Ray tasks; ``run.force`` replaces outputs, ``run.progress``
    hears (done, inputs) after each. The items come back in the inputs' order."""
    scale, run = scale or RenderConfig(), run or Run()
    workers, ray_address, force, progress = scale.workers, scale.ray_address, run.force, run.progress
    pipelines = pipelines_for(preset, inputs, folder, sets)
    if not workers:
        configs = [to_toml(p) for p in pipelines]
        items = []
        for i, config in enumerate(configs):
            items.append(render_one(config, force))
            if progress is not None:
                progress(i + 1, len(configs))
        return items
    ray = import_ray()
    with ray_session(ray, ray_address, workers):
        threads, options = slot_options(ray, workers, ray_address)
        configs = [to_toml(absolute_paths(p)) for p in pipelines]  # as a worker in its own folder sees them
        dispatch = Dispatch(ray.remote(render_one), options, threads, force)
        return _gather(ray, dispatch, configs, pipelines, progress)


def _gather(ray: Any, dispatch: Dispatch, configs: list[str], pipelines: list[Pipeline],
            progress: Progress | None) -> list[BatchItem]:
    """Every input rendered on Ray, one per worker slot at a time (each slot on its own
    cores); a worker that dies is retried by Ray, and reported once it fails for good."""
    results: dict[int, BatchItem] = {}
    queue = SlotQueue(ray, list(range(len(configs))), len(dispatch.options),
                      lambda i, slot: dispatch.send(configs[i], slot))
    try:
        for finished in queue.finished():
            for i, ref in finished:
                try:
                    results[i] = ray.get(ref)
                except ray.exceptions.RayError as e:  # the worker died for good
                    p = pipelines[i]
                    error = f"worker lost: {e}".splitlines()[0]
                    results[i] = BatchItem(str(p.source.input), str(p.output.path), error=error)
            if progress is not None:
                progress(len(results), len(configs))
    except KeyboardInterrupt:
        queue.cancel()
        raise
    return [results[i] for i in range(len(configs))]


def table(items: Sequence[BatchItem]) -> str:
    """The summary: one row per input."""
    width = max(len(Path(i.input).name) for i in items)
    rows = [f"{'input':<{width}}  {'result':<6}  {'frames':>6}  {'seconds':>8}  output / error"]
    for i in items:
        result = "failed" if i.error else "ok"
        rows.append(f"{Path(i.input).name:<{width}}  {result:<6}  {i.frames:>6}  {i.seconds:>8.1f}  "
                    f"{i.error or i.output}")
    failed = sum(1 for i in items if i.error)
    rows.append(f"{len(items) - failed} of {len(items)} rendered" + (f", {failed} failed" if failed else ""))
    return "\n".join(rows)
