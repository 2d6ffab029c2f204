"""Dreaming single images: the ``still`` command and :func:`dream_image`."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from dreamvideo.config import DreamConfig, ModelConfig, Pipeline, SourceConfig
from dreamvideo.core.device import to_host
from dreamvideo.core.dream import dream
from dreamvideo.core.engine import Engine
from dreamvideo.errors import DreamvideoError
from dreamvideo.media.images import Still, fit_max_size, read_still, to_still, write_still
from dreamvideo.media.outputs import check_output
from dreamvideo.media.sources import frame_count_kind, read_frames
from dreamvideo.render.loop import Progress, Run, begin

log = logging.getLogger("dreamvideo")


def read_input_still(path: str | os.PathLike[str], command: str = "still") -> Still:
    """The image to dream; a video or an animated image gives its first frame, with a
    warning that says so and names the command for all of it."""
    if frame_count_kind(path) != "video":
        return read_still(path)
    log.warning("%s is a video: %s uses its first frame only; `dreamvideo video %s -o OUT.mp4` "
                "dreams all of it", path, command, path)
    if Path(path).suffix.lower() in (".gif", ".png", ".webp"):  # animated image: Pillow keeps alpha
        return read_still(path)
    frames = read_frames(path)
    try:
        return Still(next(frames))
    except StopIteration:
        raise DreamvideoError(f"no frame could be decoded from {path}") from None
    finally:
        frames.close()


OctaveImage = Callable[[int, int, np.ndarray], None]  # (octave index, octaves, RGB uint8 at its size)


def dream_array(rgb: np.ndarray, engine: Engine, config: DreamConfig, progress: Progress | None = None,
                warn: bool = True, octave_image: OctaveImage | None = None) -> np.ndarray:
    """Dream an RGB array (H, W, 3) and return RGB uint8 of the same size; ``progress``
    hears (steps done, steps planned), the total known from the start; ``octave_image``
    gets each octave's picture as it is done (the studio streams them; raising there stops
    the dream)."""
    dreamer, layers = engine.prepare(config, *np.shape(rgb)[:2])

    def on_octave(index: int, octaves: int, losses: np.ndarray, image: Any) -> None:
        # an octave stopped early at max_loss counts its remaining steps as done: the
        # total, known up front, never jumps
        if progress is not None:
            progress((index + 1) * config.steps, octaves * config.steps)
        if octave_image is not None:
            octave_image(index, octaves, np.clip(to_host(image), 0, 255).round().astype(np.uint8))

    out = dream(np.asarray(rgb, np.float32), dreamer, config, layers, on_octave, warn)
    return out.round().astype(np.uint8)


def dream_image(image: np.ndarray | str | os.PathLike[str], *, model: ModelConfig | None = None,
                dream: DreamConfig | None = None, max_size: int | None = None, engine: Engine | None = None,
                progress: Progress | None = None) -> np.ndarray:
    """Dream one image and return it as an RGB uint8 array.

    ``image`` is an array (grayscale, RGB or RGBA, any dtype) or a file path. Pass an
    :class:`~dreamvideo.core.engine.Engine` to dream many images without building the
    network again each time.

    >>> import dreamvideo
    >>> out = dreamvideo.dream_image("samples/inputs/chelsea.jpg", max_size=256,
    ...                              dream=dreamvideo.DreamConfig(steps=2, octaves=1),
    ...                              model=dreamvideo.ModelConfig(weights="none"))
    >>> out.shape, out.dtype
    ((170, 256, 3), dtype('uint8'))

    (``weights="none"``, random weights, lets the example run without the download; leave
    it out for the real dream.)
    """
    pipeline, engine, _ = begin(Pipeline("still", SourceConfig(max_size=max_size), model or ModelConfig(),
                                         dream or DreamConfig()), engine)
    still = read_still(image) if isinstance(image, str | os.PathLike) else to_still(image)
    still = fit_max_size(still, pipeline.source.max_size)
    return dream_array(still.rgb, engine, pipeline.dream, progress)


def still_output(pipeline: Pipeline, run: Run) -> Path:
    """The output of a render from one image: the input given, the output free (or
    ``run.force``), else the one-line error."""
    if pipeline.source.input is None:
        raise DreamvideoError("no input image given")
    return check_output(pipeline.output.path or "", inputs=[pipeline.source.input], force=run.force)


def render_still(pipeline: Pipeline, run: Run | None = None) -> Path:
    """``pipeline.source.input`` → dreamed ``pipeline.output``: checks everything cheap
    first, writes atomically.

    >>> import dreamvideo
    >>> pipeline = dreamvideo.Pipeline("still", dreamvideo.SourceConfig("samples/inputs/chelsea.jpg"),
    ...                                output=dreamvideo.OutputConfig("out.png"))
    >>> dreamvideo.render_still(pipeline)  # doctest: +SKIP
    PosixPath('out.png')
    """
    run = run or Run()
    source = pipeline.source
    out = still_output(pipeline, run)
    pipeline, engine, comment = begin(pipeline, run.engine)
    still = fit_max_size(read_input_still(source.input), pipeline.source.max_size)
    dreamer, _ = engine.prepare(pipeline.dream, *still.rgb.shape[:2])
    engine.octave_count(dreamer, pipeline.dream, *still.rgb.shape[:2])  # warns once if a count is reduced
    rgb = dream_array(still.rgb, engine, pipeline.dream, run.progress, warn=False)
    return write_still(out, Still(rgb, still.alpha), comment)
