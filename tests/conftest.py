"""Shared fixtures: the real SqueezeNet weights, generated clips, tiny random models,
small images; and the real-footage tier, run only where ``../shared/media`` exists."""

from __future__ import annotations

import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest

from tests.clips import Media

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples" / "inputs"
REAL_MEDIA = ROOT.parent / "shared" / "media"  # real footage beside the clone (CI has it)
_real_media_skipped: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "real_media: needs the real clips in ../shared/media")
    # a runner that starts the suite in the background hands it Ctrl-C ignored, and every
    # process a test starts would inherit that; the Ctrl-C tests need it as a terminal has it
    signal.signal(signal.SIGINT, signal.default_int_handler)


SLOW_FIXTURES = {"squeezenet_weights", "engine", "media"}  # the real network, or clips made with ffmpeg


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The two tiers: a test that dreams with the real network or decodes generated clips
    is slow (CI runs it too); the rest, the fast tier, is what `pytest -m "not slow"` runs."""
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())) or item.get_closest_marker("real_media"):
            item.add_marker(pytest.mark.slow)
    if not REAL_MEDIA.is_dir():
        _real_media_skipped[:] = [item.nodeid for item in items if item.get_closest_marker("real_media")]


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.nodeid in _real_media_skipped:  # one skip site: -ra reports them on one line
        pytest.skip(f"{REAL_MEDIA} not found: {len(_real_media_skipped)} real-footage tests skipped")


def pytest_terminal_summary(terminalreporter) -> None:
    if _real_media_skipped:
        terminalreporter.write_line(f"{REAL_MEDIA} not found: {len(_real_media_skipped)} real-footage tests "
                                    "skipped (the generated clips cover the same code)")


_early: dict[str, tuple[subprocess.Popen, Path]] = {}


def _start_early(item: pytest.Item) -> tuple[subprocess.Popen, Path]:
    folder = Path(tempfile.mkdtemp(prefix="dreamvideo-early-"))
    params = getattr(item, "callspec", None)
    return item.function.start_early(**(params.params if params else {}), log=folder / "log.txt"), folder


def pytest_collection_finish(session: pytest.Session) -> None:
    """A test whose function has ``start_early(**params, log=PATH)`` (in
    tests/core/test_backends.py: the other backends' probes, and the JAX re-run, a pytest of
    its own) gets that process started now, and runs last: the process works while the other
    tests wait on ffmpeg and on the TensorFlow imports of their subprocesses (on 2 cores the
    suite leaves about half the CPU idle). The test gets (process, log) from the
    ``started_early`` fixture, and checks the process's results as before."""
    if session.config.option.collectonly:
        return
    early = [item for item in session.items if hasattr(getattr(item, "function", None), "start_early")
             and not any(mark.args and mark.args[0] is True for mark in item.iter_markers("skipif"))]
    for item in early:
        session.items.remove(item)
        session.items.append(item)
        _early[item.nodeid] = _start_early(item)


def pytest_sessionfinish(session: pytest.Session) -> None:
    for proc, folder in _early.values():  # a session stopped before the test (-x, Ctrl-C)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def started_early(request: pytest.FixtureRequest):
    """(process, log) of this test's ``start_early``: started with the session, or now."""
    node = request.node
    proc, folder = _early.pop(node.nodeid, None) or _start_early(node)
    yield proc, folder / "log.txt"
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def squeezenet_weights() -> Path:
    """The weights, found as the product finds them: $DREAMVIDEO_WEIGHTS_DIR, the Keras
    cache, the pinned download. Missing weights fail the test with the product's message."""
    from dreamvideo.core.models import REGISTRY
    from dreamvideo.core.weights import resolve_weights
    from dreamvideo.errors import DreamvideoError

    try:
        return Path(resolve_weights(REGISTRY["squeezenet"].weights, None)).resolve()
    except DreamvideoError as e:
        pytest.fail(f"the SqueezeNet weights are needed: {e}")


@pytest.fixture(scope="session")
def engine(squeezenet_weights: Path):
    """SqueezeNet with the real weights on the running backend, built once for the session
    (an Engine keeps its network and compiled dreamers; tests share one, as a program would)."""
    from dreamvideo.core.engine import Engine

    return Engine()


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> Media:
    """Small generated clips (see tests/clips.py), each made once per session."""
    return Media(tmp_path_factory.mktemp("media"))


@pytest.fixture(scope="session")
def cat() -> np.ndarray:
    """Chelsea the cat, 300x451 RGB uint8 (CC0, from scikit-image's data)."""
    import imageio.v3 as iio

    return iio.imread(SAMPLES / "chelsea.jpg")


def tiny_network(kind: str = "functional"):
    """Two 3x3 convolutions (receptive field 5 px) with seeded NumPy weights, the same on
    every backend; any input size."""
    from dreamvideo.core.backends import load_keras

    keras = load_keras()
    inputs = keras.Input(shape=(None, None, 3))
    a = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="a")(inputs)
    b = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="b")(a)
    model = keras.Model(inputs, b, name="tiny")
    rng = np.random.default_rng(1)
    model.set_weights([rng.normal(0, 0.3, w.shape).astype(np.float32) for w in model.get_weights()])
    return model


@pytest.fixture(scope="session")
def tiny_keras_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("models") / "tiny.keras"
    tiny_network().save(path)
    return path


def tiny_extractor_for():
    """Extractor over the tiny network's layers a and b (tf preprocessing)."""
    from dreamvideo.core.models import LoadedModel, dreamable_layers, make_extractor

    net = tiny_network()
    loaded = LoadedModel("tiny", net, "tf", dreamable_layers(net), (("b", 1.0),))
    return make_extractor(loaded, ["a", "b"])


@pytest.fixture(scope="session")
def tiny_extractor():
    return tiny_extractor_for()
