"""The octave core on the running backend (TensorFlow by default; the same file runs on
JAX and PyTorch through tests/test_backends.py)."""

import collections
import dataclasses
import itertools
import logging

import cv2
import numpy as np
import pytest

from dreamvideo.config import DreamConfig
from dreamvideo.core.backends import load_keras
from dreamvideo.core.dream import Dreamer, dream
from dreamvideo.core.plan import OctavePlan, octave_shapes, plan_octaves, splits
from dreamvideo.errors import DreamvideoError

ops = load_keras().ops
BACKEND = load_keras().backend.backend()


def _noise(h, w, seed=0):
    rng = np.random.default_rng(seed)
    return (128 + rng.normal(0, 20, (h, w, 3))).clip(0, 255).astype(np.float32)


def _plan(h, w, steps=1, tile=4096, shifts=None):
    shifts = np.zeros((steps, 2), np.int32) if shifts is None else np.asarray(shifts, np.int32)
    return OctavePlan((h, w), splits(h, tile), splits(w, tile), shifts)


def _octave(dreamer, image, plan, step=2.55, max_loss=np.inf, weight=1.0):
    weights = ops.convert_to_tensor(np.full(len(dreamer.extractor.layers), weight, np.float32))
    img, losses, taken = dreamer.octave(ops.convert_to_tensor(image), weights, plan, step, max_loss)
    return ops.convert_to_numpy(img), ops.convert_to_numpy(losses)[:int(taken)]


def test_octave_shapes_grow_to_full_size():
    shapes = octave_shapes(300, 451, 4, 1.4, 50)
    assert shapes[-1] == (300, 451) and len(shapes) == 4
    assert shapes[0] == (round(300 / 1.4**3), round(451 / 1.4**3))
    assert all(a[0] < b[0] and a[1] < b[1] for a, b in itertools.pairwise(shapes))


def test_octaves_below_the_network_minimum_are_dropped_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="dreamvideo"):
        shapes = octave_shapes(200, 300, 6, 1.4, 100)
    assert [min(s) for s in shapes] == [102, 143, 200]
    assert "reduced octaves from 6 to 3" in caplog.text
    with pytest.raises(DreamvideoError, match="at least 250 px"):
        octave_shapes(200, 300, 2, 1.4, 250)


def test_plan_is_seeded_host_side_and_its_rolls_sweep_the_frame():
    config = DreamConfig(octaves=2, steps=5, jitter=8, tile_size=100, seed=3)
    a, b = plan_octaves(300, 451, config, 50), plan_octaves(300, 451, config, 50)
    assert [p.shape for p in a] == [(214, 322), (300, 451)]
    assert all(np.array_equal(x.shifts, y.shifts) for x, y in zip(a, b, strict=True))
    assert a[1].rows == (0, 100, 200, 300) and a[1].cols == (0, 90, 180, 271, 361, 451) and a[1].tiled
    other = plan_octaves(300, 451, DreamConfig(octaves=2, steps=5, jitter=8, tile_size=100, seed=4), 50)
    assert not np.array_equal(a[1].shifts, other[1].shifts)
    # one roll in each fifth of the frame (give or take the jitter), so the band the network
    # cannot see at the rolled image's edges, and the tile seams, are somewhere else each step
    for axis, size in enumerate((300, 451)):
        strata = sorted(((a[1].shifts[:, axis] + 8) * 5 // (size + 16)).tolist())
        assert strata == [0, 1, 2, 3, 4], strata
    untiled = plan_octaves(60, 80, DreamConfig(octaves=1, steps=4, jitter=0), 20)[0]
    assert not untiled.tiled and sorted((untiled.shifts[:, 1] * 4 // 80).tolist()) == [0, 1, 2, 3]


def test_loss_rises_over_steps(engine, cat):
    dreamer = engine.dreamer(("fire4",))
    image = cv2.resize(cat, (240, 160), interpolation=cv2.INTER_AREA).astype(np.float32)
    _, losses = _octave(dreamer, image, _plan(160, 240, steps=12))
    assert len(losses) == 12
    assert losses[-1] > 2 * losses[0]
    assert np.mean(np.diff(losses) > 0) >= 0.8


@pytest.mark.skipif(BACKEND != "tensorflow", reason="TensorFlow traces one graph for every size; "
                                                    "JAX compiles per size (tested below)")
def test_one_graph_for_every_size_and_setting(tiny_extractor):
    dreamer = Dreamer(tiny_extractor)
    _octave(dreamer, _noise(40, 60), _plan(40, 60, steps=2), step=1.0)
    _octave(dreamer, _noise(77, 33), _plan(77, 33, steps=3, shifts=[[1, 2], [3, -4], [0, 0]]), step=3.0)
    _octave(dreamer, _noise(90, 90), _plan(90, 90, tile=32))  # tiled branch too
    assert dreamer._octave.graph.experimental_get_tracing_count() == 1


@pytest.mark.skipif(BACKEND != "jax", reason="JAX's compile cache")
def test_jax_compiles_once_per_size_and_step_count(tiny_extractor):
    dreamer = Dreamer(tiny_extractor)
    for step in (1.0, 2.0, 3.0):  # settings are arguments, not constants: no recompiling
        _octave(dreamer, _noise(40, 60), _plan(40, 60, steps=2, shifts=[[1, 1], [step, 0]]), step=step)
    assert dreamer._octave.jitted._cache_size() == 1


@pytest.mark.skipif(BACKEND != "jax", reason="JAX on the CPU runs an octave step by step from Python")
def test_jax_steps_from_python_are_the_compiled_loops_steps(tiny_extractor):
    import jax

    dreamer = Dreamer(tiny_extractor)
    weights = ops.convert_to_tensor(np.ones(len(dreamer.extractor.layers), np.float32))
    image = ops.convert_to_tensor(_noise(40, 60))
    for tile in (4096, 32):  # whole and tiled
        plan = _plan(40, 60, steps=4, tile=tile, shifts=[[1, 1], [2, 0], [0, -3], [1, 2]])
        full = [dreamer.octave(image, weights, plan, 2.0, np.inf),
                jax.jit(lambda im, p=plan: dreamer.octave(im, weights, p, 2.0, np.inf))(image)]
        (a, la, ta), (b, lb, tb) = ([np.asarray(x) for x in r] for r in full)
        assert ta == tb == 4 and np.allclose(a, b, atol=1e-3) and np.allclose(la, lb, rtol=1e-4)
        stop = float((la[1] + la[2]) / 2)  # past max_loss at the third step: stop before it
        early = [dreamer.octave(image, weights, plan, 2.0, stop),
                 jax.jit(lambda im, p=plan, m=stop: dreamer.octave(im, weights, p, 2.0, m))(image)]
        (a, la, ta), (b, lb, tb) = ([np.asarray(x) for x in r] for r in early)
        assert ta == tb == 3 and np.allclose(a, b, atol=1e-3) and np.allclose(la[:3], lb[:3], rtol=1e-4)


def test_gradient_is_normalised_by_its_mean_absolute_value(tiny_extractor):
    image = _noise(48, 64)
    out, _ = _octave(Dreamer(tiny_extractor), image, _plan(48, 64), step=2.0, weight=1e4)
    assert np.mean(np.abs(out - image)) == pytest.approx(2.0, rel=1e-3)
    # a vanishing gradient is not blown up: the normaliser is floored at 1e-7
    out, _ = _octave(Dreamer(tiny_extractor), image, _plan(48, 64), step=2.0, weight=1e-6)
    assert np.mean(np.abs(out - image)) < 0.01


def test_tiled_step_matches_untiled_away_from_seams(tiny_extractor):
    dreamer = Dreamer(tiny_extractor)
    image = _noise(64, 96, seed=3)
    whole, _ = _octave(dreamer, image, _plan(64, 96), step=1.0)
    tiled, _ = _octave(dreamer, image, _plan(64, 96, tile=32), step=1.0)
    # receptive radius 2 px + 2-pixel crop: pixels 5 or more from any seam or border agree,
    # up to the normaliser (the mean |gradient| differs a little where the seams are)
    near = np.zeros((64, 96), bool)
    for y in (0, 32, 64):
        near[max(0, y - 5):y + 5] = True
    for x in (0, 32, 64, 96):
        near[:, max(0, x - 5):x + 5] = True
    moved = np.where(np.abs(whole - image) > 1e-3, whole - image, np.nan)
    ratio = np.nanmedian(((tiled - image) / moved)[~near])
    np.testing.assert_allclose((tiled - image)[~near], ratio * (whole - image)[~near], rtol=1e-3, atol=1e-3)
    assert not np.allclose((tiled - image)[near], ratio * (whole - image)[near], rtol=1e-3, atol=1e-3)


def test_tiled_octave_dreams_as_strongly_with_seams_never_in_one_place(engine, cat):
    """Tiles of 120 px: the dream is as strong as untiled, and seams wander: no column is
    one in more than 2 of the 8 steps (without the rolls it would be in all 8)."""
    image = cv2.resize(cat, (300, 200), interpolation=cv2.INTER_AREA)
    dreamer = engine.dreamer(("fire4",))
    config = DreamConfig(octaves=1, steps=8, tile_size=120)
    tiled = np.abs(dream(image, dreamer, config, {"fire4": 1.0}) - image).mean()
    whole = np.abs(dream(image, dreamer, dataclasses.replace(config, tile_size=4096), {"fire4": 1.0}) - image)
    assert tiled == pytest.approx(whole.mean(), rel=0.2) and tiled > 4
    plan = plan_octaves(200, 300, config, dreamer.extractor.min_size)[0]
    seams = [(seam - shift) % 300 for shift in plan.shifts[:, 1] for seam in plan.cols[1:-1]]
    assert max(collections.Counter(seams).values()) <= 2 and len(set(seams)) >= 12


def test_same_seed_same_pixels_other_seed_other_pixels(tiny_extractor):
    dreamer = Dreamer(tiny_extractor)
    image = _noise(60, 80)
    config = DreamConfig(octaves=2, steps=4, jitter=8, seed=5)
    a = dream(image, dreamer, config, {"a": 1.0, "b": 1.0})
    b = dream(image, dreamer, config, {"a": 1.0, "b": 1.0})
    c = dream(image, dreamer, DreamConfig(octaves=2, steps=4, jitter=8, seed=6), {"a": 1.0, "b": 1.0})
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_max_loss_stops_an_octave_before_the_step(tiny_extractor):
    image = _noise(40, 40)
    out, losses = _octave(Dreamer(tiny_extractor), image, _plan(40, 40, steps=10), max_loss=1e-12)
    assert len(losses) == 1
    np.testing.assert_array_equal(out, image)


def test_lost_detail_is_reinjected_between_octaves(tiny_extractor):
    """With a vanishing step the octaves must give back the input, not a blurred copy."""
    image = _noise(90, 120).round()
    out = dream(image, Dreamer(tiny_extractor), DreamConfig(octaves=4, steps=1, step_size=1e-9),
                {"a": 1.0, "b": 1.0})
    assert np.abs(out - image).mean() < 0.01
    blurred = cv2.resize(cv2.resize(image, (43, 32), interpolation=cv2.INTER_AREA), (120, 90))
    assert np.abs(blurred - image).mean() > 5  # what skipping the re-injection would cost


def test_output_is_clipped_to_pixel_range(tiny_extractor):
    out = dream(_noise(40, 40), Dreamer(tiny_extractor), DreamConfig(octaves=1, steps=5, step_size=0.5),
                {"a": 1.0, "b": 1.0})
    assert out.min() >= 0 and out.max() <= 255 and np.isfinite(out).all()


def test_bad_shapes_and_small_images(tiny_extractor, engine):
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        dream(np.zeros((10, 10)), Dreamer(tiny_extractor), DreamConfig(), {"a": 1, "b": 1})
    with pytest.raises(DreamvideoError, match="need at least"):
        dream(np.zeros((40, 40, 3)), engine.dreamer(("fire9",)), DreamConfig(), {"fire9": 1})


def test_real_dream_is_strong_on_a_photo(engine, cat):
    image = cv2.resize(cat, (300, 200), interpolation=cv2.INTER_AREA)
    out = dream(image, engine.dreamer(("fire5", "fire7")), DreamConfig(octaves=3),
                {"fire5": 1.0, "fire7": 1.5})
    assert out.shape == image.shape
    assert np.abs(out - image).mean() > 6  # clearly dreamed, 0-255 scale
    lap_in = cv2.Laplacian(image.astype(np.float32), cv2.CV_32F).var()
    assert cv2.Laplacian(out.astype(np.float32), cv2.CV_32F).var() > 2 * lap_in  # new fine structure


@pytest.mark.parametrize("octaves", [None, 1])
def test_a_black_frame_is_dreamt_evenly_to_its_edges(engine, octaves):
    """A featureless frame used to dream into a box of eyes with a hard edge about 60 px
    from the right: the border crop and the valid-padded strided layers left the edges
    without gradient. With a mirrored margin, every band gets its share."""
    config = DreamConfig(octaves=octaves)
    layers = {"fire5": 1.0, "fire7": 1.5}
    dreamer = engine.dreamer(tuple(layers))
    change = dream(np.zeros((180, 320, 3), np.float32), dreamer, config, layers).mean(axis=2)
    bands = {"left": change[:, :40], "right": change[:, -40:], "top": change[:22], "bottom": change[-22:]}
    means = {name: float(band.mean()) for name, band in bands.items()}
    assert all(m > 0.7 * change.mean() for m in means.values()), (means, change.mean())
