"""Still images in and out: any dtype and channel layout in, RGB uint8 (+ alpha) inside.

Alpha: the colour is composited over white for dreaming (the network has no notion of
transparency) and the original alpha is put back when the output format keeps it
(PNG, WebP); JPEG gets the composited colour.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import imageio.v3 as iio
import numpy as np

from dreamvideo.errors import DreamvideoError
from dreamvideo.media.outputs import atomic_output


@dataclass(frozen=True)
class Still:
    """An RGB uint8 image (H, W, 3) and its alpha (H, W) uint8, if it had one."""

    rgb: np.ndarray
    alpha: np.ndarray | None = None


def check_input(path: str | os.PathLike[str]) -> Path:
    """A readable, non-empty regular file, or a one-line reason why not."""
    p = Path(path)
    if not p.exists():
        raise DreamvideoError(f"input file {p} does not exist")
    if p.is_dir():
        raise DreamvideoError(f"input {p} is a directory; give an image file")
    if not os.access(p, os.R_OK):
        raise DreamvideoError(f"input file {p} is not readable (permission denied)")
    if p.stat().st_size == 0:
        raise DreamvideoError(f"input file {p} is empty")
    return p


def to_uint8(array: np.ndarray) -> np.ndarray:
    """Scale 16-bit, float (0-1) or bool pixels to 0-255 uint8."""
    if array.dtype == np.uint8:
        return array
    if array.dtype == bool:
        return array.astype(np.uint8) * 255
    if np.issubdtype(array.dtype, np.floating):
        peak = 1.0 if np.nanmax(array, initial=0.0) <= 1.0 else 255.0
        return np.clip(np.nan_to_num(array) * (255.0 / peak), 0, 255).round().astype(np.uint8)
    if np.issubdtype(array.dtype, np.integer) and array.max(initial=0) > 255:
        return np.clip(array / 257.0, 0, 255).round().astype(np.uint8)  # 16-bit
    return np.clip(array, 0, 255).astype(np.uint8)


def to_still(array: np.ndarray) -> Still:
    """Grayscale, gray+alpha, RGB or RGBA of any dtype → :class:`Still`."""
    array = to_uint8(np.asarray(array))
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[2] not in (1, 2, 3, 4):
        raise DreamvideoError(f"expected a grayscale, RGB or RGBA image, got an array of shape {array.shape}")
    color = array[..., :3] if array.shape[2] >= 3 else np.repeat(array[..., :1], 3, axis=2)
    if array.shape[2] in (2, 4):
        alpha = array[..., -1]
        a = alpha[..., None].astype(np.float32) / 255.0
        color = (color * a + 255.0 * (1.0 - a)).round().astype(np.uint8)
        return Still(np.ascontiguousarray(color), np.ascontiguousarray(alpha))
    return Still(np.ascontiguousarray(color))


def read_still(path: str | os.PathLike[str]) -> Still:
    """Read the first frame of an image file, turned upright by its EXIF orientation."""
    p = check_input(path)
    try:
        array = iio.imread(p, plugin="pillow", index=0, rotate=True)
    except Exception:  # not a Pillow format: let imageio pick a plugin
        try:
            array = iio.imread(p, index=0)
        except Exception as e:
            reason = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise DreamvideoError(f"cannot read {p} as an image ({reason})") from None
    return to_still(array)


def fit_size(width: int, height: int, max_size: int | None) -> tuple[int, int]:
    """(width, height) shrunk so the longer side is at most ``max_size``; never enlarged."""
    if max_size is None or max(width, height) <= max_size:
        return width, height
    scale = max_size / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def fit_max_size(still: Still, max_size: int | None) -> Still:
    """Downscale (never up) so the longer side is at most ``max_size`` pixels."""
    height, width = still.rgb.shape[:2]
    size = fit_size(width, height, max_size)
    if size == (width, height):
        return still
    alpha = None if still.alpha is None else cv2.resize(still.alpha, size, interpolation=cv2.INTER_AREA)
    return Still(cv2.resize(still.rgb, size, interpolation=cv2.INTER_AREA), alpha)


def write_still(path: str | os.PathLike[str], still: Still, comment: str | None = None) -> Path:
    """Write PNG/JPEG/WebP through a temporary file; alpha kept where the format can.

    ``comment`` (the render's configuration) goes into a PNG text chunk or a JPEG comment.
    """
    out = Path(path)
    ext = out.suffix.lower()
    keep_alpha = still.alpha is not None and ext in (".png", ".webp")
    pixels = np.dstack([still.rgb, still.alpha]) if keep_alpha else still.rgb
    options: dict[str, object] = {"quality": 95} if ext in (".jpg", ".jpeg", ".webp") else {}
    if comment and ext == ".png":
        from PIL.PngImagePlugin import PngInfo

        info = PngInfo()
        info.add_itxt("dreamvideo", comment)
        options["pnginfo"] = info
    elif comment and ext in (".jpg", ".jpeg"):
        options["comment"] = comment.encode()
    try:
        with atomic_output(out) as tmp:
            iio.imwrite(tmp, pixels, plugin="pillow", extension=ext, **options)
    except OSError as e:
        raise DreamvideoError(f"cannot write {out}: {e.strerror or e}") from None
    return out
