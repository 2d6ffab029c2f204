"""The DeepDream octave core: step → loop → octaves, on any Keras backend.

As in Chollet's keras-io example, but with nothing global: a :class:`Dreamer` holds one
extractor and its backend's compiled octave loop. The plan (``core.plan``) and the step's
arithmetic (``core.ascent``) are shared by every backend; a backend module
(``core.backends.*``) adds only the gradient and the compiled loop of one octave.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from dreamvideo.config import DreamConfig
from dreamvideo.core.ascent import PIXEL_RANGE
from dreamvideo.core.backends import load_keras, module
from dreamvideo.core.models import Extractor
from dreamvideo.core.plan import OctavePlan, plan_octaves
from dreamvideo.errors import DreamvideoError

OctaveCallback = Callable[[int, int, np.ndarray, Any], None]  # (octave index, octaves, step losses, image)
Tensor = Any  # a tensor of the running backend


class Dreamer:
    """Gradient ascent on the activations of one extractor, on the running backend."""

    def __init__(self, extractor: Extractor) -> None:
        self.extractor = extractor
        self.backend = module()
        self._octave = self.backend.compile_octave(extractor)
        self._gradient: Callable[[Tensor, Tensor], tuple[Tensor, Tensor]] | None = None

    def octave(self, image: Tensor, weights: Tensor, plan: OctavePlan, step: float,
               max_loss: float) -> tuple[Tensor, Tensor, Tensor]:
        """All steps of one octave: (image, losses of the steps taken (padded), steps taken)."""
        return self._octave(image, weights, plan, step, max_loss)

    def gradient(self, image: Tensor, weights: Tensor) -> tuple[Tensor, Tensor]:
        """Loss and gradient of one whole image, compiled: the bare pass ``bench`` times."""
        if self._gradient is None:
            self._gradient = self.backend.compile_gradient(self.extractor)
        return self._gradient(image, weights)


def check_size(extractor: Extractor, height: int, width: int) -> None:
    """The image must be large enough for the deepest layer to survive the border crop."""
    if min(height, width) < extractor.min_size:
        raise DreamvideoError(
            f"the image is {width}x{height} but layers {', '.join(extractor.layers)} need at "
            f"least {extractor.min_size} px per side; use a larger image or shallower layers")


def _resize(image: Tensor, shape: tuple[int, int]) -> Tensor:
    if tuple(image.shape[:2]) == tuple(shape):
        return image
    ops = load_keras().ops
    return ops.image.resize(image, shape, interpolation="bilinear", antialias=True)


def loss_weights(dreamer: Dreamer, layer_weights: dict[str, float], guide_weight: float = 0.0) -> np.ndarray:
    """The weight of each loss term, in the extractor's order: one per layer, and with a
    guide one more per layer after them, split by the guide's weight g: w(1-g), then wg."""
    plain = np.array([layer_weights[name] for name in dreamer.extractor.layers], np.float32)
    if not dreamer.extractor.guides:
        return plain
    g = np.float32(guide_weight)
    return np.concatenate([plain * (1 - g), plain * g])


def dream_tensor(image: Tensor, dreamer: Dreamer, config: DreamConfig, weights: dict[str, float] | Tensor,
                 on_octave: OctaveCallback | None = None, warn: bool = True, step_scale: Any = 1.0) -> Tensor:
    """Dream a float32 RGB tensor (H, W, 3; 0-255) on the device; the result stays there.

    Octaves go small to large; after each upscale the detail that resizing lost is
    re-injected from the original, so the dream grows on the real image. ``weights`` is
    each layer's weight by name, or the loss weights as a tensor in the extractor's order
    (:func:`loss_weights`); a schedule gives that tensor and ``step_scale`` (which scales
    the step size) as tensors of a compiled frame step, so they do not recompile it.
    """
    ops = load_keras().ops
    height, width = image.shape[:2]
    check_size(dreamer.extractor, height, width)
    plans = plan_octaves(height, width, config, dreamer.extractor.min_size, warn, dreamer.backend.on_gpu())
    if isinstance(weights, dict):
        weights = ops.convert_to_tensor(loss_weights(dreamer, weights, config.guide_weight))
    step = config.step_size * PIXEL_RANGE * step_scale
    max_loss = math.inf if config.max_loss is None else config.max_loss
    img = shrunk = _resize(image, plans[0].shape)
    for index, plan in enumerate(plans):
        if index:
            same_size = _resize(image, plan.shape)
            img = _resize(img, plan.shape) + same_size - _resize(shrunk, plan.shape)  # lost detail
            shrunk = same_size
        img, losses, taken = dreamer.octave(img, weights, plan, step, max_loss)
        if on_octave is not None:
            on_octave(index, len(plans), ops.convert_to_numpy(losses)[:int(taken)], img)
    return ops.clip(img, 0.0, PIXEL_RANGE)


def dream(image: np.ndarray, dreamer: Dreamer, config: DreamConfig,
          layer_weights: dict[str, float], on_octave: OctaveCallback | None = None,
          warn: bool = True) -> np.ndarray:
    """Dream an RGB image (H, W, 3; values 0-255) and return float32 RGB in 0-255."""
    if np.ndim(image) != 3 or np.shape(image)[2] != 3:
        raise ValueError(f"expected an RGB image of shape (H, W, 3), got {np.shape(image)}")
    ops = load_keras().ops
    out = dream_tensor(ops.convert_to_tensor(np.asarray(image, np.float32)), dreamer, config,
                       layer_weights, on_octave, warn)
    return ops.convert_to_numpy(out)
