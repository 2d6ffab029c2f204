"""``dreamvideo bench video``: the real video pipeline, stage by stage and end to end.

Each stage is timed alone on the same frames, so its throughput is known: decode, flow
(both ways, with the consistency mask and the cut test; on the host or on the device),
warp (the carried dream moved along the flow and masked), dream (the light dream, the
full one where the render dreamed in full) and encode. Then the whole pipeline renders the
clip, as ``dreamvideo video`` does, and the share of the wall time each stage kept busy
and each hand-off between threads kept its consumer waiting is read from it. The stage
with the lowest throughput alone is the bottleneck; the end-to-end rate says how close the
pipeline comes to it. A warm-up render compiles everything before any timing; how long
its first frame took (compiling included) is reported apart, with the peak memory.
"""

from __future__ import annotations

import dataclasses
import resource
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from dreamvideo.config import DreamConfig, OutputConfig, Pipeline, SourceConfig, TemporalConfig
from dreamvideo.core.backends import load_keras, module
from dreamvideo.core.device import to_device
from dreamvideo.core.dream import dream_tensor
from dreamvideo.core.engine import Engine
from dreamvideo.media.sources import probe, read_frames
from dreamvideo.media.threads import StageClock
from dreamvideo.media.writers import Encoding, open_writer
from dreamvideo.render.chain import later_config
from dreamvideo.render.loop import Run
from dreamvideo.render.video import VideoReport, render_video
from dreamvideo.temporal.carry import full_dreams_text
from dreamvideo.temporal.devicemotion import motion_stage
from dreamvideo.temporal.devicewarp import gather_warp, upsample, upsample_flow, warp
from dreamvideo.temporal.motion import Motion, default_workers, flow_shape, resolved_flow

STAGES = ("decode", "flow", "warp", "dream", "encode")


@dataclass(frozen=True)
class VideoBench:
    """What ``bench video`` measured; seconds and frames per second."""

    width: int
    height: int
    frames: int
    backend: str
    device: str
    precision: str
    flow: str  # the flow method the render used (auto resolved)
    flow_size: tuple[int, int]  # (width, height) the flow ran at
    flow_workers: int  # threads of the host flow (0: on the device)
    alone: dict[str, float]  # stage → frames per second, timed alone
    warm_up_s: float  # compiling and the first frames of a short render, before any timing
    first_ready_s: float  # from the warm-up's start to its first frame, compiling included
    first_frame_s: float  # the first frame's full dream, alone (compiled)
    end_to_end_s: float  # the real pipeline over the whole clip, first frame's full dream included
    busy: dict[str, float]  # stage → seconds busy (``wait <hand-off>``: waiting) in the end-to-end render
    full_dreams: dict[str, int]  # frames the render dreamed in full, by why (the rest: a light dream)
    peak_device_bytes: int | None  # the device's peak memory (a GPU; None on a CPU)
    peak_host_bytes: int  # the process's peak resident memory

    @property
    def fps(self) -> float:
        return self.frames / self.end_to_end_s

    @property
    def bottleneck(self) -> str:
        return min(self.alone, key=self.alone.__getitem__)

    def share(self, stage: str) -> float:
        """Share of the end-to-end wall time the stage kept a core busy."""
        return self.busy.get(stage, 0.0) / self.end_to_end_s


def make_clip(path: Path, size: tuple[int, int], frames: int, fps: int = 30, seed: int = 0) -> None:
    """A camera pan with a slow zoom over a seeded texture (structure at every scale, so
    the flow has something to follow), encoded with the bundled ffmpeg."""
    width, height = size
    rng = np.random.default_rng(seed)
    big_w, big_h = int(width * 1.6), int(height * 1.6)
    texture = np.zeros((big_h, big_w, 3), np.float32)
    for cell in (4, 16, 64, 256):  # octaves of smoothed noise
        small = rng.uniform(0, 1, (max(2, big_h // cell), max(2, big_w // cell), 3)).astype(np.float32)
        texture += cv2.resize(small, (big_w, big_h), interpolation=cv2.INTER_CUBIC) * cell**0.5
    texture = (texture - texture.min()) / (texture.max() - texture.min()) * 220 + 15
    with open_writer(path, Encoding(size, fps, quality=16)) as writer:
        for t in range(frames):
            zoom = 1.0 + 0.15 * t / max(frames - 1, 1)
            cx, cy = big_w / 2 + 0.25 * width * (t / max(frames - 1, 1) - 0.5), big_h / 2
            matrix = np.array([[zoom, 0, width / 2 - zoom * cx], [0, zoom, height / 2 - zoom * cy]],
                              np.float32)
            frame = cv2.warpAffine(texture, matrix, (width, height), flags=cv2.INTER_LINEAR)
            writer.write(np.clip(frame, 0, 255).astype(np.uint8))


def _rate(frames: int, seconds: float) -> float:
    return frames / max(seconds, 1e-9)


def bench_video(clip: str | Path, engine: Engine, dream: DreamConfig, temporal: TemporalConfig,
                size: tuple[int, int] | None = None, frames: int | None = None) -> VideoBench:
    """Time the stages of ``dreamvideo video`` on ``clip`` (scaled to ``size``), then the
    whole pipeline; ``frames`` limits how many are used."""
    info = probe(clip)
    width, height = size or (info.width, info.height)
    end = None if frames is None else (frames - 0.5) / float(info.fps)  # frames 0 … frames-1
    pipeline = Pipeline("video", SourceConfig(str(clip), max_size=max(width, height), end=end), engine.config,
                        dream, temporal)
    with tempfile.TemporaryDirectory(prefix="dreamvideo-bench-") as tmp:
        # warm-up: every program the render needs is compiled before anything is timed
        started, first_seen = time.perf_counter(), []
        short = dataclasses.replace(pipeline.source, end=3.5 / float(info.fps))
        _render(dataclasses.replace(pipeline, source=short), Path(tmp) / "warm.mp4", engine,
                frames=lambda index, _: first_seen.append(time.perf_counter()) if not first_seen else None)
        warm_up = time.perf_counter() - started
        alone, first_frame, light = _alone(clip, info, (width, height), engine, pipeline, Path(tmp))
        clock = StageClock()
        start = time.perf_counter()
        report = _render(pipeline, Path(tmp) / "out.mp4", engine, clock)
        end_to_end = time.perf_counter() - start
    full = report.full_dreams or {}
    # the dream as the render ran it: a light dream a frame, the full one where it dreamed in full
    # (a frame with too little of it trusted gets both)
    fully = sum(n for reason, n in full.items() if reason != "low mask coverage")
    seconds = (report.frames - fully) * light + sum(full.values()) * first_frame
    alone["dream"] = _rate(report.frames, seconds)
    fw, fh = flow_shape(height, width, temporal.flow_size)[::-1]
    flow = resolved_flow(temporal.flow)
    workers = 0 if flow == "device" else temporal.flow_workers or default_workers()
    backend = module()
    return VideoBench(width, height, report.frames, load_keras().backend.backend(), backend.device(),
                      engine.config.precision, flow, (fw, fh), workers, alone, warm_up,
                      first_seen[0] - started, first_frame, end_to_end, dict(clock.seconds), dict(full),
                      backend.peak_memory(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)


def _render(pipeline: Pipeline, out: Path, engine: Engine, clock: StageClock | None = None,
            frames: Any = None) -> VideoReport:
    """The real render, silent, into ``out``."""
    pipeline = dataclasses.replace(pipeline, output=OutputConfig(str(out), audio=False))
    return render_video(pipeline, Run(engine, force=True, clock=clock, frames=frames))


def _alone(clip: str | Path, info: Any, size: tuple[int, int], engine: Engine, pipeline: Pipeline,
           tmp: Path) -> tuple[dict[str, float], float, float]:
    """Each stage alone on the same frames: (frames per second by stage, seconds of the
    first frame's full dream, seconds of a light dream)."""
    width, height = size
    scaled = size if size != (info.width, info.height) else None
    start = time.perf_counter()
    decoded = list(read_frames(clip, scaled, None, pipeline.source.end))
    alone = {"decode": _rate(len(decoded), time.perf_counter() - start)}
    count = len(decoded)
    start = time.perf_counter()
    motions = list(motion_stage(iter(decoded), pipeline.temporal))
    alone["flow"] = _rate(count - 1, time.perf_counter() - start)
    first_frame, light, alone["warp"] = _device_stages(engine, pipeline, decoded, motions, (height, width))
    start = time.perf_counter()
    with open_writer(tmp / "encode.mp4", Encoding(size, info.fps)) as writer:
        for frame in decoded:
            writer.write(frame)
    alone["encode"] = _rate(count, time.perf_counter() - start)
    return alone, first_frame, light


def _device_stages(engine: Engine, pipeline: Pipeline, decoded: list[np.ndarray], motions: list[Motion],
                   shape: tuple[int, int]) -> tuple[float, float, float]:
    """(seconds of a full dream, seconds of a light dream, warps per second) on the device,
    each as the pipeline runs it: compiled into one program where the backend does that."""
    dream, temporal = pipeline.dream, pipeline.temporal
    dreamer, layers = engine.prepare(dream, *shape)
    backend = dreamer.backend
    first = to_device(decoded[0], "float32")
    backend.synchronize(dream_tensor(first, dreamer, dream, layers, warn=False))  # compiled before timing
    start = time.perf_counter()
    out = dream_tensor(first, dreamer, dream, layers, warn=False)
    backend.synchronize(out)
    first_frame = time.perf_counter() - start
    later, residual = later_config(dream, temporal), out - first
    move_fn = gather_warp if backend.WHOLE_STEPS else warp

    def move(residual, backward, mask):
        return move_fn(residual, upsample_flow(backward, shape)) * upsample(mask[..., None], shape)

    def light_dream(frame):
        return dream_tensor(frame, dreamer, later, layers, warn=False)

    move, light_dream = backend.compile_step(move), backend.compile_step(light_dream)
    backend.synchronize(move(residual, to_device(motions[1].backward), to_device(motions[1].mask)))
    backend.synchronize(light_dream(first))  # both compiled before timing
    start = time.perf_counter()
    for m in motions[1:]:
        moved = move(residual, to_device(m.backward), to_device(m.mask))
    backend.synchronize(moved)
    warps = _rate(len(motions) - 1, time.perf_counter() - start)
    start = time.perf_counter()
    for m in motions[1:]:
        result = light_dream(to_device(m.frame, "float32"))
    backend.synchronize(result)
    return first_frame, (time.perf_counter() - start) / (len(motions) - 1), warps


def table(result: VideoBench) -> str:
    """The stage table ``dreamvideo bench video`` prints."""
    where = "on the device" if result.flow == "device" else f"on {result.flow_workers} threads"
    lines = [f"{result.width}x{result.height}, {result.frames} frames; {result.device} ({result.precision}); "
             f"flow {result.flow} at {result.flow_size[0]}x{result.flow_size[1]} {where}",
             f"  {'stage':<8}{'frames/s alone':>16}{'busy in pipeline':>19}"]
    for stage in STAGES:
        busy = f"{100 * result.share(stage):.0f} %" if stage in result.busy else "in the step"
        lines.append(f"  {stage:<8}{result.alone[stage]:>16.1f}{busy:>19}")
    waits = {k.removeprefix("wait "): v for k, v in result.busy.items() if k.startswith("wait ")}
    lines += ["  waiting on hand-offs: " + ", ".join(f"{name} {100 * s / result.end_to_end_s:.0f} %"
                                                     for name, s in waits.items()),
              f"  end to end: {result.fps:.1f} frames/s ({result.frames} frames in {result.end_to_end_s:.2f} "
              f"s, first frame's full dream {result.first_frame_s:.2f} s)",
              f"  first frame: {result.first_ready_s:.1f} s with compiling (warm-up "
              f"{result.warm_up_s:.1f} s); "
              f"peak memory: {_bytes(result.peak_device_bytes)} device, "
              f"{_bytes(result.peak_host_bytes)} host",
              f"  bottleneck: {result.bottleneck} ({result.alone[result.bottleneck]:.1f} frames/s alone)",
              f"  dream: {result.frames - sum(result.full_dreams.values())} frames light only; "
              + full_dreams_text(result.full_dreams)]
    return "\n".join(lines)


def _bytes(count: int | None) -> str:
    return "n/a" if count is None else f"{count / 2**30:.2f} GiB"
