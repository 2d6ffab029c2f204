"""Opt-in measurement (issue 12): what spreading a video over Ray workers costs and gains.

    .venv/bin/python tests/benchmarks/scale_out.py CLIP OUT_DIR [--workers 1 2 4] [--chunk S --overlap N]

Times a plain render and ``--workers N`` renders of CLIP (wall clock, Ray start and the
shot pre-pass included; PNG folders, seed 1), checks they are the same frames, and with
``--chunk`` measures the flicker at chunk seams: the excess warping error (output minus
input, Lai et al.) of each frame, at the frames where a chunk takes over versus all
frames of the clip (scene cuts left out).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from dreamvideo.config import pipeline_from_toml
from dreamvideo.media.sources import probe, read_frames
from dreamvideo.temporal.flow import consistency_mask, optical_flow, warp
from dreamvideo.temporal.shots import plan_pieces


def many_cuts_clip(path: Path, shots: int = 16, frames: int = 24, size: tuple[int, int] = (320, 180)) -> Path:
    """A clip of ``shots`` shots of ``frames`` frames (24 fps; camera moves over the sample
    photos, in turn, at varying speeds): a music video's cutting, for the scaling check."""
    from tests.clips import H264, encode, scene

    photos = ("coffee.jpg", "astronaut.jpg", "chelsea.jpg")
    moves = [f for k in range(shots)
             for f in scene(frames, size, photos[k % 3], speed=(1.5 + k % 4 * 0.5) * (-1) ** (k // 3))]
    return encode(path, iter(moves), "24", size, H264)


def run(clip: str, out: Path, *extra: str, env: dict | None = None) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dreamvideo", "video", clip, "-o", str(out), "--seed", "1",
                    "--force", "-q", *extra], check=True, env={**os.environ, **(env or {})})
    return time.perf_counter() - started


def frames(folder: Path) -> list[np.ndarray]:
    return [cv2.imread(str(p))[..., ::-1] for p in sorted(folder.glob("*.png"))]


def _error(cur: np.ndarray, prev: np.ndarray, back: np.ndarray, mask: np.ndarray) -> float:
    diff = np.abs(cur.astype(np.float32) - warp(prev, back).astype(np.float32)).mean(axis=2)
    return float((diff * mask).sum() / max(mask.sum(), 1.0))


def excess_per_frame(inputs: list[np.ndarray], outputs: list[np.ndarray]) -> np.ndarray:
    errors = [np.nan]
    for t in range(1, len(outputs)):
        back, fwd = optical_flow(inputs[t], inputs[t - 1]), optical_flow(inputs[t - 1], inputs[t])
        mask = consistency_mask(back, fwd)
        if mask.mean() < 0.4:  # a scene cut: no flicker to speak of
            errors.append(np.nan)
            continue

        dream = _error(outputs[t], outputs[t - 1], back, mask)
        errors.append(dream - _error(inputs[t], inputs[t - 1], back, mask))
    return np.array(errors)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("clip")
    parser.add_argument("folder")
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--chunk", type=float)
    parser.add_argument("--overlap", type=int, default=12)
    parser.add_argument("--max-size", default="320")
    args = parser.parse_args()
    folder = Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    size = ["--max-size", args.max_size]
    results: dict = {"clip": args.clip}
    if args.chunk is None:
        results["plain_s"] = run(args.clip, folder / "plain", *size)
        plain = frames(folder / "plain")
        for n in args.workers:
            results[f"workers_{n}_s"] = run(args.clip, folder / f"w{n}", *size, "--workers", str(n))
            spread = frames(folder / f"w{n}")
            results[f"workers_{n}_max_diff"] = max(int(np.abs(a.astype(int) - b).max())
                                                   for a, b in zip(plain, spread, strict=True))
            results[f"workers_{n}_ratio"] = results[f"workers_{n}_s"] / results["plain_s"]
    else:
        out = folder / "chunked"
        chunked = ["--workers", str(args.workers[-1]), "--chunk", str(args.chunk), "--overlap",
                   str(args.overlap)]
        results["chunked_s"] = run(args.clip, out, *size, *chunked)
        pipeline = pipeline_from_toml((out / "dreamvideo.toml").read_text())
        fps = float(probe(args.clip).fps)
        pieces = plan_pieces(pipeline.render.shots, fps, args.chunk, args.overlap)
        outputs = frames(out)
        h, w = outputs[0].shape[:2]
        inputs = list(read_frames(args.clip, (w, h)))[:len(outputs)]
        excess = excess_per_frame(inputs, outputs)
        shot_starts = {a for a, _ in pipeline.render.shots}
        seams = sorted({i for p in pieces if p.start not in shot_starts for i in range(p.first, p.start + 2)})
        results.update({"pieces": len(pieces), "seam_frames": len(seams),
                        "excess_all": float(np.nanmean(excess)),
                        "excess_seams": float(np.nanmean(excess[seams])),
                        "excess_seams_max": float(np.nanmax(excess[seams]))})
        results["seam_ratio"] = results["excess_seams"] / results["excess_all"]
    print(json.dumps(results))


if __name__ == "__main__":
    main()
