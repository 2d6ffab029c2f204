"""SqueezeNet v1.1 built from fire modules, with the keras-squeezenet ImageNet weights.

Keras 3 forbids ``/`` in layer names, so the HDF5 names (``fire2/squeeze1x1``) are
mapped to ``fire2_squeeze1x1``; the readable dreamable names are the layer names
themselves: ``conv1``, ``pool1``, ``fire2`` … ``fire9`` (the concatenated expand
outputs), ``pool3``, ``pool5``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from dreamvideo.core.backends import load_keras
from dreamvideo.errors import DreamvideoError

if TYPE_CHECKING:  # Keras loads when a network is built, not for `--help`
    import keras

# (fire id, squeeze filters, expand filters); a max pool follows fire3 and fire5.
FIRES = ((2, 16, 64), (3, 16, 64), (4, 32, 128), (5, 32, 128),
         (6, 48, 192), (7, 48, 192), (8, 64, 256), (9, 64, 256))
POOL_AFTER = {3: "pool3", 5: "pool5"}
LAYERS = ("conv1", "pool1", "fire2", "fire3", "pool3", "fire4", "fire5", "pool5",
          "fire6", "fire7", "fire8", "fire9")
DEFAULT_LAYERS = (("fire5", 1.0), ("fire7", 1.5))


def activation_sides(side: int) -> dict[str, int]:
    """Side of each dreamable layer's output for a square input of ``side`` pixels: the
    3x3 stride-2 valid convolution and pools shrink it, the fire modules keep it."""
    sizes, x = {}, (side - 3) // 2 + 1
    sizes["conv1"] = x
    x = (x - 3) // 2 + 1
    sizes["pool1"] = x
    for fire_id, _, _ in FIRES:
        sizes[f"fire{fire_id}"] = x
        if fire_id in POOL_AFTER:
            x = (x - 3) // 2 + 1
            sizes[POOL_AFTER[fire_id]] = x
    return sizes


def min_input_size(layers: tuple[str, ...], min_activation: int = 5) -> int:
    """Smallest image side whose every requested activation keeps ``min_activation``
    pixels (the models module's MIN_ACTIVATION: what survives the loss's border crop)."""
    return next(side for side in range(1, 4097)
                if all(activation_sides(side)[name] >= min_activation for name in layers))


def _fire(x: keras.KerasTensor, fire_id: int, squeeze: int, expand: int) -> keras.KerasTensor:
    keras = load_keras()

    name = f"fire{fire_id}"
    x = keras.layers.Conv2D(squeeze, 1, activation="relu", name=f"{name}_squeeze1x1")(x)
    left = keras.layers.Conv2D(expand, 1, activation="relu", name=f"{name}_expand1x1")(x)
    right = keras.layers.Conv2D(expand, 3, padding="same", activation="relu",
                                name=f"{name}_expand3x3")(x)
    return keras.layers.Concatenate(axis=-1, name=name)([left, right])


def build_squeezenet() -> keras.Model:
    """The convolutional part of SqueezeNet v1.1 for any input size, untrained."""
    keras = load_keras()

    inputs = keras.Input(shape=(None, None, 3), name="input")
    x = keras.layers.Conv2D(64, 3, strides=2, activation="relu", name="conv1")(inputs)
    x = keras.layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    for fire_id, squeeze, expand in FIRES:
        x = _fire(x, fire_id, squeeze, expand)
        if fire_id in POOL_AFTER:
            x = keras.layers.MaxPooling2D(3, strides=2, name=POOL_AFTER[fire_id])(x)
    return keras.Model(inputs, x, name="squeezenet")


def load_squeezenet_weights(model: keras.Model, path: str) -> None:
    """Copy kernels and biases from the Keras 2 HDF5 file, matched by layer name."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            for layer in model.layers:
                if not layer.weights:
                    continue
                group_name = layer.name.replace("_", "/", 1) if layer.name.startswith("fire") else layer.name
                if group_name not in f:
                    raise DreamvideoError(f"{path} has no weights for layer {group_name!r}; "
                                          "is it the SqueezeNet v1.1 notop file?")
                group = f[group_name]
                names = [n.decode() if isinstance(n, bytes) else n for n in group.attrs["weight_names"]]
                by_kind = {n.rsplit("/", 1)[-1].split(":")[0]: np.asarray(group[n]) for n in names}
                layer.set_weights([by_kind["kernel"], by_kind["bias"]])
    except OSError as e:
        raise DreamvideoError(f"cannot read SqueezeNet weights from {path}: {e}") from None
    except (KeyError, ValueError) as e:
        raise DreamvideoError(f"{path} does not match SqueezeNet v1.1: {e}") from None
