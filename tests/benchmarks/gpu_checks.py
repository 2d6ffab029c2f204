"""Every check that needs a GPU, in one run (opt-in; GPU time is scarce). On the GPU machine:

    bash ../shared/device/prepare.sh            # here: wheels and weights into .gpu/
    source .gpu/setup.sh && python3 -m tests.benchmarks.gpu_checks $OUT   # there

Each check runs in a process of its own with a time limit (JAX and PyTorch are separate
Keras backends), appends one JSON line per result to OUT/results.jsonl and its output to
OUT/log.txt; a table is printed at the end. Checks run most important first, so a run cut
short still has the headline numbers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

CHECKS: dict[str, str] = {}  # name → Python source run in its own process (OUT and ROOT set)


def check(name: str):
    def register(source: str) -> str:
        CHECKS[name] = source
        return source
    return register


PRELUDE = """
import json, os, sys, time
from pathlib import Path
OUT = Path(os.environ["GPU_OUT"])
SMALL = os.environ.get("GPU_DRY_RUN") == "1"  # a rehearsal on the CPU: tiny sizes, same code
HD, UHD, FRAMES = ((256, 144), (384, 216), 12) if SMALL else ((1920, 1080), (3840, 2160), 240)
FRAMES = int(os.environ.get("GPU_FRAMES", FRAMES))
def emit(**row):
    with open(OUT / "results.jsonl", "a") as f:
        f.write(json.dumps(row) + "\\n")
    print(json.dumps(row), flush=True)
"""

check("video-1080p-jax")("""
from dreamvideo.render.benchvideo import bench_video, make_clip, table
from dreamvideo.config import DreamConfig, ModelConfig, TemporalConfig
clip = OUT / "clip1080.mp4"
make_clip(clip, HD, FRAMES)
r = bench_video(clip, ModelConfig(), DreamConfig(), TemporalConfig(), HD, FRAMES)
print(table(r))
import jax
stats = jax.devices()[0].memory_stats() or {}
emit(check="video-1080p-jax", fps=r.fps, alone=r.alone,
     busy={k: v / r.end_to_end_s for k, v in r.busy.items()},
     first_frame_s=r.first_frame_s, warm_up_s=r.warm_up_s, frames=r.frames, device=r.device,
     flow=r.flow_size, workers=r.flow_workers, peak_gpu_gb=stats.get("peak_bytes_in_use", 0) / 2**30)
# the default flow size against full-resolution flow, on real footage at 1080p (Big Buck Bunny, upscaled)
from dreamvideo.config import SourceConfig
from dreamvideo.temporal.score import score_videos
from dreamvideo.render.video import render_video
bunny = Path(os.environ["GPU_ROOT"]) / ".gpu" / "bunny1080.mp4"
if bunny.exists() and not SMALL and os.environ.get("GPU_FLOW_CHECK", "1") == "1":
    for flow_size in (TemporalConfig().flow_size, None):
        out = OUT / f"bunny_{flow_size}.mp4"
        began = time.perf_counter()
        made = render_video(SourceConfig(str(bunny)), out, temporal=TemporalConfig(flow_size=flow_size),
                            force=True, audio=False)
        took = time.perf_counter() - began
        s = score_videos(bunny, out)
        emit(check="flow-size-1080p", flow_size=flow_size, frames=made.frames, excess=s.excess,
             strength=s.strength, seconds=took)
        out.unlink()
""")

check("core-jax")("""
from dreamvideo.core.bench import bench
from dreamvideo.config import DreamConfig, ModelConfig
sizes = [(HD, "float32"), (HD, "mixed_bfloat16"), ((1280, 720), "float32"), ((640, 360), "float32"),
         (UHD, "mixed_bfloat16")]
for (w, h), precision in sizes[:2] if SMALL else sizes:
    r = bench(ModelConfig(precision=precision), DreamConfig(tile_size=4096), w, h, steps=20, repeats=3,
              still=False)
    emit(check="core-jax", size=f"{w}x{h}", precision=precision, bare_ms=r.bare_pass_s * 1e3,
         step_ms=r.step_s * 1e3, ratio=r.ratio, device=r.device)
""")

check("parity-jax-gpu")("""
import numpy as np
from tests.core.backend_probe import probe
here = probe(real=True)
ref = dict(np.load(Path(os.environ["GPU_ROOT"]) / ".gpu" / "probe_tensorflow_cpu.npz"))
rel = lambda a, b: float(np.abs(a - b).max() / np.abs(a).max())
emit(check="parity-jax-gpu", tiny_grad=rel(ref["tiny_grad"], here["tiny_grad"]),
     tiny_tiled=rel(ref["tiny_tiled_image"], here["tiny_tiled_image"]),
     first_octave=float(np.abs(here["real_losses"][:8] / ref["real_losses"][:8] - 1).max()),
     final_loss=float(here["real_losses"][-1] / ref["real_losses"][-1] - 1),
     strength=float(here["real_strength"] / ref["real_strength"] - 1))
""")

check("video-4k-jax")("""
import jax
from dreamvideo.render.benchvideo import bench_video, make_clip, table
from dreamvideo.config import DreamConfig, ModelConfig, TemporalConfig
clip = OUT / "clip2160.mp4"
make_clip(clip, UHD, 24)
r = bench_video(clip, ModelConfig(precision="mixed_bfloat16"), DreamConfig(), TemporalConfig(), UHD, 24)
print(table(r))
stats = jax.devices()[0].memory_stats() or {}
emit(check="video-4k-jax", fps=r.fps, alone=r.alone, first_frame_s=r.first_frame_s, warm_up_s=r.warm_up_s,
     peak_gpu_gb=stats.get("peak_bytes_in_use", 0) / 2**30, limit_gb=stats.get("bytes_limit", 0) / 2**30)
""")

check("core-torch")("""
from dreamvideo.core.bench import bench
from dreamvideo.config import DreamConfig, ModelConfig
for precision in ("float32", "mixed_bfloat16"):
    r = bench(ModelConfig(precision=precision), DreamConfig(tile_size=4096), *HD, steps=20, repeats=3,
              still=False)
    emit(check="core-torch", size=f"{HD[0]}x{HD[1]}", precision=precision, bare_ms=r.bare_pass_s * 1e3,
         step_ms=r.step_s * 1e3, ratio=r.ratio, device=r.device,
         compiled=os.environ.get("DREAMVIDEO_TORCH_COMPILE"))
""")

check("video-1080p-torch")("""
from dreamvideo.render.benchvideo import bench_video, table
from dreamvideo.config import DreamConfig, ModelConfig, TemporalConfig
clip = OUT / "clip1080.mp4"
r = bench_video(clip, ModelConfig(), DreamConfig(), TemporalConfig(), HD, min(FRAMES, 120))
print(table(r))
emit(check="video-1080p-torch", fps=r.fps, alone=r.alone, first_frame_s=r.first_frame_s,
     warm_up_s=r.warm_up_s)
""")

PLAN = [  # (check, backend, extra environment, seconds allowed)
    ("video-1080p-jax", "jax", {}, 300),
    ("parity-jax-gpu", "jax", {}, 60),
    ("core-jax", "jax", {}, 150),
    ("core-torch", "torch", {}, 90),
    ("video-4k-jax", "jax", {}, 150),
    ("core-torch", "torch", {"DREAMVIDEO_TORCH_COMPILE": "1"}, 120),
    ("video-1080p-torch", "torch", {}, 120),
]


def main(out: Path, budget: float, only: list[str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    root = Path(__file__).resolve().parents[2]
    started = time.monotonic()
    with open(out / "log.txt", "a") as log:
        for name, backend, extra, limit in PLAN:
            if only and name not in only:
                continue
            left = budget - (time.monotonic() - started)
            if left < 30:
                print(f"-- {name}: skipped, {left:.0f} s left", flush=True)
                continue
            env = {**os.environ, "KERAS_BACKEND": backend, "GPU_OUT": str(out), "GPU_ROOT": str(root),
                   **extra}
            begun = time.monotonic()
            print(f"-- {name} ({backend}{', ' + str(extra) if extra else ''})", flush=True)
            log.write(f"\n===== {name} {backend} {extra}\n")
            log.flush()
            try:
                proc = subprocess.run([sys.executable, "-c", PRELUDE + CHECKS[name]], cwd=root, env=env,
                                      stdout=log, stderr=subprocess.STDOUT, timeout=min(limit, left - 10))
                status = f"exit {proc.returncode}"
            except subprocess.TimeoutExpired:
                status = "timed out"
            print(f"   {status} after {time.monotonic() - begun:.0f} s", flush=True)
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()] \
        if (out / "results.jsonl").exists() else []
    for row in rows:
        print(json.dumps(row))


if __name__ == "__main__":
    main(Path(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 540.0, sys.argv[3:])
