import pytest

from dreamvideo.config import Keyframe, ZoomConfig, parse_keyframe
from dreamvideo.errors import DreamvideoError
from dreamvideo.render.keyframes import layer_names, moment, smoothstep


def test_base_values_without_keyframes():
    m = moment(ZoomConfig(zoom=1.5, rotate=10, pan=(3, 4), steps=3), {"fire5": 1.0}, 2.0)
    assert (m.zoom, m.rotate, m.pan, m.layers, m.steps) == (pytest.approx(1.5), 10, (3, 4), {"fire5": 1.0}, 3)


def test_eased_between_keyframes_and_held_after():
    config = ZoomConfig(zoom=1.0, keyframes=(Keyframe(2, zoom=4.0, rotate=20, steps=7),))
    assert moment(config, {"a": 1}, 1.0).zoom == pytest.approx(2.0)  # log-space half-way
    assert moment(config, {"a": 1}, 1.0).rotate == pytest.approx(10)
    assert moment(config, {"a": 1}, 0.5).rotate == pytest.approx(20 * smoothstep(0.25))
    assert moment(config, {"a": 1}, 9.0).zoom == pytest.approx(4.0)
    assert moment(config, {"a": 1}, 9.0).steps == 7
    assert smoothstep(0) == 0 and smoothstep(1) == 1 and smoothstep(0.5) == 0.5


def test_layer_weights_cross_fade():
    config = ZoomConfig(keyframes=(Keyframe(4, layers=(("fire3", 2.0),)),))
    assert layer_names(config, {"fire5": 1.0}) == ("fire5", "fire3")
    assert moment(config, {"fire5": 1.0}, 0.0).layers == {"fire5": 1.0, "fire3": 0.0}
    assert moment(config, {"fire5": 1.0}, 2.0).layers == pytest.approx({"fire5": 0.5, "fire3": 1.0})
    assert moment(config, {"fire5": 1.0}, 5.0).layers == {"fire5": 0.0, "fire3": 2.0}


def test_parse_keyframe():
    k = parse_keyframe("0:04 zoom=2 rotate=-5 pan=10,0 steps=4 layers=fire3=1,fire5=0.5")
    assert (k.at, k.zoom, k.rotate, k.pan, k.steps) == (4.0, 2.0, -5.0, (10.0, 0.0), 4)
    assert k.layers == (("fire3", 1.0), ("fire5", 0.5))
    for bad, message in [("4 spin=3", "unknown keyframe key"), ("4 zoom=x", "bad keyframe"),
                         ("4 zoom=0", "zoom must be > 0"), ("-1 zoom=2", "seconds >= 0")]:
        with pytest.raises(DreamvideoError, match=message):
            parse_keyframe(bad)


@pytest.mark.parametrize("zoom", [1.0, 0.5])
def test_zoom_out_and_hold_keyframes(zoom):
    """A keyframe zoom of 1 (hold) or below (zoom out) is eased like any other."""
    config = ZoomConfig(zoom=2.0, keyframes=(Keyframe(2, zoom=zoom),))
    assert moment(config, {"a": 1}, 0.0).zoom == pytest.approx(2.0)
    assert moment(config, {"a": 1}, 1.0).zoom == pytest.approx((2.0 * zoom) ** 0.5)  # log-space half-way
    assert moment(config, {"a": 1}, 5.0).zoom == pytest.approx(zoom)
