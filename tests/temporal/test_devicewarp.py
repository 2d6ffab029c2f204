import cv2
import numpy as np
import pytest

from dreamvideo.core.backends import load_keras
from dreamvideo.temporal.devicewarp import gather_warp, restore_detail, upsample_flow, warp
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


def _fine(h=64, w=80, seed=3):
    """Something with a dream residual's spectrum: fine, but not pixel noise."""
    noise = np.random.default_rng(seed).normal(0, 20, (h, w, 3)).astype(np.float32)
    return cv2.GaussianBlur(noise, (0, 0), 0.7)


def _band(x):
    return float(np.abs(x - cv2.GaussianBlur(x, (3, 3), 0)).mean())


def test_restoring_detail_gives_back_what_one_warp_softened():
    image = _fine()
    half = np.full((64, 80, 2), [0.37, 0.21], np.float32)  # a fraction of a pixel: linear sampling blurs
    moved = warp(ops.convert_to_tensor(image), ops.convert_to_tensor(half))
    restored = ops.convert_to_numpy(restore_detail(ops.convert_to_tensor(image), moved))
    moved = ops.convert_to_numpy(moved)
    assert _band(moved) < 0.75 * _band(image)
    assert 0.85 * _band(image) < _band(restored) < 1.05 * _band(image)
    same = ops.convert_to_numpy(restore_detail(ops.convert_to_tensor(image), ops.convert_to_tensor(image)))
    np.testing.assert_allclose(same, image, atol=1e-3)  # nothing lost, nothing added


def test_a_carried_residual_stays_crisp_over_many_warps_only_when_restored():
    residual = _fine()
    flow = ops.convert_to_tensor(np.full((64, 80, 2), [0.37, 0.21], np.float32))
    plain = restored = ops.convert_to_tensor(residual)
    for _ in range(20):
        plain = warp(plain, flow)
        restored = restore_detail(restored, warp(restored, flow))
    plain, restored = ops.convert_to_numpy(plain), ops.convert_to_numpy(restored)
    inner = (slice(8, -8), slice(8, -8))  # edges replicate
    assert _band(restored[inner]) > 1.5 * _band(plain[inner])
    assert np.abs(restored[inner]).max() < np.abs(residual).max()  # no build-up
