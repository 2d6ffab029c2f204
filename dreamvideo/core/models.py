"""Model registry and the truncated feature extractor the dream maximises.

A model is a Keras network that takes RGB images of any size; the extractor is that
network cut at the deepest requested layer (a functional sub-model computes only the
layers its outputs need), with the model's own preprocessing in front.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dreamvideo.config import ModelConfig, split_channels
from dreamvideo.core import squeezenet
from dreamvideo.core.backends import STATUS_LOG, device, load_keras, select
from dreamvideo.core.preprocess import get_preprocessor
from dreamvideo.core.weights import WeightsFile, resolve_weights
from dreamvideo.errors import DreamvideoError

if TYPE_CHECKING:  # Keras loads when a network is built, after the backend is chosen
    import keras

_KERAS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"
MIN_ACTIVATION = 5  # the loss crops 2 pixels per border, so 5 is the least that counts


@dataclass(frozen=True)
class ModelSpec:
    """What the registry knows about a named model."""

    build: Callable[[str | None], keras.Model]
    preprocess: str
    weights: WeightsFile
    recommended: Callable[[str], bool]  # which layers `dreamvideo layers` lists
    default_layers: tuple[tuple[str, float], ...]


def _build_squeezenet(path: str | None) -> keras.Model:
    model = squeezenet.build_squeezenet()
    if path is not None:
        squeezenet.load_squeezenet_weights(model, path)
    return model


def _application(cls_name: str) -> Callable[[str | None], keras.Model]:
    def build(path: str | None) -> keras.Model:
        cls = getattr(load_keras().applications, cls_name)
        try:
            return cls(include_top=False, weights=path, input_shape=(None, None, 3))
        except (OSError, ValueError) as e:
            raise DreamvideoError(f"cannot load {cls_name} weights from {path}: {e}") from None
    return build


REGISTRY: dict[str, ModelSpec] = {
    "squeezenet": ModelSpec(
        _build_squeezenet, "caffe",
        WeightsFile("squeezenet_weights_tf_dim_ordering_tf_kernels_notop.h5",
                    "https://github.com/rcmalli/keras-squeezenet/releases/download/v1.0/"
                    "squeezenet_weights_tf_dim_ordering_tf_kernels_notop.h5",
                    "2d935d8c102ad1232484a77da8e6fbdf3ff4ab608974a0d8b6283115ffff204f"),
        lambda name: name in squeezenet.LAYERS,
        (("fire5", 1.0), ("fire7", 1.5))),
    "inception_v3": ModelSpec(
        _application("InceptionV3"), "tf",
        WeightsFile("inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
                    _KERAS_URL + "inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
                    "bcbd6486424b2319ff4ef7d526e38f63"),
        lambda name: name.startswith("mixed") and "_" not in name,
        (("mixed3", 1.0), ("mixed5", 1.5))),
    "vgg16": ModelSpec(
        _application("VGG16"), "caffe",
        WeightsFile("vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
                    _KERAS_URL + "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
                    "6d6bbae143d832006294945121d1f1fc"),
        lambda name: name.startswith("block"),
        (("block4_conv3", 1.0), ("block5_conv2", 0.5))),
    "vgg19": ModelSpec(
        _application("VGG19"), "caffe",
        WeightsFile("vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
                    _KERAS_URL + "vgg19/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
                    "253f8cb515780f3b799900260a226db6"),
        lambda name: name.startswith("block"),
        (("block4_conv4", 1.0), ("block5_conv2", 0.5))),
}


@dataclass(frozen=True)
class LoadedModel:
    """A full (untruncated) network with what is needed to dream on it."""

    name: str
    network: keras.Model
    preprocess: str
    recommended: tuple[str, ...]
    default_layers: tuple[tuple[str, float], ...]
    precision: str = "float32"

    @functools.cached_property
    def dreamable(self) -> tuple[str, ...]:
        """Every layer with an image-shaped (N, H, W, C) output, in network order."""
        return dreamable_layers(self.network)


def dreamable_layers(network: keras.Model) -> tuple[str, ...]:
    """Names of the layers whose output is an image-shaped (N, H, W, C) tensor."""
    return tuple(layer.name for layer in network.layers
                 if not isinstance(layer, load_keras().layers.InputLayer)
                 and len(layer.output.shape) == 4)


def _load_keras_file(path: Path, preprocess: str | None) -> LoadedModel:
    if not path.is_file():
        raise DreamvideoError(f"model file {path} does not exist")
    try:
        network = load_keras().models.load_model(path, compile=False)
    except Exception as e:  # Keras raises many types for a bad archive
        raise DreamvideoError(f"cannot load Keras model {path}: {str(e).splitlines()[0]}") from None
    shape = tuple(network.inputs[0].shape)
    if len(shape) != 4 or shape[-1] != 3:
        raise DreamvideoError(f"{path} takes inputs of shape {shape}; dreaming needs (None, H, W, 3)")
    if shape[1] is not None or shape[2] is not None:
        raise DreamvideoError(f"{path} has a fixed input size {shape[1]}x{shape[2]}; rebuild it "
                              "with keras.Input(shape=(None, None, 3)) so it takes any image size")
    get_preprocessor(preprocess or "tf")
    return LoadedModel(str(path), network, preprocess or "tf", dreamable_layers(network), ())


@contextlib.contextmanager
def dtype_policy(precision: str) -> Iterator[None]:
    """Layers built inside compute in ``precision`` (a Keras dtype policy name); their
    variables stay float32."""
    keras = load_keras()
    before = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(before)


def load_model(config: ModelConfig) -> LoadedModel:
    """Build a registered model (or load a ``.keras`` file) with its weights (each call
    builds anew: an :class:`~dreamvideo.core.engine.Engine` keeps the one it needs)."""
    select(config.backend)
    if config.name.endswith(".keras"):
        with dtype_policy(config.precision):
            loaded = _load_keras_file(Path(config.name).expanduser(), config.preprocess)
        return dataclasses.replace(loaded, precision=config.precision)
    spec = REGISTRY.get(config.name)
    if spec is None:
        raise DreamvideoError(f"unknown model {config.name!r}; choose one of: "
                              f"{', '.join(REGISTRY)}, or a path to a .keras file")
    path = resolve_weights(spec.weights, config.weights)
    # what the seconds before the first frame go to (the CLI shows it; -q hides it)
    logging.getLogger(STATUS_LOG).info("loading %s (%s)…", config.name, device())
    with dtype_policy(config.precision):
        network = spec.build(path)
    preprocess = config.preprocess or spec.preprocess
    get_preprocessor(preprocess)
    recommended = tuple(layer.name for layer in network.layers if spec.recommended(layer.name))
    return LoadedModel(config.name, network, preprocess, recommended, spec.default_layers, config.precision)


@dataclass(frozen=True)
class Extractor:
    """RGB 0-255 batch → {layer name: activation}, the network cut at its deepest layer."""

    model: keras.Model
    preprocess: Callable[[Any], Any]
    layers: tuple[str, ...]  # the terms: layer names, or ``layer:A-B`` for some of its channels
    min_size: int  # smallest image side whose every activation survives the border crop
    loss_scale: float = 1.0  # float16 gradients would underflow; the normalisation cancels it
    guides: dict[str, Any] | None = None  # per term, a guide image's feature vectors (core.guide)

    def __call__(self, images: Any) -> dict[str, Any]:
        return self.select(self.model(self.preprocess(images), training=False))

    def select(self, outputs: dict[str, Any]) -> dict[str, Any]:
        """The model's outputs (by layer) → the activation of each term."""
        return {term: _channels(outputs, term) for term in self.layers}

    def output_shapes(self, height: int, width: int) -> dict[str, tuple[int, ...]]:
        """Activation shapes (H, W, C) for an image of this size, without running it."""
        shapes = self.model.compute_output_shape((1, height, width, 3))
        out = {}
        for term in self.layers:
            name, lo, hi = split_channels(term)
            h, w, c = shapes[name][1:]
            out[term] = (h, w, c if lo is None else hi - lo)
        return out


def _channels(outputs: dict[str, Any], term: str) -> Any:
    """The activation a term names: the whole layer, or a slice of its channels."""
    name, lo, hi = split_channels(term)
    return outputs[name] if lo is None else outputs[name][..., lo:hi]


def _fits(extractor_model: keras.Model, size: int) -> bool:
    try:
        shapes = extractor_model.compute_output_shape((1, size, size, 3))
    except ValueError:  # "Computed output size would be zero or negative"
        return False
    return all(s[1] >= MIN_ACTIVATION and s[2] >= MIN_ACTIVATION for s in shapes.values())


def make_extractor(loaded: LoadedModel, layers: Sequence[str]) -> Extractor:
    """Cut ``loaded`` at the deepest of ``layers`` (names, or ``layer:A-B`` for channels A
    to B of one); unknown names and channels out of range say what is valid."""
    terms = tuple(layers)
    layers = list(dict.fromkeys(split_channels(term)[0] for term in terms))
    unknown = [name for name in layers if name not in loaded.dreamable]
    if unknown:
        listed = loaded.recommended or loaded.dreamable
        raise DreamvideoError(
            f"model {loaded.name} has no dreamable layer {', '.join(map(repr, unknown))}; "
            f"valid layers: {', '.join(listed)} (all: dreamvideo layers --all)")
    if not layers:
        raise DreamvideoError("no layers to dream on; pass --layers name=weight,...")
    net = loaded.network
    model = load_keras().Model(net.inputs, {name: net.get_layer(name).output for name in layers})
    lo, hi = 1, 4096
    if not _fits(model, hi):
        raise DreamvideoError(f"layers {', '.join(layers)} of {loaded.name} need images larger than {hi} px")
    while lo < hi:  # smallest side that fits; fitting is monotonic in size
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if _fits(model, mid) else (mid + 1, hi)
    channels = {name: shape[-1] for name, shape in model.compute_output_shape((1, lo, lo, 3)).items()}
    for term in terms:
        name, _, end = split_channels(term)
        if end is not None and end > channels[name]:
            raise DreamvideoError(f"{term}: layer {name} of {loaded.name} has channels "
                                  f"0-{channels[name] - 1}")
    scale = 1024.0 if loaded.precision == "mixed_float16" else 1.0
    return Extractor(model, get_preprocessor(loaded.preprocess), terms, lo, scale)
