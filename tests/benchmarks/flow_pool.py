"""Opt-in measurement (issue 9): how many flow pairs a second the pool computes at 1080p.

    .venv/bin/python -m tests.benchmarks.flow_pool CLIP [--flow-size 640] [--workers N] [--no-steady-heap]

Decodes CLIP once, then times ``with_motion`` (flow both ways, consistency mask, cut test)
over its frames with the pool's threads, and counts the page faults each pair cost: the
C heap handing memory back and taking it again (see ``core.process.steady_heap``).
One JSON line; run each setting in a process of its own (the heap setting is for good).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time

import dreamvideo.core.process as process
import dreamvideo.temporal.motion as motion
from dreamvideo.config import TemporalConfig
from dreamvideo.media.sources import read_frames


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("clip")
    parser.add_argument("--flow-size", type=int, default=TemporalConfig().flow_size)
    parser.add_argument("--workers", type=int)
    parser.add_argument("--no-steady-heap", action="store_true")
    parser.add_argument("--pool", choices=("threads", "processes"), default="threads")
    args = parser.parse_args()
    process.STEADY_HEAP = not args.no_steady_heap
    frames = list(read_frames(args.clip))
    config = TemporalConfig(flow_size=args.flow_size, flow_workers=args.workers, flow_pool=args.pool)
    for _ in motion.with_motion(iter(frames[:8]), config):  # threads and heap settled
        pass
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    started, pairs = time.perf_counter(), -1
    for _ in motion.with_motion(iter(frames), config):
        pairs += 1
    seconds = time.perf_counter() - started
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    print(json.dumps({"check": "flow-pool", "size": list(frames[0].shape[1::-1]), "flow_size": args.flow_size,
                      "pool": args.pool, "steady_heap": process.steady_heap(),
                      "workers": args.workers or motion.default_workers(),
                      "cpu_count": os.cpu_count(), "affinity": len(os.sched_getaffinity(0)),
                      "pairs_per_s": pairs / seconds, "faults_per_pair": faults / max(pairs, 1)}))


if __name__ == "__main__":
    main()
