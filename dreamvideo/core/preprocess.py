"""Differentiable input preprocessing: RGB in 0-255 → what each network was trained on.

The dream works in RGB pixel units, so the step size means the same thing for every
model; each network's own normalisation runs inside the compiled step, in ``keras.ops``
so that every backend computes the same thing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from dreamvideo.core.backends import load_keras
from dreamvideo.errors import DreamvideoError

CAFFE_MEAN_BGR = np.array((103.939, 116.779, 123.68), np.float32)
TORCH_MEAN = np.array((0.485, 0.456, 0.406), np.float32)
TORCH_STD = np.array((0.229, 0.224, 0.225), np.float32)


def _ops() -> Any:
    return load_keras().ops


def caffe(x: Any) -> Any:
    """RGB→BGR, subtract the ImageNet mean, no scaling (SqueezeNet, VGG)."""
    ops = _ops()
    return ops.flip(ops.convert_to_tensor(x), axis=-1) - ops.convert_to_tensor(CAFFE_MEAN_BGR)


def tf_style(x: Any) -> Any:
    """Scale to [-1, 1] (Inception)."""
    return _ops().convert_to_tensor(x) / 127.5 - 1.0


def torch_style(x: Any) -> Any:
    """Scale to [0, 1], then ImageNet mean/std per channel."""
    ops = _ops()
    mean, std = ops.convert_to_tensor(TORCH_MEAN), ops.convert_to_tensor(TORCH_STD)
    return (ops.convert_to_tensor(x) / 255.0 - mean) / std


PREPROCESSORS: dict[str, Callable[[Any], Any]] = {
    "caffe": caffe, "tf": tf_style, "torch": torch_style,
}


def get_preprocessor(name: str) -> Callable[[Any], Any]:
    """Look up a preprocessing by name, with the valid names in the error."""
    try:
        return PREPROCESSORS[name]
    except KeyError:
        raise DreamvideoError(
            f"unknown preprocessing {name!r}; choose one of: {', '.join(PREPROCESSORS)}") from None
