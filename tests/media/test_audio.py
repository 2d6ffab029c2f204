import numpy as np
import pytest

from dreamvideo.errors import DreamvideoError
from dreamvideo.media.audio import RATE, decode_mono, follow, loudness, step_factors
from dreamvideo.media.writers import AudioSource


def _tone(seconds, loud_from_to, rate=RATE):
    t = np.arange(int(seconds * rate)) / rate
    wave = np.sin(2 * np.pi * 220 * t).astype(np.float32)
    gain = np.full_like(wave, 0.01)
    for a, b in loud_from_to:
        gain[(t >= a) & (t < b)] = 1.0
    return wave * gain


def test_loudness_follows_the_sound_frame_by_frame():
    samples = _tone(2.0, [(0.0, 0.5), (1.0, 1.5)])
    level = loudness(samples, RATE, 10, 20, smooth=0.0)
    assert level.shape == (20,) and level.min() == 0.0 and level.max() == 1.0
    assert level[:5].mean() > 0.9 and level[5:10].mean() < 0.1 and level[10:15].mean() > 0.9
    smooth = loudness(samples, RATE, 10, 20, smooth=0.15)
    assert 0.1 < smooth[5] < 0.9  # the edge is softened, not a step
    assert loudness(samples, RATE, 10, 30, smooth=0.0)[25:].max() == 0.0  # past the sound: silence


def test_a_steady_sound_moves_nothing():
    level = loudness(_tone(1.0, [(0.0, 1.0)]), RATE, 25, 25)
    np.testing.assert_array_equal(step_factors(level, 0.8), np.ones(25, np.float32))


def test_step_factors_swing_around_one_by_the_depth():
    factors = step_factors(np.array([0.0, 0.5, 1.0]), 0.6)
    np.testing.assert_allclose(factors, [0.4, 1.0, 1.6], atol=1e-6)


def test_decoded_from_a_file(media):
    samples = decode_mono(str(media.beat))
    assert len(samples) == pytest.approx(2 * RATE, rel=0.05)
    factors = follow(AudioSource(str(media.beat)), 10, None, 1.0, smooth=0.0)
    assert len(factors) == 20
    assert factors[1:4].mean() > 1.7 and factors[6:9].mean() < 0.3  # loud half, quiet half
    late = follow(AudioSource(str(media.beat), 1.0), 10, 10, 1.0, smooth=0.0)  # the second second only
    assert late[1:4].mean() > 1.7 and late[6:9].mean() < 0.3


def test_no_soundtrack_says_what_to_do(media):
    with pytest.raises(DreamvideoError, match="--audio FILE"):
        decode_mono(str(media.gif))
