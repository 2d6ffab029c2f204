#!/usr/bin/env bash
# Re-render every sample output from the inputs beside it, with the project's own CLI.
# (inputs/coffee-pan.mp4 itself is made by make_inputs.py from inputs/coffee.jpg.)
# Usage: bash samples/render.sh   (from the repository root, with dreamvideo installed)
# Offline machines: point DREAMVIDEO_WEIGHTS_DIR at a folder holding the weights file.
set -euo pipefail
if [ -n "${DREAMVIDEO_WEIGHTS_DIR:-}" ]; then
  DREAMVIDEO_WEIGHTS_DIR=$(realpath "$DREAMVIDEO_WEIGHTS_DIR"); export DREAMVIDEO_WEIGHTS_DIR
fi
cd "$(dirname "$0")"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
dv() { dreamvideo "$@" --force --quiet; }

dv still inputs/chelsea.jpg -o outputs/chelsea-dream.jpg --seed 0
dv still inputs/coffee.jpg -o outputs/coffee-dream.jpg --seed 0
dv still inputs/astronaut.jpg -o outputs/astronaut-fire3.jpg --layers fire3=1,fire4=0.5 --seed 0
dv still inputs/chelsea.jpg -o outputs/chelsea-preview.jpg --preview --seed 0
dv gallery inputs/coffee.jpg -o outputs/coffee-gallery.jpg --max-size 300 --steps 16 --seed 0
dv video inputs/coffee-pan.mp4 -o outputs/coffee-pan-dream.mp4 --seed 0
dv video inputs/coffee-pan.mp4 -o outputs/coffee-pan-dream.gif --max-size 256 --every 2 --seed 0
dv zoom inputs/chelsea.jpg -o outputs/chelsea-zoom.gif --max-size 200 --duration 4 --fps 12 --zoom 1.4 \
  --rotate 6 --interpolate 2 --seed 0
# the look (issue 11): a guided still, a sheet of single channels, a dream that ramps in
guided=(--layers fire5=0.5,fire7=1 --steps 14 --step-size 0.008 --max-size 400 --seed 0)
dv still inputs/coffee.jpg -o "$tmp/plain.png" "${guided[@]}"
dv still inputs/coffee.jpg -o "$tmp/guided.png" --guide inputs/chelsea.jpg "${guided[@]}"
python - "$tmp" <<'PY'
import sys, cv2, imageio.v3 as iio
from dreamvideo.render.gallery import contact_sheet, label_cell
plain, guided = (iio.imread(f"{sys.argv[1]}/{n}.png") for n in ("plain", "guided"))
guide = cv2.resize(iio.imread("inputs/chelsea.jpg"), plain.shape[1::-1], interpolation=cv2.INTER_AREA)
cells = [label_cell(guide, "guide"), label_cell(plain, "plain dream"), label_cell(guided, "--guide chelsea.jpg")]
iio.imwrite("outputs/coffee-guided.jpg", contact_sheet(cells, 3), quality=88)
PY
dv layers --channels fire7:0-15 -o outputs/fire7-channels.jpg --seed 0
dv video inputs/coffee-pan.mp4 -o outputs/coffee-pan-ramp.gif --max-size 256 --every 2 --seed 0 \
  --keyframe "0 step_size=0.001 layers=fire3=1" --keyframe "1.5 step_size=0.008 layers=fire7=1"
# 20 s of run zoom-infinite without and with colour coherence, frames at 0, 5, 10 and 20 s
python ../tests/benchmarks/look_zoom.py inputs/chelsea.jpg "$tmp/none" --set color.coherence=none > /dev/null
python ../tests/benchmarks/look_zoom.py inputs/chelsea.jpg "$tmp/lab" > /dev/null
python - "$tmp" <<'PY'
import sys, imageio.v3 as iio, numpy as np
from dreamvideo.render.gallery import label_cell
rows = [label_cell(iio.imread(f"{sys.argv[1]}/{m}/sheet.png"), t) for m, t in
        (("none", "--color-coherence none: burns out"), ("lab", "default (lab, strength 0.8)"))]
iio.imwrite("outputs/zoom-coherence.jpg", np.concatenate(rows), quality=85)
PY
# zooming out: the revealed borders at 0, 1, 2 and 3 s
dv zoom inputs/chelsea.jpg -o "$tmp/out" --max-size 256 --duration 3 --fps 12 --zoom 0.8 --seed 1
python - "$tmp" <<'PY'
import sys, imageio.v3 as iio, numpy as np
frames = [iio.imread(f"{sys.argv[1]}/out/{n:06d}.png") for n in (1, 13, 25, 36)]
iio.imwrite("outputs/zoom-out.jpg", np.concatenate(frames, axis=1), quality=85)
PY
echo "rendered: $(ls outputs | tr '\n' ' ')"
