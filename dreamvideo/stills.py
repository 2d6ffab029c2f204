"""Dreaming single images: the ``still`` command and :func:`dream_image`."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from dreamvideo.config import DreamConfig, ModelConfig, SourceConfig, preview
from dreamvideo.errors import DreamvideoError
from dreamvideo.images import Still, fit_max_size, read_still, to_still, write_still
from dreamvideo.outputs import check_output
from dreamvideo.provenance import describe

if TYPE_CHECKING:  # TensorFlow loads on first dream, after the cheap checks of the inputs
    from dreamvideo.dream import Dreamer

log = logging.getLogger("dreamvideo")

Progress = Callable[[int, int], None]  # (steps done, steps planned)


def read_input_still(path: str | os.PathLike[str], command: str = "still") -> Still:
    """The image to dream; a video or an animated image gives its first frame, with a
    warning that says so and names the command for all of it."""
    from dreamvideo.sources import frame_count_kind, read_frames

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


@functools.lru_cache(maxsize=8)
def get_dreamer(model: ModelConfig, layers: tuple[str, ...]) -> Dreamer:
    """One Dreamer (one compiled graph) per model and layer set, reused across calls."""
    from dreamvideo.backends import select

    select(model.backend)  # before Keras loads
    from dreamvideo.dream import Dreamer
    from dreamvideo.models import load_model, make_extractor

    return Dreamer(make_extractor(load_model(model), layers))


def resolve_layers(model: ModelConfig, config: DreamConfig) -> dict[str, float]:
    """The configured layers, or the model's defaults."""
    from dreamvideo.backends import select

    select(model.backend)  # before Keras loads
    from dreamvideo.models import load_model

    layers = config.layers or load_model(model).default_layers
    if not layers:
        raise DreamvideoError(f"model {model.name} has no default layers; pass --layers name=weight,...")
    return dict(layers)


def prepare(model: ModelConfig, config: DreamConfig, height: int,
            width: int) -> tuple[Dreamer, dict[str, float]]:
    """Load the model and check layers and size: every error before any progress bar."""
    from dreamvideo.dream import check_size

    layers = resolve_layers(model, config)
    dreamer = get_dreamer(model, tuple(layers))
    check_size(dreamer.extractor, height, width)
    return dreamer, layers


def planned_octaves(dreamer: Dreamer, config: DreamConfig, height: int, width: int,
                    warn: bool = True) -> int:
    """How many octaves an image of this size gets (see :func:`dreamvideo.dream.octave_shapes`)."""
    from dreamvideo.dream import octave_shapes

    return len(octave_shapes(height, width, config.octaves, config.octave_scale,
                             dreamer.extractor.min_size, warn))


def dream_array(rgb: np.ndarray, model: ModelConfig, config: DreamConfig,
                progress: Progress | None = None, warn: bool = True) -> np.ndarray:
    """Dream an RGB array (H, W, 3) and return RGB uint8 of the same size."""
    from dreamvideo.dream import dream

    dreamer, layers = prepare(model, config, *np.shape(rgb)[:2])

    def on_octave(index: int, octaves: int, losses: np.ndarray) -> None:
        # an octave stopped early at max_loss counts its remaining steps as done: the
        # total, known up front, never jumps
        if progress is not None:
            progress((index + 1) * config.steps, octaves * config.steps)

    out = dream(np.asarray(rgb, np.float32), dreamer, config, layers, on_octave, warn)
    return out.round().astype(np.uint8)


def dream_image(image: np.ndarray | str | os.PathLike[str], *, model: ModelConfig | None = None,
                dream: DreamConfig | None = None, max_size: int | None = None,
                progress: Progress | None = None) -> np.ndarray:
    """Dream one image and return it as an RGB uint8 array.

    ``image`` is an array (grayscale, RGB or RGBA, any dtype) or a file path.

    >>> import dreamvideo
    >>> out = dreamvideo.dream_image("samples/inputs/chelsea.jpg",
    ...                              dream=dreamvideo.DreamConfig(steps=5), max_size=256)
    >>> out.shape, out.dtype
    ((170, 256, 3), dtype('uint8'))
    """
    still = read_still(image) if isinstance(image, str | os.PathLike) else to_still(image)
    still = fit_max_size(still, SourceConfig(max_size=max_size).max_size)
    return dream_array(still.rgb, model or ModelConfig(), dream or DreamConfig(), progress)


def progress_bar(desc: str, quiet: bool, total: int | None = None,
                 unit: str = "step") -> tuple[Progress | None, Callable[[], None]]:
    """A tqdm bar on stderr driven by (done, planned), and its closer."""
    if quiet:
        return None, lambda: None
    from tqdm import tqdm

    bar = tqdm(desc=desc, total=total, unit=unit, leave=False, dynamic_ncols=True)

    def update(done: int, planned: int) -> None:
        bar.total = planned
        bar.update(done - bar.n)

    return update, bar.close


def render_still(source: SourceConfig, output: str | os.PathLike[str], *,
                 model: ModelConfig | None = None, dream: DreamConfig | None = None,
                 is_preview: bool = False, force: bool = False, quiet: bool = True) -> Path:
    """File → dreamed file: checks everything cheap first, writes atomically."""
    if source.input is None:
        raise DreamvideoError("no input image given")
    model, dream = model or ModelConfig(), dream or DreamConfig()
    out = check_output(output, inputs=[source.input], force=force)
    still = read_input_still(source.input)
    if is_preview:
        source, dream = preview(source, dream)
    still = fit_max_size(still, source.max_size)
    dreamer, _ = prepare(model, dream, *still.rgb.shape[:2])
    octaves = planned_octaves(dreamer, dream, *still.rgb.shape[:2])  # warns once if reduced
    update, close = progress_bar(f"dreaming {Path(source.input).name}", quiet, octaves * dream.steps)
    try:
        rgb = dream_array(still.rgb, model, dream, update, warn=False)
    finally:
        close()
    comment = describe("still", source, out, model=model, dream=dream)
    return write_still(out, Still(rgb, still.alpha), comment)
