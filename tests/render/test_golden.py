"""Renders stay what they were: a still, a 1 s video and a 1 s zoom with ``--seed``
against the fingerprints of the code before the one-house restructuring (the frame chain,
CHANGELOG 2026-12-06; ``golden.json`` names the commit).

Where the machine matches the one that made the fingerprints (same TensorFlow, NumPy
and CPU features: float kernels differ between CPUs), the pixels must be bit-identical;
elsewhere 32x32 thumbnails of every frame must agree to 0.6 levels on average (another
seed alone moves them by 1.3-1.5 levels for the still and video, 41 for the zoom).
Regenerate (only for an intended change of the look) with
``python -m tests.render.test_golden DIR``, DIR a checkout of the reference code.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT, SAMPLES

GOLDEN = Path(__file__).with_name("golden")
COMMON = ["--seed", "3", "--steps", "4", "-q", "--force"]
RENDERS = {
    "still": ["still", str(SAMPLES / "coffee.jpg"), "--max-size", "160", *COMMON],
    "video": ["video", str(SAMPLES / "coffee-pan.mp4"), "--end", "1", "--max-size", "200",
              # the carry as it was (issue 11 changed its defaults for detail that lasts)
              "--later-step-scale", "0.5", "--no-restore-detail", "--fresh-share", "1", *COMMON],
    "zoom": ["zoom", "--frames", "24", "--size", "160x96", "--rotate", "10", "--interpolate", "2",
             "--color-coherence", "none", *COMMON],  # coherence (on by default since) is not in the golden
}
OUTPUT = {"still": "still.png", "video": "video", "zoom": "zoom"}


def machine() -> dict[str, str]:
    """What decides the exact bits: library versions and the CPU's vector units."""
    import tensorflow as tf

    flags = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        words = next((line for line in cpuinfo.read_text().splitlines() if line.startswith("flags")), "")
        flags = " ".join(sorted(w for w in words.split() if w.startswith(("avx", "fma", "sse4", "amx"))))
    return {"tensorflow": tf.__version__, "numpy": np.__version__, "machine": platform.machine(),
            "cpu": flags}


def render(kinds: list[str], folder: Path, code: Path = ROOT) -> dict[str, list[np.ndarray]]:
    """Render ``kinds`` with the package found in ``code``, one after another in one new
    process (one TensorFlow import for all); the frames of each as RGB arrays."""
    import imageio.v3 as iio

    outs = {kind: folder / OUTPUT[kind] for kind in kinds}
    script = ("import sys\nfrom dreamvideo.cli import main\n"
              + "".join(f"assert main({[*RENDERS[kind], '-o', str(out)]!r}) == 0, {kind!r}\n"
                        for kind, out in outs.items()))
    proc = subprocess.run([sys.executable, "-c", script], cwd=code, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {kind: [iio.imread(p)[..., :3] for p in ([out] if out.is_file() else sorted(out.glob("*.png")))]
            for kind, out in outs.items()}


def fingerprint(frames: list[np.ndarray]) -> tuple[str, np.ndarray]:
    import cv2

    digest = hashlib.sha256()
    for frame in frames:
        digest.update(frame.tobytes())
    thumbs = np.stack([cv2.resize(f, (32, 32), interpolation=cv2.INTER_AREA) for f in frames])
    return digest.hexdigest(), thumbs


@pytest.fixture(scope="module")
def rendered(squeezenet_weights, tmp_path_factory) -> dict[str, list[np.ndarray]]:
    return render(list(RENDERS), tmp_path_factory.mktemp("golden"))


@pytest.mark.parametrize("kind", list(RENDERS))
def test_renders_are_what_they_were(rendered, kind):
    recorded = json.loads((GOLDEN / "golden.json").read_text())
    digest, thumbs = fingerprint(rendered[kind])
    expected = np.load(GOLDEN / f"{kind}.npy")
    assert thumbs.shape == expected.shape
    difference = np.abs(thumbs.astype(float) - expected).mean()
    assert difference < 0.6, f"{kind}: thumbnails differ by {difference:.2f} levels on average"
    if recorded["machine"] == machine():
        assert digest == recorded[kind], f"{kind}: not bit-identical on the fingerprints' machine"
    else:
        print(f"{kind}: another machine ({machine()}); thumbnails agree to {difference:.3f} levels")


if __name__ == "__main__":  # python -m tests.render.test_golden CHECKOUT_OF_THE_REFERENCE_CODE
    import tempfile

    code = Path(sys.argv[1]).resolve()
    GOLDEN.mkdir(exist_ok=True)
    recorded = {"machine": machine(), "code": subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=code, capture_output=True, text=True).stdout.strip()}
    with tempfile.TemporaryDirectory() as tmp:
        for kind, frames in render(list(RENDERS), Path(tmp), code).items():
            recorded[kind], thumbs = fingerprint(frames)
            np.save(GOLDEN / f"{kind}.npy", thumbs)
    (GOLDEN / "golden.json").write_text(json.dumps(recorded, indent=1) + "\n")
