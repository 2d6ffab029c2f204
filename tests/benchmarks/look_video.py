"""Opt-in measurement (issue 11): does flow-mode video keep the dream's detail?

For each clip, renders ``--temporal flow``, ``none`` and ``blend`` with the same settings,
scores each against the input (``dreamvideo score``) and prints the added fine detail of
flow relative to none, overall and by quarter of the clip, with the excess warping error
of flow relative to none and blend. Extra arguments go to every render, e.g.

    .venv/bin/python tests/benchmarks/look_video.py samples/inputs/coffee-pan.mp4 -- --later-steps 3
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def render(clip: str, out: Path, mode: str, extra: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dreamvideo", "video", clip, "-o", str(out), "--temporal", mode,
                    "--seed", "1", "--force", "-q", *extra], check=True)
    return time.perf_counter() - started


def score(clip: str, out: Path) -> dict:
    proc = subprocess.run([sys.executable, "-m", "dreamvideo", "score", clip, str(out), "--json"],
                          check=True, capture_output=True, text=True)
    return json.loads(proc.stdout)


def main(argv: list[str]) -> None:
    clips, extra = (argv[:argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv else (argv, [])
    # the none and blend baselines do not depend on the carry's own flags (``--later-*``,
    # ``--resample``...): set LOOK_CACHE to a file to render them once per clip and settings
    cache_file = Path(os.environ["LOOK_CACHE"]) if os.environ.get("LOOK_CACHE") else None
    cache = json.loads(cache_file.read_text()) if cache_file and cache_file.exists() else {}
    carry_flags = ("--later", "--resample", "--carry", "--mask", "--fresh", "--flow")  # each takes one value
    baseline = [a for i, a in enumerate(extra) if not a.startswith(carry_flags)
                and a != "--no-restore-detail" and not (i and extra[i - 1].startswith(carry_flags))]
    with tempfile.TemporaryDirectory() as tmp:
        for clip in clips:
            results = {}
            for mode in ("flow", "none", "blend"):
                key = json.dumps([clip, mode, baseline])
                if mode != "flow" and key in cache:
                    results[mode] = cache[key]
                    continue
                out = Path(tmp) / f"{Path(clip).stem}-{mode}.mp4"
                seconds = render(clip, out, mode, extra if mode == "flow" else baseline)
                results[mode] = {**score(clip, out), "seconds": seconds}
                if mode != "flow":
                    cache[key] = results[mode]
            if cache_file:
                cache_file.write_text(json.dumps(cache))
            flow, none, blend = results["flow"], results["none"], results["blend"]
            ratio = [f / n for f, n in zip(flow["detail_quarters"], none["detail_quarters"], strict=True)]
            summary = {
                "clip": clip, "extra": extra,
                "detail_ratio": flow["detail"] / none["detail"], "detail_ratio_quarters": ratio,
                "excess_vs_none": flow["excess"] / none["excess"],
                "excess_vs_blend": flow["excess"] / blend["excess"],
                **{f"{mode}_{key}": results[mode][key] for mode in results
                   for key in ("excess", "strength", "detail", "seconds")},
            }
            print(json.dumps(summary))


if __name__ == "__main__":
    main(sys.argv[1:])
