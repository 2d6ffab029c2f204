"""Guided dreams: the features of a guide image steer what the dream grows.

Google's original DeepDream notebook: instead of making every activation larger, each
activation vector x_p of the dreamed image is pushed towards the guide's feature vector
it already matches best, maximising sum_p max_q x_p . y_q (the y_q are the guide's
activations at the same layer). So the dream grows the guide's textures and shapes where
the picture already resembles them. The guide's features are computed once (the guide
image at ``GUIDE_SIZE``), subsampled to at most ``GUIDE_POSITIONS`` vectors per layer,
and become constants of the compiled octave loop.

(Tests: tests/core/test_channels_and_guide.py.)
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from dreamvideo.core.ascent import BORDER
from dreamvideo.core.backends import load_keras
from dreamvideo.core.models import Extractor
from dreamvideo.errors import DreamvideoError

GUIDE_SIZE = 320  # longer side of the guide image the features are taken from
GUIDE_POSITIONS = 1024  # guide vectors kept per layer: the match costs (positions x these)


def read_guide(path: str) -> np.ndarray:
    """The guide image as RGB float32 0-255 at ``GUIDE_SIZE``."""
    import imageio.v3 as iio

    try:
        rgb = np.asarray(iio.imread(path))
    except (OSError, ValueError) as exc:
        raise DreamvideoError(f"cannot read the guide image {path}: {exc}; give a PNG or JPEG") from None
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[..., None], 3, axis=2)
    if rgb.ndim == 4:  # an animation: its first frame
        rgb = rgb[0]
    rgb = rgb[..., :3].astype(np.float32)
    height, width = rgb.shape[:2]
    scale = GUIDE_SIZE / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)


def guide_features(extractor: Extractor, rgb: np.ndarray) -> dict[str, np.ndarray]:
    """Per term, the guide's activation vectors (positions, channels), float32, the border
    cropped as in the loss and evenly subsampled to at most ``GUIDE_POSITIONS``."""
    ops = load_keras().ops
    height, width = rgb.shape[:2]
    if min(height, width) < extractor.min_size:
        raise DreamvideoError(f"the guide image is too small for layers {', '.join(extractor.layers)}: "
                              f"it needs {extractor.min_size} px per side")
    features = extractor(ops.convert_to_tensor(rgb[None].astype(np.float32)))
    out = {}
    for term in extractor.layers:
        act = np.asarray(ops.convert_to_numpy(ops.cast(features[term], "float32")))[0]
        inner = act[BORDER:-BORDER, BORDER:-BORDER] if min(act.shape[:2]) > 2 * BORDER + 1 else act
        vectors = inner.reshape(-1, inner.shape[-1])
        if len(vectors) > GUIDE_POSITIONS:
            vectors = vectors[np.linspace(0, len(vectors) - 1, GUIDE_POSITIONS).round().astype(int)]
        out[term] = np.ascontiguousarray(vectors, np.float32)
    return out


def guided(extractor: Extractor, rgb: np.ndarray) -> Extractor:
    """The extractor with the guide's features attached: its loss gains guided terms."""
    ops = load_keras().ops
    features = {term: ops.convert_to_tensor(v) for term, v in guide_features(extractor, rgb).items()}
    return dataclasses.replace(extractor, guides=features)
