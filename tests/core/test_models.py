import numpy as np
import pytest

from dreamvideo.config import ModelConfig
from dreamvideo.core.models import MIN_ACTIVATION, load_model, make_extractor
from dreamvideo.errors import DreamvideoError


@pytest.fixture(scope="module")
def squeezenet(squeezenet_weights):
    return load_model(ModelConfig())


def test_squeezenet_default_layers_and_readable_names(squeezenet):
    assert squeezenet.default_layers == (("fire5", 1.0), ("fire7", 1.5))
    assert squeezenet.recommended[:3] == ("conv1", "pool1", "fire2")
    assert "fire9" in squeezenet.recommended and "fire9_squeeze1x1" in squeezenet.dreamable


def test_extractor_is_truncated_at_deepest_layer(squeezenet):
    ex = make_extractor(squeezenet, ["fire3", "fire5"])
    names = {layer.name for layer in ex.model.layers}
    assert "fire5" in names and "pool5" not in names and not any(n.startswith("fire6") for n in names)
    acts = ex(np.zeros((1, 120, 120, 3), np.float32))
    assert set(acts) == {"fire3", "fire5"}


def test_min_size_is_the_smallest_side_that_survives_the_crop(squeezenet):
    ex = make_extractor(squeezenet, ["fire9"])
    shapes = ex.output_shapes(ex.min_size, ex.min_size)
    assert min(shapes["fire9"][:2]) >= MIN_ACTIVATION
    smaller = ex.model.compute_output_shape((1, ex.min_size - 1, ex.min_size - 1, 3))
    assert min(smaller["fire9"][1:3]) < MIN_ACTIVATION
    assert make_extractor(squeezenet, ["conv1"]).min_size < ex.min_size


def test_unknown_layer_lists_valid_ones(squeezenet):
    with pytest.raises(DreamvideoError) as err:
        make_extractor(squeezenet, ["fire10"])
    assert "'fire10'" in str(err.value) and "fire9" in str(err.value) and "--all" in str(err.value)


def test_unknown_model_lists_registry():
    with pytest.raises(DreamvideoError, match="squeezenet, inception_v3, vgg16, vgg19"):
        load_model(ModelConfig(name="alexnet"))


@pytest.mark.parametrize("name, layer, preprocess", [
    ("inception_v3", "mixed5", "tf"), ("vgg16", "block4_conv3", "caffe"), ("vgg19", "block5_conv4", "caffe"),
])
def test_keras_applications_build_with_explicit_random_weights(name, layer, preprocess):
    loaded = load_model(ModelConfig(name=name, weights="none"))
    assert loaded.preprocess == preprocess
    assert layer in loaded.recommended
    ex = make_extractor(loaded, [layer])
    assert ex.min_size >= 32


def test_missing_published_weights_offline_error(tmp_path, monkeypatch):
    """No file anywhere and no network: one line naming the address and the env var."""
    from dreamvideo.core import models
    from dreamvideo.core.weights import WeightsFile

    monkeypatch.setenv("DREAMVIDEO_WEIGHTS_DIR", str(tmp_path))
    spec = models.REGISTRY["vgg16"]
    fake = WeightsFile("missing.h5", "http://127.0.0.1:9/missing.h5", spec.weights.file_hash)
    monkeypatch.setitem(models.REGISTRY, "vgg16", type(spec)(spec.build, spec.preprocess, fake,
                                                              spec.recommended, spec.default_layers))
    with pytest.raises(DreamvideoError, match=r"missing\.h5 is not in \$DREAMVIDEO_WEIGHTS_DIR .*"
                                              r"127\.0\.0\.1:9/missing\.h5"):
        load_model(ModelConfig(name="vgg16"))


def test_user_keras_file(tiny_keras_file):
    loaded = load_model(ModelConfig(name=str(tiny_keras_file), preprocess="torch"))
    assert loaded.dreamable == ("a", "b") and loaded.preprocess == "torch"
    assert make_extractor(loaded, ["b"]).min_size == MIN_ACTIVATION


def test_user_keras_file_errors(tmp_path):
    import keras

    fixed = keras.Sequential([keras.Input((64, 64, 3)), keras.layers.Conv2D(4, 3, name="c")])
    fixed.save(tmp_path / "fixed.keras")
    with pytest.raises(DreamvideoError, match="fixed input size 64x64"):
        load_model(ModelConfig(name=str(tmp_path / "fixed.keras")))
    (tmp_path / "junk.keras").write_bytes(b"junk")
    with pytest.raises(DreamvideoError, match="cannot load Keras model"):
        load_model(ModelConfig(name=str(tmp_path / "junk.keras")))
    with pytest.raises(DreamvideoError, match="does not exist"):
        load_model(ModelConfig(name=str(tmp_path / "absent.keras")))


def test_application_loads_a_keras2_style_weights_file(tmp_path):
    """The published notop files are Keras 2 HDF5; write one and load it through --weights."""
    import h5py
    import keras
    from keras.src.legacy.saving.legacy_h5_format import save_weights_to_hdf5_group

    donor = keras.applications.VGG16(include_top=False, weights=None, input_shape=(None, None, 3))
    path = tmp_path / "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
    with h5py.File(path, "w") as f:
        save_weights_to_hdf5_group(f, donor)
    loaded = load_model(ModelConfig(name="vgg16", weights=str(path)))
    np.testing.assert_array_equal(loaded.network.get_layer("block5_conv3").get_weights()[0],
                                  donor.get_layer("block5_conv3").get_weights()[0])


@pytest.mark.parametrize("name, layers", [
    ("inception_v3", (("mixed2", 1e6),)), ("vgg19", (("block3_conv4", 1e6),)),  # random weights: tiny grads
])
def test_every_registered_model_dreams_through_the_core(name, layers):
    from dreamvideo.config import DreamConfig
    from dreamvideo.core.engine import Engine
    from dreamvideo.render.stills import dream_array

    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (120, 160, 3)).astype(np.uint8)
    out = dream_array(image, Engine(ModelConfig(name=name, weights="none")),
                      DreamConfig(layers=layers, octaves=1, steps=2))
    assert out.shape == image.shape and np.abs(out.astype(int) - image).mean() > 0.5


def test_an_engine_builds_what_it_keeps_once_a_key_and_drops_the_oldest():
    from dreamvideo.core.engine import KEPT, Engine

    engine, built = Engine(ModelConfig(weights="none")), []

    def build(key):
        built.append(key)
        return object()

    first = engine.keep(("size", 0), lambda: build(0))
    assert engine.keep(("size", 0), lambda: build(0)) is first and built == [0]
    for n in range(1, KEPT + 1):
        engine.keep(("size", n), lambda n=n: build(n))
    assert engine.keep(("size", KEPT), lambda: build("again")) is not None and "again" not in built
    assert engine.keep(("size", 0), lambda: build(0)) is not first and built.count(0) == 2  # the oldest went
