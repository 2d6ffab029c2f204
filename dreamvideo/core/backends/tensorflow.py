"""TensorFlow: the octave's steps in one ``tf.function`` graph with a ``tf.while_loop``.

Image, layer weights, step rolls and tiles are tensors of unknown size, so the graph is
traced once per extractor and reused for every image size and setting; the tiles
(``ascent.tiled_value_and_grad``) are sliced with dynamic bounds, which keeps that one trace.
A video's frame step is a graph of its own per frame size (:func:`compile_step`) that
calls the octaves' graphs: on a CPU too, where it runs faster than op by op (README,
"The frame step").

(Tests: tests/core/test_backends.py, tests/core/test_dream.py.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import tensorflow as tf

from dreamvideo.core.ascent import EPSILON, PIXEL_RANGE, dither, dream_loss, tiled_value_and_grad
from dreamvideo.core.plan import OctavePlan

if TYPE_CHECKING:
    from dreamvideo.core.models import Extractor


def _value_and_grad(extractor: Extractor, image: tf.Tensor, weights: tf.Tensor,
                    origin: tuple[Any, Any] = (0, 0)) -> tuple[tf.Tensor, tf.Tensor]:
    """Loss and gradient of one piece, seen with the image's dither (``dream.dithered``)."""
    shape = tf.shape(image)
    seen = image + dither(tf.range(shape[0]) + origin[0], tf.range(shape[1]) + origin[1])[..., None]
    with tf.GradientTape() as tape:
        tape.watch(seen)
        loss = dream_loss(extractor(seen[None]), extractor.layers, weights, extractor.guides)
        scaled = loss * extractor.loss_scale
    return loss, tape.gradient(scaled, seen)


def compile_octave(extractor: Extractor) -> Any:
    """(image, weights, plan, step, max_loss) → (image, losses, steps taken), one graph."""

    def octave(image, weights, shifts, step, max_loss, pieces, window):
        def piece(part, origin):
            return _value_and_grad(extractor, part, weights, origin)

        def body(i, img, losses, done):
            shift = shifts[i]
            rolled = tf.roll(img, shift, axis=[0, 1])
            loss, grad = tiled_value_and_grad(piece, rolled, pieces, (window[0], window[1]))
            grad = tf.roll(tf.ensure_shape(grad, [None, None, 3]), -shift, axis=[0, 1])
            grad /= tf.maximum(tf.reduce_mean(tf.abs(grad)), EPSILON)
            done = loss > max_loss  # past max_loss: stop before this step, as keras-io does
            img = tf.where(done, img, tf.clip_by_value(img + step * grad, 0.0, PIXEL_RANGE))
            return i + 1, img, losses.write(i, loss), done

        losses = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
        taken, image, losses, _ = tf.while_loop(
            lambda i, img, losses, done: tf.logical_and(i < tf.shape(shifts)[0], tf.logical_not(done)),
            body, (tf.constant(0), image, losses, tf.constant(False)))
        return image, losses.stack(), taken

    terms = len(extractor.layers) * (2 if extractor.guides else 1)  # guided: a guided term per layer
    graph = tf.function(octave, input_signature=[
        tf.TensorSpec([None, None, 3], tf.float32, name="image"),
        tf.TensorSpec([terms], tf.float32, name="layer_weights"),
        tf.TensorSpec([None, 2], tf.int32, name="shifts"),
        tf.TensorSpec([], tf.float32, name="step"),
        tf.TensorSpec([], tf.float32, name="max_loss"),
        tf.TensorSpec([None, 6], tf.int32, name="pieces"),
        tf.TensorSpec([2], tf.int32, name="window"),
    ])

    def run(image: tf.Tensor, weights: tf.Tensor, plan: OctavePlan, step: float, max_loss: float):
        pieces, window = plan.pieces
        out, losses, taken = graph(image, weights, tf.constant(plan.shifts), tf.cast(step, tf.float32),
                                   tf.constant(max_loss, tf.float32), tf.constant(pieces, tf.int32),
                                   tf.constant(window, tf.int32))
        return tf.ensure_shape(out, image.shape), losses, taken  # inside a frame step: the size stays known

    run.graph = graph  # type: ignore[attr-defined]  # tests count its traces
    return run


def compile_gradient(extractor: Extractor) -> Any:
    """The bare forward+backward pass of one whole image, in a graph of its own."""
    return tf.function(lambda x, w: _value_and_grad(extractor, x, w), input_signature=[
        tf.TensorSpec([None, None, 3], tf.float32), tf.TensorSpec([None], tf.float32)])


WHOLE_STEPS = True  # a video frame's step is one graph: the octaves' graphs, the flow and carry inside


def compile_step(fn: Any, static: tuple[str, ...] = ()) -> Any:
    """One graph per frame size (and per value of a Python argument such as ``steps``;
    ``static`` needs no naming here). Branches are ``ops.cond`` (``tf.cond``), so autograph
    is off: a Python ``if`` on a tensor fails at the trace instead of being rewritten."""
    graph = tf.function(fn, autograph=False)

    def run(*args: Any, **kwargs: Any) -> Any:
        return graph(*tf.nest.map_structure(_as_tensor, args), **kwargs)

    run.graph = graph  # type: ignore[attr-defined]  # tests count its traces
    return run


def _as_tensor(value: Any) -> Any:
    """NumPy values become tensors, so a new value of one does not trace the graph again."""
    return tf.convert_to_tensor(value) if isinstance(value, (np.ndarray, np.generic)) else value


def compile_kernel(fn: Any, static: tuple[str, ...] = ()) -> Any:
    """A graph per shape (and per value of a Python argument): no op-by-op dispatch."""
    return tf.function(fn)


def synchronize(value: Any) -> None:
    """Wait for the device (TensorFlow runs eagerly to completion when a value is read)."""
    np.asarray(value)


def peak_memory() -> int | None:
    if not tf.config.list_physical_devices("GPU"):
        return None
    return int(tf.config.experimental.get_memory_info("GPU:0")["peak"])


def on_gpu() -> bool:
    return bool(tf.config.list_physical_devices("GPU"))


def device() -> str:
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        return f"TensorFlow {tf.__version__}, GPU {details.get('device_name', gpus[0].name)}"
    return f"TensorFlow {tf.__version__}, CPU"


def enable_determinism() -> None:
    if tf.config.list_physical_devices("GPU"):
        tf.config.experimental.enable_op_determinism()
