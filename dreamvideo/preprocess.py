"""Differentiable input preprocessing: RGB in 0-255 → what each network was trained on.

The dream works in RGB pixel units, so the step size means the same thing for every
model; each network's own normalisation runs inside the graph.
"""

from __future__ import annotations

from collections.abc import Callable

from dreamvideo._tensorflow import tf
from dreamvideo.errors import DreamvideoError

CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
TORCH_MEAN = (0.485, 0.456, 0.406)
TORCH_STD = (0.229, 0.224, 0.225)


def caffe(x: tf.Tensor) -> tf.Tensor:
    """RGB→BGR, subtract the ImageNet mean, no scaling (SqueezeNet, VGG)."""
    return tf.reverse(x, axis=[-1]) - tf.constant(CAFFE_MEAN_BGR, x.dtype)


def tf_style(x: tf.Tensor) -> tf.Tensor:
    """Scale to [-1, 1] (Inception)."""
    return x / 127.5 - 1.0


def torch_style(x: tf.Tensor) -> tf.Tensor:
    """Scale to [0, 1], then ImageNet mean/std per channel."""
    return (x / 255.0 - tf.constant(TORCH_MEAN, x.dtype)) / tf.constant(TORCH_STD, x.dtype)


PREPROCESSORS: dict[str, Callable[[tf.Tensor], tf.Tensor]] = {
    "caffe": caffe, "tf": tf_style, "torch": torch_style,
}


def get_preprocessor(name: str) -> Callable[[tf.Tensor], tf.Tensor]:
    """Look up a preprocessing by name, with the valid names in the error."""
    try:
        return PREPROCESSORS[name]
    except KeyError:
        raise DreamvideoError(
            f"unknown preprocessing {name!r}; choose one of: {', '.join(PREPROCESSORS)}") from None
