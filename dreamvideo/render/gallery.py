"""One dream per layer (or per channel of one layer) on a labelled grid: see what each
responds to, and pick one for ``--layers``."""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from dreamvideo.config import DreamConfig, Pipeline, split_channels
from dreamvideo.core.engine import Engine
from dreamvideo.errors import DreamvideoError
from dreamvideo.media.images import Still, fit_max_size, read_still, write_still
from dreamvideo.media.outputs import check_output
from dreamvideo.render.loop import Run, begin
from dreamvideo.render.stills import dream_array, still_output

log = logging.getLogger("dreamvideo")

GALLERY_SIZE = 320  # default longer side of each cell
CHANNEL_SIZE = 192  # the same for a sheet of channels, which has many more cells
CHANNELS_SHOWN = 32  # channels on a sheet when the spec names none
# one channel's pull is weak beside a whole layer's: more and longer steps show its pattern
CHANNEL_DREAM = DreamConfig(steps=30, step_size=0.02)
LABEL_HEIGHT = 28
GAP = 6
BACKGROUND = 24


def label_cell(rgb: np.ndarray, text: str) -> np.ndarray:
    """Put ``text`` in a dark strip under the image."""
    height, width = rgb.shape[:2]
    cell = np.full((height + LABEL_HEIGHT, width, 3), BACKGROUND, np.uint8)
    cell[:height] = rgb
    font, scale, thickness = cv2.FONT_HERSHEY_SIMPLEX, 0.6, 1
    (text_w, text_h), _ = cv2.getTextSize(text, font, scale, thickness)
    while text_w > width - 8 and scale > 0.3:  # shrink long names to fit
        scale -= 0.05
        (text_w, text_h), _ = cv2.getTextSize(text, font, scale, thickness)
    origin = (max(4, (width - text_w) // 2), height + (LABEL_HEIGHT + text_h) // 2)
    cv2.putText(cell, text, origin, font, scale, (235, 235, 235), thickness, cv2.LINE_AA)
    return cell


def contact_sheet(cells: Sequence[np.ndarray], columns: int | None = None) -> np.ndarray:
    """Equal-sized cells on a grid, row-major, with gaps."""
    if not cells:
        raise ValueError("contact_sheet needs at least one cell")
    height, width = cells[0].shape[:2]
    if any(c.shape != cells[0].shape for c in cells):
        raise ValueError(f"all cells must have shape {cells[0].shape}")
    columns = columns or math.ceil(math.sqrt(len(cells)))
    rows = math.ceil(len(cells) / columns)
    sheet = np.full((rows * (height + GAP) + GAP, columns * (width + GAP) + GAP, 3), BACKGROUND, np.uint8)
    for i, cell in enumerate(cells):
        top, left = GAP + (i // columns) * (height + GAP), GAP + (i % columns) * (width + GAP)
        sheet[top:top + height, left:left + width] = cell
    return sheet


def render_gallery(pipeline: Pipeline, run: Run | None = None) -> Path:
    """Dream ``pipeline.source`` once per layer (weight 1) and write the labelled sheet; the
    layers are those ``dream.layers`` names, else the model's main ones.

    >>> import dreamvideo
    >>> pipeline = dreamvideo.Pipeline("gallery", dreamvideo.SourceConfig("samples/inputs/coffee.jpg"),
    ...                                output=dreamvideo.OutputConfig("sheet.png"))
    >>> dreamvideo.render_gallery(pipeline)  # doctest: +SKIP
    PosixPath('sheet.png')
    """
    run = run or Run()
    source = pipeline.source
    out = still_output(pipeline, run)
    still = read_still(source.input)
    if source.max_size is None:
        source = dataclasses.replace(source, max_size=GALLERY_SIZE)
    engine = run.engine or Engine(pipeline.model)
    layers = [name for name, _ in pipeline.dream.layers] if pipeline.dream.layers else None
    names = list(layers or engine.loaded.recommended or engine.loaded.dreamable)
    shown = dataclasses.replace(pipeline.dream, layers=tuple((name, 1.0) for name in names))
    pipeline, engine, comment = begin(dataclasses.replace(pipeline, source=source, model=engine.config,
                                                          dream=shown), engine)
    for name in names:  # every name valid before the first dream
        engine.dreamer((name,))
    rgb = fit_max_size(still, pipeline.source.max_size).rgb
    cells = [label_cell(rgb, "input")]
    for i, name in enumerate(names):
        min_size = engine.dreamer((name,)).extractor.min_size
        if min(rgb.shape[:2]) < min_size:
            log.warning("layer %s skipped: it needs images of at least %d px per side", name, min_size)
            cells.append(label_cell(np.full_like(rgb, BACKGROUND), f"{name} (too small)"))
        else:
            config = dataclasses.replace(pipeline.dream, layers=((name, 1.0),))
            cells.append(label_cell(dream_array(rgb, engine, config), name))
        if run.progress is not None:
            run.progress(i + 1, len(names))
    return write_still(out, Still(contact_sheet(cells)), comment)


def channel_terms(spec: str, count: int) -> list[str]:
    """``fire7`` → the first ``CHANNELS_SHOWN`` channels as terms (``fire7:0`` …);
    ``fire7:8-15`` → those channels; ``count`` is the layer's channel count."""
    name, lo, hi = split_channels(spec)
    lo, hi = (0, min(CHANNELS_SHOWN, count)) if lo is None else (lo, hi)
    if hi > count:
        raise DreamvideoError(f"{spec}: layer {name} has channels 0-{count - 1}")
    return [f"{name}:{c}" for c in range(lo, hi)]


def render_channels(spec: str, pipeline: Pipeline, run: Run | None = None) -> Path:
    """One dream per channel of a layer (``fire7``: its first 32; ``fire7:8-15``), on a
    labelled sheet. The input is ``source.input``, else seeded soft noise, on which a
    channel's own pattern shows best. All channels share one compiled dreamer: each cell
    weighs one channel 1 and the others 0."""
    from dreamvideo.render.zoom import start_image

    run = run or Run()
    source, dream = pipeline.source, pipeline.dream
    out = check_output(pipeline.output.path or "", inputs=[source.input] if source.input else [],
                       force=run.force)
    engine = run.engine or Engine(pipeline.model)
    name = split_channels(spec)[0]
    count = engine.dreamer((name,)).extractor.output_shapes(224, 224)[name][-1]
    terms = channel_terms(spec, count)
    size = source.max_size or CHANNEL_SIZE
    if source.input:
        rgb = fit_max_size(read_still(source.input), size).rgb
    else:
        rgb = start_image((size, size * 3 // 4), dream.seed or 0).round().astype(np.uint8)
    shown = dataclasses.replace(dream, layers=tuple((t, 1.0) for t in terms))
    sized = dataclasses.replace(source, max_size=size)
    pipeline, engine, comment = begin(dataclasses.replace(pipeline, source=sized, model=engine.config,
                                                          dream=shown), engine)
    cells = [label_cell(rgb, "input")]
    for i, term in enumerate(terms):
        one_hot = tuple((t, 1.0 if t == term else 0.0) for t in terms)
        config = dataclasses.replace(pipeline.dream, layers=one_hot)
        cells.append(label_cell(dream_array(rgb, engine, config, warn=i == 0), term))
        if run.progress is not None:
            run.progress(i + 1, len(terms))
    return write_still(out, Still(contact_sheet(cells)), comment)
