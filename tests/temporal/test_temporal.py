import cv2
import numpy as np
import pytest

from dreamvideo.config import TemporalConfig
from dreamvideo.core.backends import load_keras, module
from dreamvideo.temporal.carry import Dreams
from dreamvideo.temporal.modes import TemporalDreamer
from dreamvideo.temporal.motion import Motion, with_motion

ops = load_keras().ops  # the dream functions take and give device tensors


def _texture(h=96, w=160, seed=0):
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.uniform(0, 255, (h, w)).astype(np.float32), (0, 0), 2.0)
    noise = (noise - noise.min()) / (noise.max() - noise.min()) * 200 + 20
    return np.dstack([noise] * 3).astype(np.uint8)


def _pan(n=4, shift=3, h=96, w=128):
    big = _texture(h, w + shift * n)
    # content moves right by `shift` px per frame
    return [np.ascontiguousarray(big[:, shift * (n - t):shift * (n - t) + w]) for t in range(n)]


def test_with_motion_flags_cuts_and_skips_flow_when_not_needed():
    a, b = _texture(seed=1), _texture(seed=2)
    motions = list(with_motion([a, np.roll(a, 2, axis=1), b], TemporalConfig()))
    assert motions[0].backward is None and not motions[0].cut
    assert motions[1].backward is not None and not motions[1].cut and motions[1].mask.mean() > 0.8
    assert motions[2].cut  # an unrelated picture: a new shot
    plain = list(with_motion([a, a], TemporalConfig(mode="blend")))
    assert all(m.backward is None for m in plain)


def test_flow_workers_as_processes_find_what_threads_find():
    frames = [*_pan(5), _texture(w=128, seed=3)]
    threads = list(with_motion(frames, TemporalConfig(flow_workers=2)))
    processes = list(with_motion(frames, TemporalConfig(flow_workers=2, flow_pool="processes")))
    assert [m.cut for m in processes] == [m.cut for m in threads] == [False] * 5 + [True]
    for a, b in zip(threads[1:], processes[1:], strict=True):
        assert np.array_equal(a.backward, b.backward) and np.array_equal(a.mask, b.mask)
        assert a.distrusted == b.distrusted == float((a.mask < 0.5).mean())


def test_flow_carries_the_residual_along_the_motion():
    frames = _pan()
    pattern = np.zeros(frames[0].shape, np.float32)
    pattern[40:56, 40:56] = 30  # a "dream" blob on the first frame
    pattern = ops.convert_to_tensor(pattern)

    td = TemporalDreamer(TemporalConfig(carry=1.0, mask_softness=0),
                         Dreams(lambda f, _: f + pattern, lambda f, _: f))
    outs = [ops.convert_to_numpy(td(m)) for m in with_motion(frames, TemporalConfig(mask_softness=0))]
    residual = outs[2].astype(np.float32) - frames[2]
    ys, xs = np.nonzero(residual.mean(axis=2) > 10)
    assert abs(xs.mean() - (47.5 + 6)) < 1.5 and abs(ys.mean() - 47.5) < 1.5  # moved 2 x 3 px right


def test_carried_dream_neither_intensifies_nor_drifts_in_colour():
    frames = [_texture()] * 12
    rng = np.random.default_rng(0)
    pattern = ops.convert_to_tensor(rng.normal(0, 10, frames[0].shape).astype(np.float32))
    td = TemporalDreamer(TemporalConfig(), Dreams(lambda f, _: f + pattern,
                                                  lambda f, _: f + 0.5 * pattern + 4.0))
    outs = [ops.convert_to_numpy(td(m)) for m in with_motion(frames, TemporalConfig())]
    fresh = np.abs(outs[0].astype(np.float32) - frames[0]).mean()
    last = outs[-1].astype(np.float32) - frames[-1]
    assert np.abs(last).mean() < 1.8 * fresh  # without the cap: 1 + 11 x 0.5 = 6.5 x
    assert last.mean() < 4.0 + 1.0  # brightness +4 per frame does not pile up


def test_cut_restarts_and_none_and_blend_modes():
    calls = []

    def first(f, _):
        calls.append("first")
        return f + 10

    def later(f, _):
        calls.append("later")
        return f - 5

    a = _texture()
    td = TemporalDreamer(TemporalConfig(), Dreams(first, later))
    td(Motion(a))
    out = td(Motion(a, np.zeros((*a.shape[:2], 2), np.float32), np.ones(a.shape[:2], np.float32), cut=True))
    assert np.abs(ops.convert_to_numpy(out) - (a + 10.0)).max() <= 0.5 and td.cuts == 1  # fresh: not 10 - 5
    if not module().WHOLE_STEPS:  # op by op, only the branch taken runs (compiled, both are traced once)
        assert calls == ["first", "first"]

    calls.clear()
    none = TemporalDreamer(TemporalConfig(mode="none"), Dreams(first, later))
    for m in with_motion([a, a, a], TemporalConfig(mode="none")):
        none(m)
    assert calls == ["first"] * 3

    seen = []
    blend = TemporalDreamer(TemporalConfig(mode="blend", blend=0.25),
                            Dreams(lambda f, _: seen.append(np.array(ops.convert_to_numpy(f))) or f + 40,
                                   later))
    blend(Motion(a))
    blend(Motion(a))
    np.testing.assert_allclose(seen[1], a.astype(np.float32) + 0.25 * 40, atol=1e-4)


def test_cut_detector_tells_a_fade_from_a_cut(media):
    """Luminance-normalised flow: a fade from black is one shot; two scenes are two."""
    from dreamvideo.media.sources import read_frames

    cuts = {name: [i for i, m in enumerate(with_motion(read_frames(clip), TemporalConfig())) if m.cut]
            for name, clip in (("fade", media.fade(True)), ("cut", media.hard_cut))}
    assert cuts == {"fade": [], "cut": [12]}


def test_flow_at_its_own_size_is_in_pixels_of_that_size():
    frames = _pan(n=3, shift=6, h=96, w=128)
    motions = list(with_motion(frames, TemporalConfig(flow_size=64)))
    assert motions[1].backward.shape == (48, 64, 2)  # 128 px wide frames, flow 64 wide
    inner = motions[1].backward[8:-8, 8:-8, 0]
    assert np.median(inner) == pytest.approx(-3.0, abs=0.5)  # 6 px at full size is 3 px at half


def test_frame_settings_reach_both_dreams_and_the_carry():
    """A schedule's settings (step scale, steps, carry) reach the dreams as arguments (on
    JAX as traced values of the compiled frame step); carry 0 drops the carried dream."""
    from dreamvideo.temporal.carry import FrameSettings

    frames = _pan(n=3)
    td = TemporalDreamer(TemporalConfig(), Dreams(lambda f, s: f + 30.0 * s.step_scale,
                                                  lambda f, s: f + s.step_scale * (s.steps or 0)))
    motions = list(with_motion(frames, TemporalConfig()))
    first = ops.convert_to_numpy(td(motions[0], FrameSettings(step_scale=0.5))).astype(np.float32)
    kept = ops.convert_to_numpy(td(motions[1], FrameSettings(step_scale=2.0, steps=5))).astype(np.float32)
    dropped = ops.convert_to_numpy(td(motions[2], FrameSettings(carry=0.0))).astype(np.float32)
    assert (first - frames[0]).mean() == pytest.approx(15, abs=0.6)
    inner = (slice(16, -16), slice(24, -24))
    assert (kept - frames[1])[inner].mean() == pytest.approx(15 + 2.0 * 5, abs=1.5)  # carried + 10
    assert np.abs(dropped - frames[2]).mean() < 1  # carry 0, no steps: nothing added
