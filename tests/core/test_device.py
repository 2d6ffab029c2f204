"""Frames up to the device and back: the values and types survive the round trip."""

import numpy as np

from dreamvideo.core.backends import load_keras
from dreamvideo.core.device import to_device, to_host


def test_a_frame_goes_up_as_float32_and_comes_back_the_same():
    frame = np.random.default_rng(0).integers(0, 256, (6, 5, 3), dtype=np.uint8)
    tensor = to_device(frame, "float32")
    assert load_keras().ops.dtype(tensor) == "float32"
    back = to_host(tensor)
    assert isinstance(back, np.ndarray) and back.dtype == np.float32
    assert np.array_equal(back, frame.astype(np.float32))


def test_an_array_stays_as_it_is():
    array = np.zeros((2, 2, 3), np.uint8)
    assert to_host(array) is array
    assert load_keras().ops.dtype(to_device(array)) == "uint8"
