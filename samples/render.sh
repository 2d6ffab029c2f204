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
echo "rendered: $(ls outputs | tr '\n' ' ')"
