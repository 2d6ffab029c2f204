"""Opt-in benchmark (not collected by the default run; ~1 minute on 2 CPU cores):

    DREAMVIDEO_WEIGHTS_DIR=../shared/models .venv/bin/python -m pytest -s tests/benchmarks/bench_core.py

Times, at 600x400 on SqueezeNet fire5+fire7, one step of the compiled octave loop
against a bare forward+backward pass of the truncated network, and a whole still.
The aim: a step costs at most 1.1x the bare pass.
"""

from dreamvideo.config import DreamConfig, ModelConfig
from dreamvideo.core.bench import bench
from dreamvideo.core.engine import Engine


def test_octave_step_within_ten_percent_of_a_bare_pass(squeezenet_weights):
    result = bench(Engine(ModelConfig()), DreamConfig(), (600, 400), steps=20, repeats=3)
    print(f"\nbare {result.bare_pass_s * 1000:.1f} ms, step {result.step_s * 1000:.1f} ms, "
          f"ratio {result.ratio:.3f}, still {result.still_s:.2f} s")
    assert result.ratio <= 1.1
