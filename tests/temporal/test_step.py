"""The frame step (temporal/step.py): sense → decide → fresh → carry → light → mix where
the dream runs, one program a frame where the backend compiles whole steps. The dreams
here are stand-ins (a blob added, or nothing), so what moves is the carry's doing."""

import cv2
import numpy as np
import pytest

from dreamvideo.config import TemporalConfig
from dreamvideo.core.backends import load_keras, module
from dreamvideo.core.device import to_host
from dreamvideo.errors import DreamvideoError
from dreamvideo.temporal.carry import Dreams
from dreamvideo.temporal.modes import TemporalDreamer
from dreamvideo.temporal.motion import Motion

ops = load_keras().ops
IN_STEP = TemporalConfig(flow="device", flow_size=None, mask_softness=0)  # the flow computed in the step


def _texture(h=96, w=128, seed=0):
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.uniform(0, 255, (h, w)).astype(np.float32), (0, 0), 2.0)
    noise = (noise - noise.min()) / (noise.max() - noise.min()) * 200 + 20
    return np.dstack([noise] * 3).astype(np.uint8)


def _pan(n, shift=3, h=96, w=128, seed=0):
    big = _texture(h, w + shift * n, seed)  # content moves right by `shift` px per frame
    return [np.ascontiguousarray(big[:, shift * (n - t):shift * (n - t) + w]) for t in range(n)]


def _blob(shape):
    pattern = np.zeros(shape, np.float32)
    pattern[40:56, 40:56] = 30
    return ops.convert_to_tensor(pattern)


def _recording(calls, blob):
    """Dreams that say when they run (on a compiled step: when they are traced)."""
    def full(f, _):
        calls.append("full")
        return f + blob

    def light(f, _):
        calls.append("light")
        return f

    return Dreams(full, light)


def test_the_step_finds_the_motion_carries_the_dream_and_restarts_at_a_cut():
    frames = [*_pan(4), *_pan(2, seed=5)]  # a pan, then another picture panning: a cut at frame 4
    td = TemporalDreamer(IN_STEP, _recording([], _blob(frames[0].shape)))
    outs, cuts = [], []
    for frame in frames:
        outs.append(to_host(td(Motion(frame))).astype(np.float32) - frame)
        cuts.append(td.cut)
    assert cuts == [False, False, False, False, True, False]
    ys, xs = np.nonzero(outs[2].mean(axis=2) > 10)
    assert abs(xs.mean() - (47.5 + 6)) < 1.5 and abs(ys.mean() - 47.5) < 1.5  # moved 2 x 3 px right
    ys, xs = np.nonzero(outs[4].mean(axis=2) > 10)
    assert abs(xs.mean() - 47.5) < 1 and abs(ys.mean() - 47.5) < 1  # dreamed fresh where it began
    assert td.cuts == 1 and td.full == {"start": 1, "scene cut": 1, "fade-in": 0, "low mask coverage": 0}


def _compiled(program):
    """How many programs a compiled step holds (JAX: jitted; TensorFlow: traced graphs)."""
    if hasattr(program, "_cache_size"):
        return program._cache_size()
    return program.graph.experimental_get_tracing_count()


def test_one_program_for_every_kind_of_frame_where_the_backend_compiles_whole_steps():
    """Carried frames, a cut, a frame with many distrusted pixels: on JAX and TensorFlow
    one program (and a small one for the first frame), traced once with both branches; op
    by op, only the branch taken runs. A second render with the same dreams compiles nothing."""
    frames = _pan(3)
    revealed = frames[2].copy()
    revealed[:, :40] = _texture(96, 40, seed=9)  # a third of the frame newly revealed
    frames += [revealed, _texture(seed=7)]
    calls = []
    td = TemporalDreamer(IN_STEP, _recording(calls, _blob(frames[0].shape)))
    for frame in frames:
        td(Motion(frame))
    assert td.full == {"start": 1, "scene cut": 1, "fade-in": 0, "low mask coverage": 1}
    if module().WHOLE_STEPS:
        assert calls == ["full", "full", "light"]  # the first frame's program, then the later frames'
        assert _compiled(td.mode.programs.first) == _compiled(td.mode.programs.later) == 1
        again = TemporalDreamer(IN_STEP, td.mode.dreams)
        for frame in frames:
            again(Motion(frame))
        assert again.mode.programs is td.mode.programs and len(calls) == 3
        assert _compiled(td.mode.programs.later) == 1
    else:
        assert calls == ["full", "light", "light", "full", "light", "full"]


def test_frames_with_nothing_to_follow_never_put_nan_in_what_is_carried():
    """A flow that cannot be found (flat black, one colour, noise) counts as no motion:
    nothing carried, nothing undefined kept for the next frame."""
    noise = np.random.default_rng(1).integers(0, 256, (96, 128, 3)).astype(np.uint8)
    black, flat = np.zeros((96, 128, 3), np.uint8), np.full((96, 128, 3), 90, np.uint8)
    frames = [black, black, flat, flat, noise, noise, *_pan(2), black, noise]
    td = TemporalDreamer(IN_STEP, _recording([], _blob(frames[0].shape)))
    for frame in frames:
        out = to_host(td(Motion(frame)))
        for tensor in load_keras().tree.flatten(td.mode.carried):
            assert np.isfinite(to_host(tensor)).all()
        assert out.shape == frame.shape


def test_a_step_restored_from_its_state_makes_the_same_frames():
    frames = _pan(6)
    blob = _blob(frames[0].shape)
    whole = TemporalDreamer(IN_STEP, _recording([], blob))
    outs = [to_host(whole(Motion(f))) for f in frames[:3]]
    arrays, values = whole.state()
    outs += [to_host(whole(Motion(f))) for f in frames[3:]]
    resumed = TemporalDreamer(IN_STEP, _recording([], blob))
    resumed.restore(arrays, values)
    for f, out in zip(frames[3:], outs[3:], strict=True):
        assert np.array_equal(to_host(resumed(Motion(f))), out)
    assert resumed.full == whole.full
    older = {k: v for k, v in arrays.items() if k != "luminance"}  # a state saved before the step kept it
    with pytest.raises(DreamvideoError, match=r"saved by an older dreamvideo.*--force"):
        TemporalDreamer(IN_STEP, _recording([], blob)).restore(older, values)
