import numpy as np
import pytest

from dreamvideo.core.preprocess import get_preprocessor
from dreamvideo.errors import DreamvideoError


def _ops():
    from dreamvideo.core.backends import load_keras

    return load_keras().ops


def test_caffe_swaps_to_bgr_and_subtracts_mean():
    out = _ops().convert_to_numpy(get_preprocessor("caffe")(np.array([[[10.0, 20.0, 30.0]]], np.float32)))
    np.testing.assert_allclose(out[0, 0], [30 - 103.939, 20 - 116.779, 10 - 123.68], rtol=1e-6)


def test_tf_scales_to_minus_one_one():
    out = _ops().convert_to_numpy(get_preprocessor("tf")(np.array([0.0, 127.5, 255.0], np.float32)))
    np.testing.assert_allclose(out, [-1, 0, 1])


def test_torch_uses_imagenet_mean_std():
    out = _ops().convert_to_numpy(get_preprocessor("torch")(np.full((1, 1, 3), 255.0, np.float32)))
    np.testing.assert_allclose(out[0, 0], (1 - np.array([0.485, 0.456, 0.406])) / [0.229, 0.224, 0.225],
                               rtol=1e-5)


def test_unknown_preprocessing_lists_choices():
    with pytest.raises(DreamvideoError, match="caffe, tf, torch"):
        get_preprocessor("imagenet")
