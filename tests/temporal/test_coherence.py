import cv2
import numpy as np
import pytest

from dreamvideo.config import ColorConfig
from dreamvideo.errors import DreamvideoError
from dreamvideo.temporal.coherence import Coherence, coherence, match_colours
from dreamvideo.temporal.look import colourfulness


def _scene(seed=0, h=64, w=96):
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(60, 190, (6, 8, 3)).astype(np.float32)
    blobs = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip(blobs + rng.normal(0, 6, (h, w, 3)), 0, 255).astype(np.float32)


def _burn(rgb):
    """What a zoom's feedback does to colours each pass: more saturation and contrast,
    a drift of hue."""
    mean = rgb.mean(axis=2, keepdims=True)
    pushed = mean + 1.08 * (rgb - mean)
    return np.clip(128 + 1.03 * (pushed - 128) + np.array([2.0, -1.0, -2.0]), 0, 255)


@pytest.mark.parametrize("mode", ["lab", "rgb", "hsv"])
def test_matching_takes_the_reference_palette(mode):
    ref, frame = _scene(0), _scene(1)
    for _ in range(12):
        frame = _burn(frame)
    matched = match_colours(frame, ref, mode)
    assert colourfulness(frame) > 1.5 * colourfulness(ref)
    # per-channel matching holds the palette, not every joint statistic: much closer, not equal
    target = colourfulness(ref)
    assert abs(colourfulness(matched) - target) < 0.4 * (colourfulness(frame) - target)
    # the picture stays the frame's (only its palette comes from the reference)
    light = [x.mean(axis=2).ravel() for x in (matched, frame, ref)]
    assert np.corrcoef(light[0], light[1])[0, 1] > 0.5 > abs(np.corrcoef(light[0], light[2])[0, 1])


def test_strength_mixes_the_frame_and_its_match():
    ref, frame = _scene(0), _burn(_burn(_scene(1)))
    np.testing.assert_allclose(match_colours(frame, ref, "lab", 0.0), frame, atol=1e-4)
    full, half = match_colours(frame, ref, "lab", 1.0), match_colours(frame, ref, "lab", 0.5)
    np.testing.assert_allclose(half, 0.5 * (frame + full), atol=1e-3)


def test_a_feedback_loop_keeps_its_colours_only_with_coherence():
    first = _scene(3)
    held, free = Coherence("lab", 0.8), first.copy()
    frame = held(first)  # the first frame becomes the reference, unchanged
    np.testing.assert_array_equal(frame, first)
    for _ in range(60):
        frame, free = held(_burn(frame)), _burn(free)
    assert colourfulness(free) > 2 * colourfulness(first)
    assert 0.75 < colourfulness(frame) / colourfulness(first) < 1.33


def test_which_reference_and_when_off():
    photo = _scene(5)
    assert coherence(ColorConfig(), "none") is None  # video's default
    assert coherence(ColorConfig(coherence="none"), "lab") is None
    assert coherence(ColorConfig(strength=0.0), "lab") is None
    zoom = coherence(ColorConfig(), "lab")
    assert zoom.mode == "lab" and zoom.reference is None and zoom.strength == 0.8
    np.testing.assert_array_equal(coherence(ColorConfig(reference="input"), "lab", photo).reference, photo)
    read = coherence(ColorConfig(coherence="rgb", reference="ref.png"), "none", None, lambda p: photo + 1)
    assert read.mode == "rgb" and read.reference[0, 0, 0] == photo[0, 0, 0] + 1
    with pytest.raises(DreamvideoError, match="needs an input image"):
        coherence(ColorConfig(reference="input"), "lab")
    with pytest.raises(DreamvideoError, match="coherence"):
        ColorConfig(coherence="xyz")
