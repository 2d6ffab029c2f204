"""Timing the octave core against a bare forward+backward pass of the same network.

The compiled loop's overhead (roll, normalise, clip, loop control) should be small:
the ratio ``step / bare`` is the figure of merit, 1.0 being free.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from dreamvideo._tensorflow import tf
from dreamvideo.config import DreamConfig, ModelConfig
from dreamvideo.dream import PIXEL_RANGE, dream
from dreamvideo.stills import get_dreamer, resolve_layers


@dataclass(frozen=True)
class BenchResult:
    """Seconds, measured after a warm-up call so tracing is not counted."""

    width: int
    height: int
    steps: int
    bare_pass_s: float  # one forward+backward of the truncated network
    step_s: float  # one step inside the compiled octave loop
    still_s: float  # a whole still with the given dream settings

    @property
    def ratio(self) -> float:
        return self.step_s / self.bare_pass_s


def _best_of(repeats: int, run) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def bench(model: ModelConfig, config: DreamConfig, width: int = 600, height: int = 400,
          steps: int = 20, repeats: int = 3) -> BenchResult:
    """Time a bare pass, a loop step and a whole still at ``width`` x ``height``."""
    layers = resolve_layers(model, config)
    dreamer = get_dreamer(model, tuple(layers))
    rng = np.random.default_rng(config.seed)
    image = tf.constant(rng.uniform(0, 255, (height, width, 3)), tf.float32)
    weights = tf.constant([layers[n] for n in dreamer.extractor.layers], tf.float32)
    bare = tf.function(dreamer.gradient, input_signature=[
        tf.TensorSpec([None, None, 3], tf.float32), tf.TensorSpec([len(layers)], tf.float32)])
    no_tiling = tf.constant(max(width, height))
    loop_args = (weights, tf.constant(steps), tf.constant(config.step_size * PIXEL_RANGE),
                 tf.constant(np.inf, tf.float32), tf.constant(config.jitter), no_tiling,
                 tf.constant([config.seed, 0]))

    def run_bare() -> None:
        for _ in range(steps):
            _, grad = bare(image, weights)
        grad.numpy()  # wait for the device

    def run_loop() -> None:
        dreamer.octave(image, *loop_args)[0].numpy()

    def run_still() -> None:
        dream(image.numpy(), dreamer, config, layers)

    for run in (run_bare, run_loop, run_still):  # warm-up: trace and allocate
        run()
    return BenchResult(width, height, steps, _best_of(repeats, run_bare) / steps,
                       _best_of(repeats, run_loop) / steps, _best_of(repeats, run_still))
