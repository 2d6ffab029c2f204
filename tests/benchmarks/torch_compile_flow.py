"""Opt-in measurement (issue 20): the device flow on PyTorch, eager against ``torch.compile``.

    KERAS_BACKEND=torch .venv/bin/python -m tests.benchmarks.torch_compile_flow [CLIP] [--size 320x180]

Times :func:`~dreamvideo.temporal.devicemotion.pair_motion` (flow both ways, mask, cut
statistics) over the first pairs of CLIP (the bundled sample by default), eagerly and
through ``torch.compile``: the first call (with compiling) apart from the later ones, and
how many graphs and breaks Dynamo made. One JSON line per mode; needs ``pip install torch``.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import itertools
import json
import os
import time

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import torch

from dreamvideo.media.sources import read_frames
from dreamvideo.temporal.devicemotion import luminance, pair_motion
from dreamvideo.temporal.motion import flow_shape

SAMPLE = "samples/inputs/coffee-pan.mp4"
PAIRS = 4


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("clip", nargs="?", default=SAMPLE)
    parser.add_argument("--size", default="320x180")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    with contextlib.closing(read_frames(args.clip, size=(width, height))) as source:
        frames = [frame for _, frame in zip(range(PAIRS + 1), source, strict=False)]
    shape = flow_shape(height, width, width)
    seen = [luminance(torch.tensor(np.float32(f)), shape=shape)[0] for f in frames]
    eager = functools.partial(pair_motion, softness=0.0)
    explained = torch._dynamo.explain(eager)(seen[0], seen[1])
    for mode, fn in (("eager", eager), ("torch.compile", torch.compile(eager, dynamic=False))):
        seconds, outs = [], []
        for first, second in itertools.pairwise(seen):
            begun = time.perf_counter()
            outs.append(fn(first, second))
            seconds.append(time.perf_counter() - begun)
        print(json.dumps({"mode": mode, "size": args.size, "torch": torch.__version__,
                          "first_s": round(seconds[0], 3), "later_s": [round(s, 3) for s in seconds[1:]],
                          "mask_mean": float(outs[-1][1].mean()),
                          "graphs": explained.graph_count, "breaks": explained.graph_break_count}))


if __name__ == "__main__":
    main()
