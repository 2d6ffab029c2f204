"""How a frame looks, in numbers: fine detail, colourfulness, saturation and clipping.

What a viewer notices first in a dreamed clip is whether it goes soft (the carried dream
blurs frame after frame) or burns out (a zoom's feedback drifts to saturated rainbow
noise); these figures catch both. All on RGB uint8 frames, 0-255 scale.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np

DETAIL_SIGMA = 1.5  # the blur whose difference is "fine detail"
CLIPPED_LOW, CLIPPED_HIGH = 2, 253  # channel values this close to the ends count as clipped


def detail(rgb: np.ndarray) -> float:
    """High-frequency detail: mean |gray - GaussianBlur(gray, sigma 1.5)|."""
    gray = cv2.cvtColor(np.asarray(rgb, np.uint8), cv2.COLOR_RGB2GRAY).astype(np.float32)
    return float(np.abs(gray - cv2.GaussianBlur(gray, (0, 0), DETAIL_SIGMA)).mean())


def colourfulness(rgb: np.ndarray) -> float:
    """Hasler & Süsstrunk (2003): std(rg, yb) + 0.3 * mean(rg, yb), each the hypotenuse of the two."""
    r, g, b = (np.asarray(rgb, np.float32)[..., i] for i in range(3))
    rg, yb = r - g, 0.5 * (r + g) - b
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def saturation(rgb: np.ndarray) -> float:
    """Mean HSV saturation, 0-255."""
    return float(cv2.cvtColor(np.asarray(rgb, np.uint8), cv2.COLOR_RGB2HSV)[..., 1].mean())


def clipped(rgb: np.ndarray) -> float:
    """Share of channel values at the ends of the range (burnt out or crushed)."""
    values = np.asarray(rgb)
    return float(((values <= CLIPPED_LOW) | (values >= CLIPPED_HIGH)).mean())


@dataclass(frozen=True)
class Look:
    """The look of one frame."""

    detail: float
    colourfulness: float
    saturation: float
    clipped: float
    contrast: float  # luminance standard deviation

    @classmethod
    def of(cls, rgb: np.ndarray) -> Look:
        gray = cv2.cvtColor(np.asarray(rgb, np.uint8), cv2.COLOR_RGB2GRAY)
        return cls(detail(rgb), colourfulness(rgb), saturation(rgb), clipped(rgb), float(gray.std()))


def quarters(values: Iterable[float]) -> tuple[float, ...]:
    """Means over the four quarters of a sequence (fewer when it is shorter than four)."""
    values = list(values)
    parts = np.array_split(np.asarray(values, np.float64), min(4, len(values)))
    return tuple(float(part.mean()) for part in parts)
