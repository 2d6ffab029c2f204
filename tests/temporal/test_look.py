import cv2
import numpy as np

from dreamvideo.temporal.look import Look, clipped, colourfulness, detail, quarters


def test_the_figures_see_what_a_viewer_sees():
    rng = np.random.default_rng(0)
    sharp = rng.uniform(0, 255, (64, 64, 3)).astype(np.uint8)
    soft = cv2.GaussianBlur(sharp, (0, 0), 2.0)
    assert detail(soft) < 0.3 * detail(sharp)
    gray = np.repeat(sharp[..., :1], 3, axis=2)
    assert colourfulness(gray) == 0.0 and colourfulness(sharp) > 50
    burnt = sharp.copy()
    burnt[:16] = 255
    assert clipped(burnt) > clipped(sharp) + 0.2
    look = Look.of(sharp)
    assert look.detail == detail(sharp) and look.clipped == clipped(sharp)
    assert quarters([1, 1, 2, 2, 3, 3, 4, 4]) == (1, 2, 3, 4)
