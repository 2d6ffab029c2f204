"""The frame step's GPU figures in one run (opt-in; GPU time is scarce): the device flow's
accuracy there, the first frame of a 1080p render with compiling (cold, then through the
compile cache), ``bench video`` at 720p, 1080p and 2160p with ``--flow device`` beside
1080p with the host's DIS, and a video's colour matching on the device against the host's.
On the GPU machine, from the repository root:

    bash ../shared/device/prepare.sh        # here: wheels and weights into .gpu/
    source .gpu/setup.sh && python3 -m tests.benchmarks.frame_step_gpu $OUT 540   # there

A rehearsal on a CPU, tiny sizes and the same code: ``GPU_DRY_RUN=1 python -m
tests.benchmarks.frame_step_gpu /tmp/out``. One JSON line per result in OUT/results.jsonl,
each stage table in OUT/log.txt; the most important checks first, so a run cut short still
has the headline numbers.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.benchmarks.gpu_checks import main

BENCH = """
from dreamvideo.render.benchvideo import bench_video, make_clip, table
from dreamvideo.config import DreamConfig, ModelConfig, TemporalConfig
from dreamvideo.core.engine import Engine
SIZES = {"720p": (1280, 720), "1080p": HD, "2160p": UHD}
def bench(name, flow, frames):
    size = (256, 144) if SMALL else SIZES[name]
    clip = OUT / f"clip{name}.mp4"
    if not clip.exists():
        make_clip(clip, size, frames)
    r = bench_video(clip, Engine(ModelConfig()), DreamConfig(), TemporalConfig(flow=flow), size, frames)
    print(table(r), flush=True)
    emit(check=f"video-{name}-{flow}", fps=r.fps, alone=r.alone, frames=r.frames, device=r.device,
         busy={k: v / r.end_to_end_s for k, v in r.busy.items()}, first_ready_s=r.first_ready_s,
         warm_up_s=r.warm_up_s, first_frame_s=r.first_frame_s,
         peak_device_gb=(r.peak_device_bytes or 0) / 2**30,
         flow_size=r.flow_size, full_dreams=r.full_dreams)
"""

FIRST_FRAME = """
# a real `dreamvideo video` of a 1080p clip in a fresh process, twice: the first frame's time from
# the process's start, compiling included; the second run reads the compile cache the first wrote
import subprocess, sys
from dreamvideo.render.benchvideo import make_clip
clip = OUT / "first1080.mp4"
make_clip(clip, (256, 144) if SMALL else HD, 30)
probe = '''
import os, sys, time
ticks = os.sysconf("SC_CLK_TCK")
started = float(open("/proc/self/stat").read().rsplit(")", 1)[1].split()[19]) / ticks
uptime = float(open("/proc/uptime").read().split()[0])
born = time.time() - (uptime - started)
from dreamvideo.cli import main
import dreamvideo.render.loop as loop
seen = []
real = loop.watched
def watched(made, frames):
    def first(index, pixels):
        if not seen:
            seen.append(time.time() - born)
            print("FIRST", seen[0], flush=True)
        if frames is not None:
            frames(index, pixels)
    return real(made, first)
loop.watched = watched
import dreamvideo.render.video as video
video.watched = watched
sys.exit(main(sys.argv[1:]))
'''
cache = OUT / "compile-cache"
for run in ("cold", "cached"):
    out = OUT / f"first-{run}.mp4"
    proc = subprocess.run([sys.executable, "-c", probe, "video", str(clip), "-o", str(out), "--flow",
                           "device", "--end", "0.5", "--force", "-q"], capture_output=True, text=True,
                          env={**os.environ, "JAX_COMPILATION_CACHE_DIR": str(cache)}, timeout=400)
    first = [float(line.split()[1]) for line in proc.stdout.splitlines() if line.startswith("FIRST")]
    print(run, proc.returncode, proc.stderr[-1500:], flush=True)
    emit(check="first-frame-1080p", run=run, first_frame_s=first[0] if first else None, rc=proc.returncode)
"""

ACCURACY = """
import numpy as np
from tests.temporal import test_deviceflow as t
first = t._photo()
for name, motion in [*t.MOTIONS.items(), ("object", None)]:
    if motion is None:
        a, b, forward, backward, _ = t._object_over_background()
    else:
        a = first
        b, forward, backward = t._moved(first, *motion)
    device, dis = t._device_flows(a, b), t._dis(a, b)
    emit(check="flow-accuracy", motion=name,
         device=[t._error(device[0], forward), t._error(device[1], backward)],
         dis=[t._error(dis[0], forward), t._error(dis[1], backward)])
"""

COLOUR = """
# video colour coherence on the device (temporal/devicecolour.py) against the host's: time and pixels
import time
import cv2, imageio.v3 as iio, numpy as np
from dreamvideo.core.backends import load_keras
from dreamvideo.temporal.coherence import match_colours as host
from dreamvideo.temporal.devicecolour import matcher
ops = load_keras().ops
size = HD
a, b = (cv2.resize(iio.imread(f"samples/inputs/{n}.jpg"), size) for n in ("chelsea", "coffee"))
for mode in ("lab", "rgb", "hsv"):
    match, frame, reference = matcher(mode, 0.8), ops.convert_to_tensor(a), ops.convert_to_tensor(b)
    out = ops.convert_to_numpy(match(frame, reference))
    start = time.perf_counter()
    for _ in range(5):
        ops.convert_to_numpy(match(frame, reference))
    device_s = (time.perf_counter() - start) / 5
    start = time.perf_counter()
    wanted = np.clip(host(a, b, mode, 0.8), 0, 255).round()
    host_s = time.perf_counter() - start
    diff = np.abs(out.astype(np.float32) - wanted)
    emit(check="colour-match", mode=mode, device_s=device_s, host_s=host_s, mean_diff=float(diff.mean()),
         max_diff=float(diff.max()))
"""

CHECKS = {"video-1080p-device": BENCH + "bench('1080p', 'device', 12 if SMALL else 240)",
          "first-frame": FIRST_FRAME,
          "video-720p-device": BENCH + "bench('720p', 'device', 12 if SMALL else 240)",
          "video-1080p-dis": BENCH + "bench('1080p', 'dis', 12 if SMALL else 120)",
          "video-2160p-device": BENCH + "bench('2160p', 'device', 12 if SMALL else 48)",
          "flow-accuracy": ACCURACY, "colour-match": COLOUR}
PLAN = [("video-1080p-device", "jax", {}, 240), ("first-frame", "jax", {}, 200),
        ("video-720p-device", "jax", {}, 120), ("video-1080p-dis", "jax", {}, 120),
        ("video-2160p-device", "jax", {}, 150), ("flow-accuracy", "jax", {}, 60),
        ("colour-match", "jax", {}, 60)]

if __name__ == "__main__":
    main(Path(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 540.0, sys.argv[3:], PLAN, CHECKS)
