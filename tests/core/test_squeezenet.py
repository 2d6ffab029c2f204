import h5py
import numpy as np
import pytest

from dreamvideo.core.squeezenet import LAYERS, build_squeezenet, load_squeezenet_weights
from dreamvideo.errors import DreamvideoError


def test_architecture_shapes_for_imagenet_input():
    net = build_squeezenet()
    assert [layer.name for layer in net.layers if layer.name in LAYERS] == list(LAYERS)
    assert net.compute_output_shape((1, 224, 224, 3)) == (1, 13, 13, 512)
    assert net.get_layer("fire2").output.shape[-1] == 128  # expand1x1 + expand3x3


def test_real_weights_are_copied_by_name(squeezenet_weights):
    net = build_squeezenet()
    load_squeezenet_weights(net, str(squeezenet_weights))
    with h5py.File(squeezenet_weights) as f:
        want = np.asarray(f["fire9/expand3x3"]["fire9/expand3x3_1/kernel:0"])
        conv1_bias = np.asarray(f["conv1"]["conv1_3/bias:0"])
    np.testing.assert_array_equal(net.get_layer("fire9_expand3x3").get_weights()[0], want)
    np.testing.assert_array_equal(net.get_layer("conv1").get_weights()[1], conv1_bias)


def test_wrong_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.h5"
    with h5py.File(bad, "w") as f:
        f.create_group("conv1")
    with pytest.raises(DreamvideoError, match=r"no weights for layer|does not match"):
        load_squeezenet_weights(build_squeezenet(), str(bad))
    garbage = tmp_path / "garbage.h5"
    garbage.write_bytes(b"not hdf5")
    with pytest.raises(DreamvideoError, match="cannot read SqueezeNet weights"):
        load_squeezenet_weights(build_squeezenet(), str(garbage))


def test_min_input_size_without_tensorflow_matches_the_built_extractor():
    """`--help` states the minimum size without building the network: same numbers."""
    from dreamvideo.core.models import REGISTRY, LoadedModel, dreamable_layers, make_extractor
    from dreamvideo.core.squeezenet import DEFAULT_LAYERS, min_input_size

    net = build_squeezenet()
    squeezenet = LoadedModel("squeezenet", net, "caffe", LAYERS, DEFAULT_LAYERS)
    assert set(LAYERS) <= set(dreamable_layers(net))

    assert REGISTRY["squeezenet"].default_layers == DEFAULT_LAYERS
    for layers in [*((name,) for name in LAYERS), tuple(name for name, _ in DEFAULT_LAYERS)]:
        assert min_input_size(layers) == make_extractor(squeezenet, layers).min_size, layers
    assert min_input_size(("fire5", "fire7")) == 95
