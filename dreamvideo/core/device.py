"""Moving frames between the host and the device: the one place a video's frames go up
(decoded frames, flow, mask) and come back (dreamed frames), whatever the backend."""

from __future__ import annotations

from typing import Any

import numpy as np

from dreamvideo.core.backends import load_keras

Tensor = Any  # a tensor of the running Keras backend


def to_device(array: np.ndarray, dtype: str | None = None) -> Tensor:
    """``array`` as a tensor of the running backend (on its device), cast to ``dtype``."""
    ops = load_keras().ops
    tensor = ops.convert_to_tensor(array)
    return tensor if dtype is None else ops.cast(tensor, dtype)


def to_host(value: Any) -> np.ndarray:
    """A tensor (or an array) as a NumPy array; whoever calls this waits for the device."""
    if isinstance(value, np.ndarray):
        return value
    return np.asarray(load_keras().ops.convert_to_numpy(value))
