"""Opt-in measurement (issue 11): does an infinite zoom burn out?

Renders ``dreamvideo run zoom-infinite`` from a photo (320 px, 12 fps, 20 s by default)
into a PNG folder, then prints, per second, the look of the frames (colourfulness,
saturation, clipped share, fine detail; ``dreamvideo.temporal.look``) relative to the
first dreamed frame, and the new structure: the mean change between consecutive frames
beyond the exact motion (|F_t - move(F_t-1)|, the move being the zoom's own transform).
Writes a contact sheet of the frames at 0, 5, 10 and 20 s. Extra ``--set`` arguments
go to the render, e.g.

    .venv/bin/python tests/benchmarks/look_zoom.py samples/inputs/astronaut.jpg OUT_DIR \\
        --set color.coherence=none
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np

from dreamvideo.config import ZoomConfig
from dreamvideo.render.gallery import contact_sheet, label_cell
from dreamvideo.render.keyframes import moment
from dreamvideo.render.zoom import apply, frame_transform
from dreamvideo.temporal.look import Look

SETTINGS = ["zoom.fps=12", "zoom.duration=20", "source.max_size=320", "dream.seed=1"]


def main(photo: str, folder: str, extra: list[str]) -> None:
    out = Path(folder) / "frames"
    Path(folder).mkdir(parents=True, exist_ok=True)
    sets = [a for s in SETTINGS for a in ("--set", s)]
    subprocess.run([sys.executable, "-m", "dreamvideo", "run", "zoom-infinite", "-i", photo, "-o", str(out),
                    *sets, *extra, "--force", "-q"], check=True)
    frames = [iio.imread(p)[..., :3] for p in sorted(out.glob("*.png"))]
    config = ZoomConfig(duration=20, fps=12, zoom=1.3)
    height, width = frames[0].shape[:2]
    changes = []
    for t in range(1, len(frames)):
        step = frame_transform(moment(config, {}, (t - 1) / config.fps), config.fps, (width, height),
                               config.center)
        moved = apply(frames[t - 1].astype(np.float32), step)
        changes.append(float(np.abs(frames[t].astype(np.float32) - moved).mean()))
    looks = [Look.of(f) for f in frames]
    first = looks[0]
    per_second = []
    for second in range(0, len(frames) // 12):
        part = looks[second * 12:(second + 1) * 12]
        per_second.append({
            "second": second,
            "colourfulness": float(np.mean([lk.colourfulness for lk in part])) / first.colourfulness,
            "saturation": float(np.mean([lk.saturation for lk in part])),
            "clipped": float(np.mean([lk.clipped for lk in part])),
            "detail": float(np.mean([lk.detail for lk in part])) / first.detail,
            "contrast": float(np.mean([lk.contrast for lk in part])) / first.contrast,
            "new_structure": float(np.mean(changes[max(0, second * 12 - 1):(second + 1) * 12 - 1])),
        })
    after = looks[24:]
    summary = {
        "first": first.__dict__,
        "colourfulness_range_after_2s": [min(lk.colourfulness for lk in after) / first.colourfulness,
                                         max(lk.colourfulness for lk in after) / first.colourfulness],
        "clipped_max_after_2s": max(lk.clipped for lk in after),
        "detail_min_after_2s": min(lk.detail for lk in after) / first.detail,
        "new_structure_mean_after_2s": float(np.mean(changes[23:])),
        "extra": extra,
    }
    for row in per_second:
        print(json.dumps(row))
    print(json.dumps(summary))
    picks = [0, 5 * 12, 10 * 12, len(frames) - 1]
    sheet = contact_sheet([label_cell(frames[i], f"{i / 12:.0f} s") for i in picks], columns=4)
    iio.imwrite(Path(folder) / "sheet.png", sheet)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
