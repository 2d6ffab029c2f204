"""Dreaming single images: the ``still`` command and :func:`dream_image`."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from dreamvideo.config import DreamConfig, ModelConfig, OutputConfig, Pipeline, SourceConfig
from dreamvideo.core.dream import dream
from dreamvideo.core.engine import Engine
from dreamvideo.errors import DreamvideoError
from dreamvideo.media.images import Still, fit_max_size, read_still, to_still, write_still
from dreamvideo.media.outputs import check_output
from dreamvideo.media.sources import frame_count_kind, read_frames
from dreamvideo.render.loop import Progress, begin

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


def dream_array(rgb: np.ndarray, engine: Engine, config: DreamConfig, progress: Progress | None = None,
                warn: bool = True) -> np.ndarray:
    """Dream an RGB array (H, W, 3) and return RGB uint8 of the same size; ``progress``
    hears (steps done, steps planned), the total known from the start."""
    dreamer, layers = engine.prepare(config, *np.shape(rgb)[:2])

    def on_octave(index: int, octaves: int, losses: np.ndarray) -> None:
        # an octave stopped early at max_loss counts its remaining steps as done: the
        # total, known up front, never jumps
        if progress is not None:
            progress((index + 1) * config.steps, octaves * config.steps)

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
    >>> out = dreamvideo.dream_image("samples/inputs/chelsea.jpg",
    ...                              dream=dreamvideo.DreamConfig(steps=5), max_size=256)
    >>> out.shape, out.dtype
    ((170, 256, 3), dtype('uint8'))
    """
    pipeline, engine, _ = begin(Pipeline("still", SourceConfig(max_size=max_size), model or ModelConfig(),
                                         dream or DreamConfig()), engine)
    still = read_still(image) if isinstance(image, str | os.PathLike) else to_still(image)
    still = fit_max_size(still, pipeline.source.max_size)
    return dream_array(still.rgb, engine, pipeline.dream, progress)


def render_still(source: SourceConfig, output: OutputConfig | str | os.PathLike[str], *,
                 model: ModelConfig | None = None, dream: DreamConfig | None = None,
                 engine: Engine | None = None, force: bool = False, progress: Progress | None = None) -> Path:
    """File → dreamed file: checks everything cheap first, writes atomically."""
    if source.input is None:
        raise DreamvideoError("no input image given")
    given = output if isinstance(output, OutputConfig) else OutputConfig(str(output))
    out = check_output(given.path or "", inputs=[source.input], force=force)
    asked = Pipeline("still", source, model or ModelConfig(), dream or DreamConfig(), output=given)
    pipeline, engine, comment = begin(asked, engine)
    still = fit_max_size(read_input_still(source.input), pipeline.source.max_size)
    dreamer, _ = engine.prepare(pipeline.dream, *still.rgb.shape[:2])
    engine.octave_count(dreamer, pipeline.dream, *still.rgb.shape[:2])  # warns once if a count is reduced
    rgb = dream_array(still.rgb, engine, pipeline.dream, progress, warn=False)
    return write_still(out, Still(rgb, still.alpha), comment)
