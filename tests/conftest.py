"""Shared fixtures: the real SqueezeNet weights, tiny random models, small images."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples" / "inputs"
WEIGHTS_DIR = Path(os.environ.get("DREAMVIDEO_WEIGHTS_DIR", ROOT.parent / "shared" / "models")).resolve()
SQUEEZENET_FILE = "squeezenet_weights_tf_dim_ordering_tf_kernels_notop.h5"


os.environ["DREAMVIDEO_WEIGHTS_DIR"] = str(WEIGHTS_DIR)  # before any fixture loads a model


@pytest.fixture(scope="session")
def squeezenet_weights() -> Path:
    path = WEIGHTS_DIR / SQUEEZENET_FILE
    if not path.is_file():
        pytest.fail(f"real SqueezeNet weights not found at {path}; set DREAMVIDEO_WEIGHTS_DIR")
    return path


@pytest.fixture(scope="session")
def cat() -> np.ndarray:
    """Chelsea the cat, 300x451 RGB uint8 (CC0, from scikit-image's data)."""
    import imageio.v3 as iio

    return iio.imread(SAMPLES / "chelsea.jpg")


def tiny_network(kind: str = "functional"):
    """Two 3x3 convolutions (receptive field 5 px) with seeded NumPy weights, the same on
    every backend; any input size."""
    from dreamvideo.backends import load_keras

    keras = load_keras()
    inputs = keras.Input(shape=(None, None, 3))
    a = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="a")(inputs)
    b = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="b")(a)
    model = keras.Model(inputs, b, name="tiny")
    rng = np.random.default_rng(1)
    model.set_weights([rng.normal(0, 0.3, w.shape).astype(np.float32) for w in model.get_weights()])
    return model


@pytest.fixture(scope="session")
def tiny_keras_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("models") / "tiny.keras"
    tiny_network().save(path)
    return path


def tiny_extractor_for():
    """Extractor over the tiny network's layers a and b (tf preprocessing)."""
    from dreamvideo.models import LoadedModel, dreamable_layers, make_extractor

    net = tiny_network()
    loaded = LoadedModel("tiny", net, "tf", dreamable_layers(net), (("b", 1.0),))
    return make_extractor(loaded, ["a", "b"])


@pytest.fixture(scope="session")
def tiny_extractor():
    return tiny_extractor_for()
