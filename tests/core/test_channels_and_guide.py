import numpy as np
import pytest

from dreamvideo.config import DreamConfig
from dreamvideo.core.ascent import guided_loss
from dreamvideo.core.backends import load_keras
from dreamvideo.core.dream import Dreamer, dream, loss_weights
from dreamvideo.core.guide import guide_features, guided
from dreamvideo.core.models import LoadedModel, dreamable_layers, make_extractor
from dreamvideo.errors import DreamvideoError
from tests.conftest import tiny_network

ops = load_keras().ops


def _loaded():
    net = tiny_network()
    return LoadedModel("tiny", net, "tf", dreamable_layers(net), (("b", 1.0),))


def _image(seed=0, h=40, w=48):
    return np.random.default_rng(seed).uniform(0, 255, (h, w, 3)).astype(np.float32)


def test_a_term_may_be_some_channels_of_a_layer():
    extractor = make_extractor(_loaded(), ["b", "b:2", "a:1-3"])
    features = extractor(ops.convert_to_tensor(_image()[None]))
    whole = ops.convert_to_numpy(features["b"])
    np.testing.assert_array_equal(ops.convert_to_numpy(features["b:2"]), whole[..., 2:3])
    assert ops.convert_to_numpy(features["a:1-3"]).shape[-1] == 3
    assert extractor.output_shapes(40, 48)["a:1-3"] == (40, 48, 3)


def test_channels_out_of_range_say_which_there_are():
    with pytest.raises(DreamvideoError, match="channels 0-7"):
        make_extractor(_loaded(), ["b:8"])


def test_one_channel_dream_differs_from_another():
    dreamer = Dreamer(make_extractor(_loaded(), ["b:0", "b:1"]))  # one compiled loop for both
    config = DreamConfig(octaves=1, steps=4, step_size=0.02, seed=1)
    image = _image(3)
    one = dream(image, dreamer, config, {"b:0": 1.0, "b:1": 0.0})
    other = dream(image, dreamer, config, {"b:0": 0.0, "b:1": 1.0})
    assert np.abs(one - other).mean() > 0.5


def test_guided_loss_is_the_best_match_per_position():
    rng = np.random.default_rng(0)
    act = rng.normal(size=(1, 9, 10, 4)).astype(np.float32)
    guide = rng.normal(size=(7, 4)).astype(np.float32)
    inner = act[0, 2:-2, 2:-2].reshape(-1, 4)
    expected = (inner @ guide.T).max(axis=1).sum() / act.size
    got = float(ops.convert_to_numpy(guided_loss(ops.convert_to_tensor(act), ops.convert_to_tensor(guide))))
    assert got == pytest.approx(expected, rel=1e-5)


def test_guide_features_and_weights():
    extractor = make_extractor(_loaded(), ["a", "b"])
    features = guide_features(extractor, _image(1, 120, 100))
    assert features["a"].shape == (1024, 8)  # (116 x 96) positions, subsampled
    plain = Dreamer(extractor)
    assert list(loss_weights(plain, {"a": 1.0, "b": 2.0}, 0.25)) == [1.0, 2.0]  # no guide: as before
    steered = Dreamer(guided(extractor, _image(1, 120, 100)))
    assert list(loss_weights(steered, {"a": 1.0, "b": 2.0}, 0.25)) == [0.75, 1.5, 0.25, 0.5]


def test_guide_weight_zero_is_the_plain_dream():
    extractor = make_extractor(_loaded(), ["b"])
    guide = np.zeros((60, 60, 3), np.float32)
    guide[:, ::4] = 255  # vertical stripes
    steered = Dreamer(guided(extractor, guide))
    image, config = _image(5), DreamConfig(octaves=1, steps=6, step_size=0.02, seed=2, guide="x")
    plain = dream(image, Dreamer(extractor), config, {"b": 1.0})
    off = dream(image, steered, DreamConfig(**{**vars(config), "guide_weight": 0.0}), {"b": 1.0})
    on = dream(image, steered, config, {"b": 1.0})
    np.testing.assert_allclose(off, plain, atol=0.05)
    assert np.abs(on - plain).mean() > 1.0


def test_a_guided_dream_grows_the_guides_features(engine, cat):
    """The guided objective of Google's notebook, with the real network: the pooled
    features of a guided dream point more towards the guide's than a plain dream's do."""
    import cv2

    from dreamvideo.media.images import read_still
    from tests.conftest import SAMPLES

    photo = cv2.resize(read_still(SAMPLES / "coffee.jpg").rgb, (192, 128), interpolation=cv2.INTER_AREA)
    config = DreamConfig(layers=(("fire5", 0.5), ("fire7", 1.0)), steps=8, step_size=0.01, seed=1)
    guide = str(SAMPLES / "chelsea.jpg")
    dreamer, layers = engine.prepare(DreamConfig(**{**vars(config), "guide": guide}), 128, 192)
    plain_dreamer, _ = engine.prepare(config, 128, 192)
    steered = dream(photo, dreamer, DreamConfig(**{**vars(config), "guide": guide}), layers)
    plain = dream(photo, plain_dreamer, config, layers)
    extractor = plain_dreamer.extractor

    def pooled(rgb):
        act = extractor(ops.convert_to_tensor(rgb[None].astype(np.float32)))["fire7"]
        return ops.convert_to_numpy(act)[0].mean(axis=(0, 1))

    def cosine(a, b):
        return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))

    target = pooled(cv2.resize(cat, (192, 128), interpolation=cv2.INTER_AREA))
    assert cosine(pooled(steered), target) > cosine(pooled(plain), target) + 0.03
