"""Timing the octave core against a bare forward+backward pass of the same network.

The compiled loop's overhead (roll, normalise, clip, loop control) should be small:
the ratio ``step / bare`` is the figure of merit, 1.0 being free. Both run on the same
backend and device; each is timed after a warm-up call, so compiling is not counted.

(Tests: tests/cli/test_cli.py.)
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dreamvideo.config import DreamConfig
from dreamvideo.core.ascent import PIXEL_RANGE
from dreamvideo.core.backends import load_keras
from dreamvideo.core.dream import dream_tensor
from dreamvideo.core.engine import Engine
from dreamvideo.core.plan import OctavePlan


@dataclass(frozen=True)
class BenchResult:
    """Seconds, measured after a warm-up call so tracing and compiling are not counted."""

    width: int
    height: int
    steps: int
    bare_pass_s: float  # one forward+backward of the truncated network
    step_s: float  # one step inside the compiled octave loop
    still_s: float  # a whole still with the given dream settings
    backend: str = ""
    device: str = ""
    precision: str = "float32"

    @property
    def ratio(self) -> float:
        return self.step_s / self.bare_pass_s


def _best_of(repeats: int, run: Callable[[], None]) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def bench(engine: Engine, config: DreamConfig, size: tuple[int, int] = (600, 400), steps: int = 20,
          repeats: int = 3, still: bool = True) -> BenchResult:
    """Time a bare pass, a loop step and (unless ``still`` is False) a whole still at
    ``size`` (width, height); a still not timed is reported as 0 s."""
    width, height = size
    dreamer, layers = engine.prepare(config, height, width)

    keras = load_keras()
    ops, backend = keras.ops, dreamer.backend
    rng = np.random.default_rng(config.seed)
    image = ops.convert_to_tensor(rng.uniform(0, 255, (height, width, 3)).astype(np.float32))
    weights = ops.convert_to_tensor(np.array([layers[n] for n in dreamer.extractor.layers], np.float32))
    shifts = rng.integers(-config.jitter, config.jitter + 1, (steps, 2)).astype(np.int32)
    untiled = OctavePlan((height, width), (0, height), (0, width), shifts)
    step = config.step_size * PIXEL_RANGE

    def run_bare() -> None:
        for _ in range(steps):
            _, grad = dreamer.gradient(image, weights)
        backend.synchronize(grad)

    def run_loop() -> None:
        backend.synchronize(dreamer.octave(image, weights, untiled, step, np.inf)[0])

    def run_still() -> None:
        backend.synchronize(dream_tensor(image, dreamer, config, layers))

    runs = (run_bare, run_loop, run_still) if still else (run_bare, run_loop)
    for run in runs:  # warm-up: trace, compile and allocate
        run()
    return BenchResult(width, height, steps, _best_of(repeats, run_bare) / steps,
                       _best_of(repeats, run_loop) / steps, _best_of(repeats, run_still) if still else 0.0,
                       keras.backend.backend(), backend.device(), engine.config.precision)


def as_dict(result: BenchResult) -> dict[str, object]:
    """The result with its ratio, for ``--json``."""
    return {**dataclasses.asdict(result), "ratio": result.ratio}
