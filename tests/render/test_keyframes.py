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


def test_video_schedules_ease_the_dream_settings():
    from dreamvideo.config import DreamConfig, TemporalConfig
    from dreamvideo.render.keyframes import video_moment

    temporal = TemporalConfig(later_steps=2, carry=1.0, keyframes=(
        parse_keyframe("1 step_size=0.012 steps=4 carry=0.5 guide_weight=0.2 layers=fire3=1"),))
    dream = DreamConfig(step_size=0.006, guide_weight=1.0)
    start, half, after = (video_moment(temporal, dream, {"fire7": 1.0}, t) for t in (0.0, 0.5, 3.0))
    assert (start.step_size, start.steps, start.carry, start.guide_weight) == (0.006, 2, 1.0, 1.0)
    assert start.layers == {"fire7": 1.0, "fire3": 0.0}
    assert half.step_size == pytest.approx(0.009) and half.carry == pytest.approx(0.75) and half.steps == 3
    assert half.layers == pytest.approx({"fire7": 0.5, "fire3": 0.5})
    assert (after.step_size, after.steps, after.carry, after.guide_weight) == (0.012, 4, 0.5, 0.2)
    ramp_in = TemporalConfig(keyframes=(Keyframe(0, step_size=0.001), Keyframe(1, step_size=0.006)))
    assert video_moment(ramp_in, dream, {"a": 1}, 0.0).step_size == 0.001  # a keyframe at 0 replaces the base
    assert video_moment(ramp_in, dream, {"a": 1}, 1.0).step_size == 0.006


def test_keys_that_mean_nothing_to_a_command_are_refused():
    from dreamvideo.config import TemporalConfig

    with pytest.raises(DreamvideoError, match="zoom only"):
        TemporalConfig(keyframes=(parse_keyframe("2 zoom=2"),))
    with pytest.raises(DreamvideoError, match="video only"):
        ZoomConfig(keyframes=(parse_keyframe("2 carry=0.5"),))
    with pytest.raises(DreamvideoError, match="carry must be in"):
        parse_keyframe("2 carry=1.5")
    assert parse_keyframe("2 step_size=0.01").step_size == 0.01


def test_zoom_moments_carry_the_dream_schedule_too():
    from dreamvideo.config import DreamConfig

    config = ZoomConfig(keyframes=(parse_keyframe("2 step_size=0.01 guide_weight=0"),))
    m = moment(config, {"a": 1}, 1.0, DreamConfig(step_size=0.004, guide_weight=1.0))
    assert m.step_size == pytest.approx(0.007) and m.guide_weight == pytest.approx(0.5)
    assert moment(config, {"a": 1}, 1.0).step_size is None  # without the dream: not asked
