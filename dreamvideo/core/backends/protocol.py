"""What a backend module provides, written once: each of ``tensorflow.py``, ``jax.py`` and
``torch.py`` beside this one implements :class:`Backend` (checked by
tests/core/test_backends.py). The dream itself is ``keras.ops`` and the same everywhere
(``core.dream``, ``core.ascent``); a backend adds only what Keras does not abstract.

Tiling an octave is written once too (:func:`dreamvideo.core.ascent.tiled_value_and_grad`,
a ``keras.ops.fori_loop`` over the plan's tiles): TensorFlow gets the tiles as a tensor of
unknown length, so one trace serves every size; JAX gets them as constants of its
compiled octave; PyTorch runs the loop eagerly.

(Tests: tests/core/test_backends.py.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from dreamvideo.core.models import Extractor
    from dreamvideo.core.plan import OctavePlan

Tensor = Any  # a tensor of the backend
OctaveFn = Callable[[Tensor, Tensor, "OctavePlan", float, float], tuple[Tensor, Tensor, Any]]


@runtime_checkable
class Backend(Protocol):
    """One Keras backend, as the dream core and the video step use it."""

    WHOLE_STEPS: bool
    """Whether a video frame's step (its flow where the device computes it, the carry,
    the light and the full dream) compiles into one program (:func:`compile_step`
    compiles; JAX, TensorFlow) or runs op by op around compiled octaves (PyTorch)."""

    def compile_octave(self, extractor: Extractor) -> OctaveFn:
        """(image, loss weights, plan, step, max_loss) → (image, losses of the steps, steps
        taken): every step of one octave, each rolled by the plan's shift, the gradient
        normalised by its mean absolute value, stopping once the loss passes max_loss."""

    def compile_gradient(self, extractor: Extractor) -> Callable[[Tensor, Tensor], tuple[Tensor, Tensor]]:
        """(image, loss weights) → (loss, gradient) of one whole image: the bare pass ``bench`` times."""

    def compile_step(self, fn: Callable[..., Any], static: tuple[str, ...] = ()) -> Callable[..., Any]:
        """``fn`` as one compiled program where the backend compiles whole steps, else ``fn``
        itself; ``static``: the arguments a new value of which compiles anew."""

    def compile_kernel(self, fn: Callable[..., Any], static: tuple[str, ...] = ()) -> Callable[..., Any]:
        """A pure tensor function (no model inside; the device flow) compiled per shape
        where the backend can do so quickly; ``static`` as for :func:`compile_step`."""

    def synchronize(self, value: Any) -> None:
        """Wait until the device has computed ``value`` (for timings)."""

    def peak_memory(self) -> int | None:
        """The most bytes the device has held so far, where the backend tells (a GPU)."""

    def on_gpu(self) -> bool:
        """Whether the backend computes on a GPU here."""

    def device(self) -> str:
        """The backend and its device in words, e.g. ``JAX 0.10.2, CPU``."""

    def enable_determinism(self) -> None:
        """Deterministic kernels where the device has a choice (``--seed``)."""
