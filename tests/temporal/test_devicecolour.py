"""Colour coherence on the device (temporal/devicecolour.py) against the host's
(temporal/coherence.py: OpenCV's conversions, scikit-image's histogram matching)."""

import cv2
import imageio.v3 as iio
import numpy as np
import pytest

from dreamvideo.core.backends import load_keras
from dreamvideo.temporal import devicecolour
from dreamvideo.temporal.coherence import match_colours as on_host
from dreamvideo.temporal.devicecolour import from_space, match_channel, match_colours, matcher, to_space
from tests.conftest import SAMPLES

ops = load_keras().ops


@pytest.fixture(scope="module")
def pictures():
    cat = iio.imread(SAMPLES / "chelsea.jpg")[::2, ::2]
    coffee = cv2.resize(iio.imread(SAMPLES / "coffee.jpg"), (cat.shape[1], cat.shape[0]))
    return cat, coffee


def test_one_channel_takes_the_templates_histogram_with_ties_as_the_host():
    source = np.array([3.0, 1.0, 2.0, 2.0, 5.0, 1.0], np.float32)
    template = np.array([10.0, 40.0, 20.0, 20.0, 30.0, 50.0, 60.0], np.float32)
    from skimage.exposure import match_histograms

    wanted = match_histograms(source, template)
    got = ops.convert_to_numpy(match_channel(ops.convert_to_tensor(source), ops.convert_to_tensor(template)))
    np.testing.assert_allclose(got, wanted, atol=1e-5)


@pytest.mark.parametrize("mode", ["lab", "hsv"])
def test_colour_spaces_go_there_and_back(pictures, mode):
    cat = ops.convert_to_tensor(pictures[0].astype(np.float32))
    back = ops.convert_to_numpy(from_space(to_space(cat, mode), mode))
    assert np.abs(back - pictures[0]).max() < 0.01
    there = ops.convert_to_numpy(to_space(cat, mode))
    conversion = {"lab": cv2.COLOR_RGB2Lab, "hsv": cv2.COLOR_RGB2HSV}[mode]
    host = cv2.cvtColor(pictures[0].astype(np.float32) / 255, conversion)
    assert np.abs(there - host).max() < {"lab": 0.5, "hsv": 0.01}[mode]  # OpenCV tabulates its LAB curve


@pytest.mark.parametrize("mode", ["rgb", "lab", "hsv"])
def test_the_device_matches_colours_as_the_host_does(pictures, mode):
    cat, coffee = pictures
    host = np.clip(on_host(cat, coffee, mode, 0.8), 0, 255).round().astype(np.uint8)
    device = match_colours(ops.convert_to_tensor(cat), ops.convert_to_tensor(coffee), mode, 0.8)
    device = ops.convert_to_numpy(ops.round(ops.clip(device, 0.0, 255.0)))
    difference = np.abs(device - host)
    if mode == "rgb":
        assert difference.max() <= 1  # the same matching: rounding apart
    assert difference.mean() < 0.5 and np.quantile(difference, 0.999) < 4
    palette, before = coffee.mean(axis=(0, 1)), cat.mean(axis=(0, 1))  # most of the way to the reference's
    assert np.abs(device.mean(axis=(0, 1)) - palette).sum() < 0.5 * np.abs(before - palette).sum()


class _Cpu:
    @staticmethod
    def on_gpu() -> bool:
        return False


def test_on_a_cpu_the_host_matches(pictures, monkeypatch):
    """Where the device is the host, NumPy's sorts are the faster: the host's matching."""
    cat, coffee = pictures
    host = np.clip(on_host(cat, coffee, "lab", 0.8), 0, 255).round().astype(np.uint8)
    matcher.cache_clear()
    monkeypatch.setattr(devicecolour, "module", lambda: _Cpu)
    try:
        assert np.array_equal(matcher("lab", 0.8)(ops.convert_to_tensor(cat), coffee), host)
    finally:
        matcher.cache_clear()
