"""One dream per layer on a labelled grid: see what each layer responds to."""

from __future__ import annotations

import dataclasses
import logging
import math
import os
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from dreamvideo.config import DreamConfig, ModelConfig, SourceConfig, preview
from dreamvideo.errors import DreamvideoError
from dreamvideo.images import Still, fit_max_size, read_still, write_still
from dreamvideo.outputs import check_output
from dreamvideo.provenance import describe
from dreamvideo.stills import dream_array, get_dreamer, progress_bar

log = logging.getLogger("dreamvideo")

GALLERY_SIZE = 320  # default longer side of each cell
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


def render_gallery(source: SourceConfig, output: str | os.PathLike[str], *,
                   layers: Sequence[str] | None = None, model: ModelConfig | None = None,
                   dream: DreamConfig | None = None, is_preview: bool = False,
                   force: bool = False, quiet: bool = True) -> Path:
    """Dream ``source`` once per layer (weight 1) and write the labelled sheet."""
    if source.input is None:
        raise DreamvideoError("no input image given")
    model, dream = model or ModelConfig(), dream or DreamConfig()
    out = check_output(output, inputs=[source.input], force=force)
    still = read_still(source.input)
    from dreamvideo.models import load_model, make_extractor  # TensorFlow: after the cheap checks

    loaded = load_model(model)
    names = list(layers or loaded.recommended or loaded.dreamable)
    make_extractor(loaded, names)  # every name valid before the first dream
    if source.max_size is None:
        source = SourceConfig(source.input, GALLERY_SIZE)
    if is_preview:
        source, dream = preview(source, dream)
    rgb = fit_max_size(still, source.max_size).rgb
    cells = [label_cell(rgb, "input")]
    update, close = progress_bar("gallery", quiet, len(names), unit="layer")
    try:
        for i, name in enumerate(names):
            min_size = get_dreamer(model, (name,)).extractor.min_size
            if min(rgb.shape[:2]) < min_size:
                log.warning("layer %s skipped: it needs images of at least %d px per side", name, min_size)
                cells.append(label_cell(np.full_like(rgb, BACKGROUND), f"{name} (too small)"))
            else:
                config = dataclasses.replace(dream, layers=((name, 1.0),))
                cells.append(label_cell(dream_array(rgb, model, config), name))
            if update:
                update(i + 1, len(names))
    finally:
        close()
    shown = dataclasses.replace(dream, layers=tuple((name, 1.0) for name in names))
    comment = describe("gallery", source, out, model=model, dream=shown)
    return write_still(out, Still(contact_sheet(cells)), comment)
