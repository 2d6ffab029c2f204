import cv2
import numpy as np
import pytest

from dreamvideo.core.backends import load_keras
from dreamvideo.temporal.devicewarp import gather_warp, upsample_flow, warp
from dreamvideo.temporal.flow import warp as host_warp

ops = load_keras().ops


def _texture(h=60, w=80, seed=0):
    rng = np.random.default_rng(seed)
    return cv2.GaussianBlur(rng.uniform(0, 255, (h, w, 3)).astype(np.float32), (0, 0), 1.5)


@pytest.mark.parametrize("how", [gather_warp, warp], ids=["gathers", "as-run-here"])
def test_device_warp_is_the_host_warp(how):
    image = _texture()
    rng = np.random.default_rng(1)
    flow = cv2.GaussianBlur(rng.normal(0, 4, (60, 80, 2)).astype(np.float32), (0, 0), 5)
    flow[:5] += 20  # off the edge: replicated, as cv2.BORDER_REPLICATE
    ours = ops.convert_to_numpy(how(ops.convert_to_tensor(image), ops.convert_to_tensor(flow)))
    theirs = host_warp(image, flow)
    assert np.abs(ours - theirs).max() < 1.0  # OpenCV rounds its weights to 1/32
    assert np.abs(ours - theirs).mean() < 0.1
    shifted = ops.convert_to_numpy(how(ops.convert_to_tensor(image), ops.convert_to_tensor(
        np.full((60, 80, 2), [2.0, 0.0], np.float32))))
    np.testing.assert_allclose(shifted[:, :-2], image[:, 2:], atol=1e-4)  # whole pixels: exact


def test_flow_upsampled_in_pixels_of_the_new_size():
    flow = np.zeros((30, 40, 2), np.float32)
    flow[..., 0], flow[..., 1] = 1.5, -2.0
    big = ops.convert_to_numpy(upsample_flow(ops.convert_to_tensor(flow), (90, 160)))
    assert big.shape == (90, 160, 2)
    np.testing.assert_allclose(big[..., 0], 6.0, rtol=1e-5)
    np.testing.assert_allclose(big[..., 1], -6.0, rtol=1e-5)
