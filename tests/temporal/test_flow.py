import cv2
import numpy as np
import pytest

from dreamvideo.temporal.flow import consistency_mask, optical_flow, warp


def _texture(h=120, w=160, seed=0):
    rng = np.random.default_rng(seed)
    noise = rng.uniform(0, 255, (h, w)).astype(np.float32)
    smooth = cv2.GaussianBlur(noise, (0, 0), 2.0)
    smooth = (smooth - smooth.min()) / (smooth.max() - smooth.min()) * 255
    return np.dstack([smooth] * 3).astype(np.uint8)


@pytest.mark.parametrize("method", ["dis", "farneback"])
def test_known_shift_gives_known_flow(method):
    a = _texture()
    b = np.roll(a, (2, 3), axis=(0, 1))  # content moves 3 px right, 2 px down
    flow = optical_flow(a, b, method)
    inner = flow[15:-15, 15:-15]
    assert np.median(inner[..., 0]) == pytest.approx(3, abs=0.2)
    assert np.median(inner[..., 1]) == pytest.approx(2, abs=0.2)


def test_backward_warp_brings_previous_into_current():
    prev = _texture()
    cur = np.roll(prev, (2, 3), axis=(0, 1))
    back = optical_flow(cur, prev)
    warped = warp(prev, back)
    err = np.abs(warped.astype(int) - cur)[15:-15, 15:-15].mean()
    assert err < 3 < np.abs(prev.astype(int) - cur)[15:-15, 15:-15].mean()


def test_warp_by_exact_flow_is_exact():
    img = _texture()
    flow = np.zeros((*img.shape[:2], 2), np.float32)
    flow[..., 0] = -5  # sample 5 px to the left: content moves right by 5
    np.testing.assert_array_equal(warp(img, flow)[:, 5:], img[:, :-5])
    with pytest.raises(ValueError, match="does not fit"):
        warp(img, flow[:10])


def test_disoccluded_region_gets_mask_zero():
    """A textured square slides 10 px right over a static texture: the strip it
    uncovers in the current frame was not visible before, so it must not be trusted."""
    background, square = _texture(seed=1), _texture(seed=2)
    prev, cur = background.copy(), background.copy()
    prev[40:80, 40:80] = square[40:80, 40:80]
    cur[40:80, 50:90] = square[40:80, 40:80]
    back, fwd = optical_flow(cur, prev), optical_flow(prev, cur)
    mask = consistency_mask(back, fwd)
    revealed = mask[45:75, 41:49]
    static = mask[5:30, 5:150]
    assert revealed.mean() < 0.35
    assert static.mean() > 0.95
    soft = consistency_mask(back, fwd, softness=2.0)
    assert soft.min() >= 0 and soft.max() <= 1
    assert soft[45:75, 41:49].mean() < 0.5 and soft[5:30, 5:150].mean() > 0.95
    assert np.all(soft >= mask - 1e-6)  # softening only ever trusts more


def test_shape_and_method_checks():
    a = _texture()
    with pytest.raises(ValueError, match="equal shape"):
        optical_flow(a, a[:50])
    with pytest.raises(ValueError, match="dis, farneback"):
        optical_flow(a, a, "lucas")
