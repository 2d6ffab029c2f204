"""Every Keras backend computes the same dream: this process runs one backend
(TensorFlow unless KERAS_BACKEND says otherwise); the others run in subprocesses."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dreamvideo.core.backends import NAMES, installed, load_keras, select
from dreamvideo.errors import DreamvideoError
from tests.conftest import ROOT
from tests.core.backend_probe import probe

HERE = load_keras().backend.backend()
OTHERS = [pytest.param(name, marks=pytest.mark.skipif(not installed(name), reason=f"{name} is not installed"))
          for name in NAMES if name != HERE]


def _start_elsewhere(backend: str, log: Path, *args: str) -> subprocess.Popen:
    """``python ARGS`` on ``backend``, its output into ``log``."""
    with log.open("w") as out:
        return subprocess.Popen([sys.executable, *args], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "KERAS_BACKEND": backend}, text=True)


def _finished(started, timeout: int) -> str:
    proc, log = started
    proc.wait(timeout=timeout)
    output = log.read_text()
    assert proc.returncode == 0, output[-5000:]
    return output


def start_probe(backend: str, log: Path) -> subprocess.Popen:
    """This backend's probe (tests/core/backend_probe.py), into p.npz beside ``log``."""
    probe_file = str(log.with_name("p.npz"))
    return _start_elsewhere(backend, log, "-m", "tests.core.backend_probe", probe_file, "--real")


@pytest.fixture(scope="module")
def here(squeezenet_weights) -> dict[str, np.ndarray]:
    return probe(real=True)


def _relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / np.abs(a).max())


@pytest.mark.parametrize("backend", OTHERS)
def test_same_numbers_on_every_backend(backend, here, started_early):
    """The other backend's probe runs in a process started with the session (conftest)."""
    _finished(started_early, timeout=600)
    there = dict(np.load(started_early[1].with_name("p.npz")))
    # the tiny network: gradients, and whole octaves untiled and tiled, to 1e-5
    assert here["tiny_loss"] == pytest.approx(there["tiny_loss"], rel=1e-5)
    for key in ("tiny_grad", "tiny_untiled_image", "tiny_tiled_image"):
        assert _relative(here[key], there[key]) < 1e-5, key
    for key in ("tiny_untiled_losses", "tiny_tiled_losses"):
        np.testing.assert_allclose(there[key], here[key], rtol=1e-5)
    # a guided loss over channel terms (core.guide, core.models), the same to 1e-5
    assert here["guided_loss"] == pytest.approx(there["guided_loss"], rel=1e-5)
    assert _relative(here["guided_grad"], there["guided_grad"]) < 1e-5
    # the device flow (keras.ops: mirrored padding, bicubic sampling, its loops), to 1e-4 px
    np.testing.assert_allclose(there["flow_both_ways"], here["flow_both_ways"], atol=1e-4)
    # SqueezeNet with the real weights. The ascent can be chaotic in float32 (on TensorFlow a
    # change of 1e-5, on 0-255, to the input departs by 2.6e-2 within two octaves), so the
    # backends are held to the first octave's loss curve to 1e-3 (seen: 3e-6), and the whole
    # still to its final loss and dream strength.
    a, b = here["real_losses"], there["real_losses"]
    assert len(a) == len(b) == 16
    np.testing.assert_allclose(b[:8], a[:8], rtol=1e-3)
    assert b[-1] == pytest.approx(a[-1], rel=0.1)
    assert there["real_strength"] == pytest.approx(here["real_strength"], rel=0.05)


test_same_numbers_on_every_backend.start_early = start_probe  # type: ignore[attr-defined]


def start_rerun(backend: str, log: Path) -> subprocess.Popen:
    """The re-run of test_core_still_and_video_tests_pass_on, its output into ``log``.

    Not again on JAX, what test_same_numbers_on_every_backend already holds to TensorFlow's
    numbers to 1e-5 (the tiny network's octave, tiled and untiled), nor the video tests whose
    compiled steps the ones kept run too (h264_with_audio: the FAST carry of guided_video's
    plain render; hard_cut: the cut is found on the host, and the restart is
    test_temporal's), nor of the frame step more than that it is one program (each of its
    tests compiles the step anew, ~9 s on JAX on a CPU)."""
    tests = ["tests/core/test_dream.py", "tests/core/test_preprocess.py", "tests/render/test_stills.py",
             "tests/render/test_video.py", "tests/temporal/test_temporal.py", "tests/temporal/test_step.py"]
    video = ("flow_flickers", "ramps_in", "guided_video")
    select = (f"not 4k_still and not tiled_step_matches and (not test_video or {' or '.join(video)}) "
              "and (not test_step or one_program)")
    return _start_elsewhere(backend, log, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            "--basetemp", str(log.parent / "tmp"), *tests, "-k", select)


@pytest.mark.slow
@pytest.mark.parametrize("backend", [p for p in OTHERS if p.values[0] == "jax"])
def test_core_still_and_video_tests_pass_on(backend, started_early):
    """The core, still and video tests again, on another backend (CI: JAX on the CPU): the
    dream core, the carry, stills, and the video tests that dream through the backend (not
    those of containers, codecs, streams and errors, the same code on every backend; the
    models' building is checked on every backend by test_same_numbers_on_every_backend).
    Its process starts with the session and this test, run last, waits for it (conftest)."""
    print(_finished(started_early, timeout=1500).strip().splitlines()[-1])


test_core_still_and_video_tests_pass_on.start_early = start_rerun  # type: ignore[attr-defined]


def test_unknown_or_missing_backend_is_one_line():
    with pytest.raises(DreamvideoError, match="unknown backend 'mxnet'; choose one of: tensorflow, jax"):
        select("mxnet")
    other = next(name for name in NAMES if name != HERE)
    with pytest.raises(DreamvideoError, match=f"already runs Keras on {HERE}; the {other} backend needs"):
        select(other)


def test_missing_backend_names_the_pip_command(tmp_path):
    """As on a machine without TensorFlow (the GPU machines here have only JAX and PyTorch)."""
    hide = "import sys; sys.modules['tensorflow'] = None; from dreamvideo.cli import main; sys.exit(main())"
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    proc = subprocess.run([sys.executable, "-c", hide, "still", str(ROOT / "samples/inputs/chelsea.jpg"),
                           "-o", str(tmp_path / "o.png")], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dreamvideo: error: the tensorflow backend is not "
                                                   "installed: pip install"), lines
    assert "--backend" in lines[0] or not any(installed(n) for n in ("jax", "torch"))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["tensorflow", "jax", "torch"])
def test_each_backend_module_implements_the_protocol(name):
    """core/backends/protocol.py says once what a backend provides; each module has it,
    with the same parameters."""
    import importlib
    import importlib.util
    import inspect

    from dreamvideo.core.backends.protocol import Backend

    if importlib.util.find_spec(name) is None:
        pytest.skip(f"{name} is not installed")
    backend = importlib.import_module(f"dreamvideo.core.backends.{name}")
    assert isinstance(backend, Backend)
    for attribute, declared in vars(Backend).items():
        if callable(declared) and not attribute.startswith("_"):
            wanted = list(inspect.signature(declared).parameters)[1:]  # less self
            assert list(inspect.signature(getattr(backend, attribute)).parameters) == wanted, attribute
