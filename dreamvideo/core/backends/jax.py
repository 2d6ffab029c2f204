"""JAX: an octave's steps in one ``jax.jit`` program with ``lax.while_loop``.

The network runs through ``model.stateless_call`` (its weights are arguments, not
constants baked into the program); ``jax.value_and_grad`` gives the gradient with
respect to the image. The while loop stops early once ``max_loss`` is passed. Programs
are compiled per image size, step count and tile layout, and cached by JAX.

(Tests: tests/core/test_backends.py, tests/core/test_dream.py.)
"""

from __future__ import annotations

import functools
import os
import warnings
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
from jax import lax

from dreamvideo.core.ascent import dithered, dream_loss, normalised_ascent, tiled_value_and_grad
from dreamvideo.core.plan import OctavePlan, tile_pieces

if TYPE_CHECKING:
    from dreamvideo.core.models import Extractor

# ffmpeg is started with subprocess, which forks and at once execs: safe despite JAX's threads
warnings.filterwarnings("ignore", message=r"os\.fork\(\) was called", category=RuntimeWarning)

def _value_and_grad_fn(extractor: Extractor) -> Any:
    model, layers, scale = extractor.model, extractor.layers, extractor.loss_scale

    def loss(seen, weights, trainable, non_trainable):
        features, _ = model.stateless_call(trainable, non_trainable, extractor.preprocess(seen),
                                           training=False)
        value = dream_loss(extractor.select(features), layers, weights, extractor.guides)
        return value * scale, value

    grad = jax.value_and_grad(loss, has_aux=True)

    def value_and_grad(image, weights, trainable, non_trainable, origin=(0, 0)):
        """One piece, seen with the image's dither."""
        (_, value), g = grad(dithered(image, origin), weights, trainable, non_trainable)
        return value, g[0]

    return value_and_grad


def _variables(extractor: Extractor) -> tuple[list, list]:
    model = extractor.model
    return ([v.value for v in model.trainable_variables], [v.value for v in model.non_trainable_variables])


def _tiled(value_and_grad: Any, image: jax.Array, rows: tuple[int, ...],
           cols: tuple[int, ...]) -> tuple[jax.Array, jax.Array]:
    """The octave's tiles (static, from the plan) through ``ascent.tiled_value_and_grad``."""
    pieces, window = tile_pieces(rows, cols)
    return tiled_value_and_grad(value_and_grad, image, jnp.asarray(pieces, jnp.int32), window)


def compile_octave(extractor: Extractor) -> Any:
    """(image, weights, plan, step, max_loss) → (image, losses, steps taken), jitted."""
    value_and_grad = _value_and_grad_fn(extractor)

    @functools.partial(jax.jit, static_argnames=("rows", "cols"))
    def octave(image, weights, shifts, step, max_loss, trainable, non_trainable, rows, cols):
        steps = shifts.shape[0]

        def piece_grad(piece, origin):
            return value_and_grad(piece, weights, trainable, non_trainable, origin)

        def body(state):
            i, img, losses, _ = state
            shift = shifts[i]
            loss, grad = _tiled(piece_grad, jnp.roll(img, shift, axis=(0, 1)), rows, cols)
            grad = jnp.roll(grad, -shift, axis=(0, 1))
            done = loss > max_loss  # past max_loss: stop before this step, as keras-io does
            img = jnp.where(done, img, normalised_ascent(img, grad, step))
            return i + 1, img, losses.at[i].set(loss), done

        def more(state):
            i, _, _, done = state
            return jnp.logical_and(i < steps, jnp.logical_not(done))

        start = (jnp.int32(0), image, jnp.zeros((steps,), jnp.float32), jnp.bool_(False))
        taken, image, losses, _ = lax.while_loop(more, body, start)
        return image, losses, taken

    @functools.partial(jax.jit, static_argnames=("rows", "cols"))
    def one_step(image, weights, shift, step, trainable, non_trainable, rows, cols):
        def piece_grad(piece, origin):
            return value_and_grad(piece, weights, trainable, non_trainable, origin)

        loss, grad = _tiled(piece_grad, jnp.roll(image, shift, axis=(0, 1)), rows, cols)
        return normalised_ascent(image, jnp.roll(grad, -shift, axis=(0, 1)), step), loss

    trainable, non_trainable = _variables(extractor)
    stepwise = not on_gpu()

    def run(image, weights, plan: OctavePlan, step: float, max_loss: float):
        image = jnp.asarray(image, jnp.float32)
        if stepwise and not isinstance(image, jax.core.Tracer):
            return _steps(one_step, image, weights, plan, jnp.float32(step), max_loss, trainable,
                          non_trainable)
        return octave(image, weights, jnp.asarray(plan.shifts), jnp.float32(step), jnp.float32(max_loss),
                      trainable, non_trainable, rows=plan.rows, cols=plan.cols)

    run.jitted = one_step if stepwise else octave  # type: ignore[attr-defined]  # tests read its cache
    return run


def _steps(one_step: Any, image: jax.Array, weights: Any, plan: OctavePlan, step: jax.Array,
           max_loss: float, trainable: list, non_trainable: list) -> tuple[jax.Array, jax.Array, int]:
    """The octave as one compiled step called from Python, on the CPU: XLA's CPU runtime
    runs a step inside a ``while_loop`` 1.2x slower than the same step on its own
    (SqueezeNet, 600x400, 2 cores), while the calls cost nothing beside a step's 0.2 s.
    The same steps and the same early stop as :func:`compile_octave`'s loop."""
    losses = []
    for shift in jnp.asarray(plan.shifts):
        moved, loss = one_step(image, weights, shift, step, trainable, non_trainable,
                               rows=plan.rows, cols=plan.cols)
        losses.append(loss)
        if max_loss < float("inf") and float(loss) > max_loss:  # past max_loss: stop before this step
            break
        image = moved
    padded = jnp.zeros((len(plan.shifts),), jnp.float32)
    if losses:
        padded = padded.at[:len(losses)].set(jnp.stack(losses))
    return image, padded, len(losses)


def compile_gradient(extractor: Extractor) -> Any:
    """The bare forward+backward pass of one whole image, jitted."""
    value_and_grad = jax.jit(_value_and_grad_fn(extractor))
    trainable, non_trainable = _variables(extractor)
    return lambda image, weights: value_and_grad(image, weights, trainable, non_trainable)


WHOLE_STEPS = True  # a video frame's step (flow, carry, dreams) compiles into one program


def compile_step(fn: Any, static: tuple[str, ...] = ()) -> Any:
    """One program per frame size: the eager alternative is hundreds of dispatches a frame."""
    return jax.jit(fn, static_argnames=static)


def compile_kernel(fn: Any, static: tuple[str, ...] = ()) -> Any:
    """One XLA program per shape (and per value of a ``static`` argument)."""
    return jax.jit(fn, static_argnames=static)


def synchronize(value: Any) -> None:
    """Wait until the device has computed ``value`` (JAX dispatches asynchronously)."""
    jax.block_until_ready(value)


def peak_memory() -> int | None:
    stats = jax.devices()[0].memory_stats()
    return None if not stats else stats.get("peak_bytes_in_use")


def on_gpu() -> bool:
    return jax.devices()[0].platform != "cpu"


def device() -> str:
    first = jax.devices()[0]
    kind = "CPU" if first.platform == "cpu" else f"{first.platform.upper()} {first.device_kind}"
    return f"JAX {jax.__version__}, {kind}"


def enable_determinism() -> None:
    """XLA's deterministic GPU kernels; read when JAX first uses the GPU."""
    flag = "--xla_gpu_deterministic_ops=true"
    flags = os.environ.get("XLA_FLAGS", "")
    if flag not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} {flag}".strip()
