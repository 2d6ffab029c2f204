"""Every check that needs a GPU, in one run (opt-in; GPU time is scarce). On the GPU machine:

    bash ../shared/device/prepare.sh            # here: wheels and weights into .gpu/
    source .gpu/setup.sh && python3 -m tests.benchmarks.gpu_checks $OUT   # there

The Ray check needs Ray there too, and the carried tree must stay under 64 MiB: Ray 2.60's
wheel without ray/jars, the dashboard's web client and the libraries (rllib, tune, train,
serve, llm, data, air), its three binaries stripped, as .gpu/xz/ray.tar.xz (25 MB), and
imageio-ffmpeg's wheel unpacked as .gpu/xz/imageio_ffmpeg.tar.xz (21 MB) instead of the wheel,
plus wheels of jsonschema, jsonschema-specifications, referencing and rpds-py in .gpu/whl;
there: ``source .gpu/setup.sh && for f in .gpu/xz/*.tar.xz; do tar xJf $f -C /tmp/site; done``.

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
from dreamvideo.core.engine import Engine
clip = OUT / "clip1080.mp4"
if not clip.exists():
    make_clip(clip, HD, FRAMES)
r = bench_video(clip, Engine(ModelConfig()), DreamConfig(), TemporalConfig(), HD, FRAMES)
print(table(r))
import jax
stats = jax.devices()[0].memory_stats() or {}
emit(check="video-1080p-jax", fps=r.fps, alone=r.alone,
     busy={k: v / r.end_to_end_s for k, v in r.busy.items()},
     first_frame_s=r.first_frame_s, warm_up_s=r.warm_up_s, frames=r.frames, device=r.device,
     flow=r.flow_size, workers=r.flow_workers, peak_gpu_gb=stats.get("peak_bytes_in_use", 0) / 2**30)
# the flow workers as processes (nothing shared with the thread that drives the GPU)
if os.environ.get("GPU_PROCESSES_POOL", "1") == "1":
    r = bench_video(clip, Engine(ModelConfig()), DreamConfig(), TemporalConfig(flow_pool="processes"), HD,
                    FRAMES)
    print(table(r))
    emit(check="video-1080p-jax", pool="processes", fps=r.fps, alone=r.alone,
         busy={k: v / r.end_to_end_s for k, v in r.busy.items()}, first_frame_s=r.first_frame_s,
         warm_up_s=r.warm_up_s, frames=r.frames, flow=r.flow_size, workers=r.flow_workers)
# the default flow size against full-resolution flow, on real footage at 1080p (Big Buck Bunny, upscaled)
from dreamvideo.config import OutputConfig, Pipeline, SourceConfig
from dreamvideo.api.score import score_videos
from dreamvideo.render.loop import Run
from dreamvideo.render.video import render_video
bunny = Path(os.environ["GPU_ROOT"]) / ".gpu" / "bunny1080.mp4"
if bunny.exists() and os.environ.get("GPU_FLOW_CHECK", "1") == "1":
    for flow_size in (TemporalConfig().flow_size, None):
        out = OUT / f"bunny_{flow_size}.mp4"
        began = time.perf_counter()
        source = SourceConfig(str(bunny), max_size=256, end=0.15) if SMALL else SourceConfig(str(bunny))
        made = render_video(Pipeline("video", source, temporal=TemporalConfig(flow_size=flow_size),
                                     output=OutputConfig(str(out), audio=False)), Run(force=True))
        took = time.perf_counter() - began
        s = score_videos(bunny, out)
        emit(check="flow-size-1080p", flow_size=flow_size, frames=made.frames, excess=s.excess,
             strength=s.strength, seconds=took)
        out.unlink()
""")

check("flow-pool")("""
import subprocess, sys
from dreamvideo.render.benchvideo import make_clip
clip = OUT / "clip1080.mp4"
if not clip.exists():
    make_clip(clip, HD, FRAMES)
for flow_size, extra in ((640, []), (640, ["--no-steady-heap"]), (640, ["--pool", "processes"]), (960, [])):
        proc = subprocess.run([sys.executable, "-m", "tests.benchmarks.flow_pool", str(clip), "--flow-size",
                               str(flow_size), *extra], capture_output=True, text=True, timeout=120)
        print(proc.stderr[-1500:])
        emit(**json.loads(proc.stdout.strip().splitlines()[-1]))
""")

check("ray-scaling-cpu")("""
import re, subprocess, sys
# every render below on the host's CPUs (JAX CPU), in the CLI, with Ray local and embedded
os.environ["JAX_PLATFORMS"] = "cpu"  # and Ray reserves no GPU for the workers (render.workers.gpus_hidden)
from tests.benchmarks.scale_out import many_cuts_clip
from dreamvideo.core.process import physical_cores, usable_cpus
from dreamvideo.media.provenance import read_config
shots, length = (4, 8) if SMALL else (12, 24)
clip = many_cuts_clip(OUT / "cuts.mp4", shots, length)
cpus = usable_cpus()
cores = physical_cores(sorted(os.sched_getaffinity(0)))
lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
print(lscpu, flush=True)
emit(check="ray-topology", cpus=cpus, cores=cores, model=re.findall(r"Model name:\\s*(.*)", lscpu))
def render(name, *extra, pin=None):
    began = time.perf_counter()
    pinned = ["taskset", "-c", pin] if pin else []
    proc = subprocess.run([*pinned, sys.executable, "-m", "dreamvideo", "video", str(clip), "-o",
                           str(OUT / name), "--seed", "1", "--force", "-q", *extra],
                          capture_output=True, text=True)
    took = time.perf_counter() - began
    print(name, extra, pin, f"{took:.1f} s", proc.returncode, proc.stderr[-1500:], flush=True)
    busy = re.findall(r"(\\d+)% busy", proc.stderr)
    return took, proc.returncode, int(busy[-1]) if busy else None
render("warm", "--end", "0.9", "--workers", "1")  # the compile cache every render below reads
share = ",".join(str(c) for c in [c for core in cores for c in core][:max(1, cpus // 4)])  # one of 4 workers'
runs = {"w4": (["--workers", "4"], None), "w1": (["--workers", "1"], None), "plain": ([], None),
        "plain_share": ([], share), "w8": (["--workers", "8"], None), "w2": (["--workers", "2"], None)}
row = {"check": "ray-scaling-cpu", "shots": shots, "frames": shots * length, "cpus": cpus,
       "cpu_count": os.cpu_count()}
for name in os.environ.get("GPU_RAY_RUNS", "w4,w1,plain,plain_share").split(","):
    extra, pin = runs[name]
    row[name + "_s"], row[name + "_rc"], row[name + "_busy"] = render(name, *extra, pin=pin)
    emit(**row)
if "w1_s" in row and "w4_s" in row:
    row["speedup_4_vs_1"] = row["w1_s"] / row["w4_s"]
if "w1_s" in row and "w8_s" in row:
    row["speedup_8_vs_1"] = row["w1_s"] / row["w8_s"]
if "plain_s" in row and "w1_s" in row:
    row["w1_vs_plain"] = row["w1_s"] / row["plain_s"]
import shutil
import cv2
import numpy as np
def frames(name):  # PNG frames: an encoder's own threads would change an MP4's bytes
    return np.stack([cv2.imread(str(p)) for p in sorted((OUT / name).glob("*.png"))]).astype(np.int16)
if (OUT / "w4").is_dir():
    row["shots_found"] = read_config(OUT / "w4").count("], [") + 1
    w4 = frames("w4")
    row["w4_frames"] = len(w4)
    for name in ("plain_share", "plain"):
        if (OUT / name).is_dir():
            other = frames(name)
            row[f"w4_vs_{name}_max_diff"] = int(np.abs(w4 - other).max()) if w4.shape == other.shape else -1
emit(**row)
for name in ("warm", *runs):
    shutil.rmtree(OUT / name, ignore_errors=True)
""")

check("core-jax")("""
from dreamvideo.core.bench import bench
from dreamvideo.core.engine import Engine
from dreamvideo.config import DreamConfig, ModelConfig
sizes = [(HD, "float32"), (HD, "mixed_bfloat16"), ((1280, 720), "float32"), ((640, 360), "float32"),
         (UHD, "mixed_bfloat16")]
for (w, h), precision in sizes[:2] if SMALL else sizes:
    r = bench(Engine(ModelConfig(precision=precision)), DreamConfig(tile_size=4096), (w, h), steps=20,
              repeats=3, still=False)
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
from dreamvideo.core.engine import Engine
clip = OUT / "clip2160.mp4"
FRAMES_4K = int(os.environ.get("GPU_FRAMES_4K", 24))
make_clip(clip, UHD, FRAMES_4K)
r = bench_video(clip, Engine(ModelConfig(precision="mixed_bfloat16")), DreamConfig(), TemporalConfig(), UHD,
                FRAMES_4K)
print(table(r))
stats = jax.devices()[0].memory_stats() or {}
emit(check="video-4k-jax", fps=r.fps, alone=r.alone, first_frame_s=r.first_frame_s, warm_up_s=r.warm_up_s,
     peak_gpu_gb=stats.get("peak_bytes_in_use", 0) / 2**30, limit_gb=stats.get("bytes_limit", 0) / 2**30)
""")

check("core-torch")("""
from dreamvideo.core.bench import bench
from dreamvideo.core.engine import Engine
from dreamvideo.config import DreamConfig, ModelConfig
for precision in ("float32", "mixed_bfloat16"):
    r = bench(Engine(ModelConfig(precision=precision)), DreamConfig(tile_size=4096), HD, steps=20,
              repeats=3, still=False)
    emit(check="core-torch", size=f"{HD[0]}x{HD[1]}", precision=precision, bare_ms=r.bare_pass_s * 1e3,
         step_ms=r.step_s * 1e3, ratio=r.ratio, device=r.device,
         compiled=os.environ.get("DREAMVIDEO_TORCH_COMPILE"))
""")

check("video-1080p-torch")("""
from dreamvideo.render.benchvideo import bench_video, table
from dreamvideo.config import DreamConfig, ModelConfig, TemporalConfig
from dreamvideo.core.engine import Engine
clip = OUT / "clip1080.mp4"
r = bench_video(clip, Engine(ModelConfig()), DreamConfig(), TemporalConfig(), HD, min(FRAMES, 120))
print(table(r))
emit(check="video-1080p-torch", fps=r.fps, alone=r.alone, first_frame_s=r.first_frame_s,
     warm_up_s=r.warm_up_s)
""")

PLAN = [  # (check, backend, extra environment, seconds allowed)
    ("ray-scaling-cpu", "jax", {}, 420),
    ("flow-pool", "jax", {}, 90),
    ("video-1080p-jax", "jax", {}, 300),
    ("parity-jax-gpu", "jax", {}, 60),
    ("core-jax", "jax", {}, 150),
    ("core-torch", "torch", {}, 90),
    ("video-4k-jax", "jax", {}, 240),
    ("core-torch", "torch", {"DREAMVIDEO_TORCH_COMPILE": "1"}, 120),
    ("video-1080p-torch", "torch", {}, 120),
]


def main(out: Path, budget: float, only: list[str], plan: list | None = None,
         checks: dict[str, str] | None = None) -> None:
    """Run ``plan`` (default: :data:`PLAN`) of ``checks`` (default: :data:`CHECKS`) within
    ``budget`` seconds, each in a process of its own."""
    plan, checks = plan or PLAN, checks or CHECKS
    out.mkdir(parents=True, exist_ok=True)
    root = Path(__file__).resolve().parents[2]
    started = time.monotonic()
    with open(out / "log.txt", "a") as log:
        for name, backend, extra, limit in plan:
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
                proc = subprocess.run([sys.executable, "-c", PRELUDE + checks[name]], cwd=root, env=env,
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
