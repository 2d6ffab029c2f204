"""PyTorch: ``torch.autograd`` gives the gradient; the octave's steps run eagerly.

The steps stay a Python loop (a step is one forward and one backward pass, so the loop
adds little); the forward pass with its loss can be handed to ``torch.compile``
(``DREAMVIDEO_TORCH_COMPILE=1``), whose compiled backward then serves ``autograd.grad``.

(Tests: tests/core/test_backends.py, tests/core/test_dream.py.)
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any

import torch

from dreamvideo.core.ascent import dithered, dream_loss, normalised_ascent, tiled_value_and_grad
from dreamvideo.core.plan import OctavePlan

if TYPE_CHECKING:
    from dreamvideo.core.models import Extractor


def _value_and_grad_fn(extractor: Extractor) -> Any:
    layers, scale = extractor.layers, extractor.loss_scale

    def loss(seen: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        return dream_loss(extractor(seen), layers, weights, extractor.guides)

    if os.environ.get("DREAMVIDEO_TORCH_COMPILE") == "1":
        loss = torch.compile(loss, dynamic=False)

    def value_and_grad(image: torch.Tensor, weights: torch.Tensor,
                       origin: tuple[int, int] = (0, 0)) -> tuple[torch.Tensor, torch.Tensor]:
        """One piece, seen with the image's dither."""
        with torch.enable_grad():
            x = dithered(image, origin).detach().requires_grad_(True)
            value = loss(x, weights)
            (grad,) = torch.autograd.grad(value * scale, x)
        return value.detach(), grad[0]

    return value_and_grad


def compile_octave(extractor: Extractor) -> Any:
    """(image, weights, plan, step, max_loss) → (image, losses, steps taken)."""
    value_and_grad = _value_and_grad_fn(extractor)

    def run(image: torch.Tensor, weights: torch.Tensor, plan: OctavePlan, step: float, max_loss: float):
        img, losses = image, []
        pieces, window = plan.pieces  # the same tiles every step
        with torch.no_grad():
            for dy, dx in plan.shifts.tolist():
                rolled = torch.roll(img, (dy, dx), (0, 1))
                loss, grad = tiled_value_and_grad(lambda piece, at: value_and_grad(piece, weights, at),
                                                  rolled, pieces, window)
                losses.append(loss)
                if math.isfinite(max_loss) and float(loss) > max_loss:
                    break  # past max_loss: stop before this step, as keras-io does
                img = normalised_ascent(img, torch.roll(grad, (-dy, -dx), (0, 1)), step)
        return img, torch.stack(losses), len(losses)

    return run


def compile_gradient(extractor: Extractor) -> Any:
    """The bare forward+backward pass of one whole image."""
    return _value_and_grad_fn(extractor)


WHOLE_STEPS = False  # a video frame's step runs op by op (each octave compiled; cv2 warps on a CPU)


def compile_step(fn: Any, static: tuple[str, ...] = ()) -> Any:
    return fn


def compile_kernel(fn: Any, static: tuple[str, ...] = ()) -> Any:
    """Eager, op by op: ``torch.compile`` of the device flow takes minutes to compile on a
    CPU and gains less than that back (README, "The frame step")."""
    return fn


def synchronize(value: Any) -> None:
    """Wait until the device has computed ``value`` (CUDA runs asynchronously)."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def peak_memory() -> int | None:
    return int(torch.cuda.max_memory_allocated()) if torch.cuda.is_available() else None


def on_gpu() -> bool:
    return torch.cuda.is_available()


def device() -> str:
    if torch.cuda.is_available():
        return f"PyTorch {torch.__version__}, GPU {torch.cuda.get_device_name(0)}"
    return f"PyTorch {torch.__version__}, CPU"


def enable_determinism() -> None:
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
