"""Which Keras backend runs the dream: TensorFlow (the default), JAX or PyTorch.

Keras reads ``KERAS_BACKEND`` once, when it is first imported, so the choice is made
here before that: ``--backend`` (``ModelConfig.backend``), else ``$KERAS_BACKEND``, else
TensorFlow. The dream itself is written in ``keras.ops``; each backend module beside
this one holds only what Keras does not abstract: the gradient of the loss with respect
to the image and the compiled loop of an octave's steps.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import sys
import tempfile
from types import ModuleType
from typing import Any

from dreamvideo.config.choices import BACKENDS
from dreamvideo.errors import DreamvideoError

NAMES = BACKENDS
DEFAULT = "tensorflow"
STATUS_LOG = "dreamvideo.status"  # what a long start is busy with ("loading ..."): the CLI shows it
VERBOSE = "DREAMVIDEO_VERBOSE"  # 1: show the backends' (and Ray's) own start-up logs; `dreamvideo -v` sets it
INSTALL = {"tensorflow": 'pip install "dreamvideo"  (TensorFlow is a core dependency)',
           "jax": 'pip install "dreamvideo[jax]"  (for NVIDIA GPUs: pip install "jax[cuda12]")',
           "torch": 'pip install "dreamvideo[torch]"'}


def verbose() -> bool:
    """Whether the user asked for the libraries' own logs (``-v`` or ``$DREAMVIDEO_VERBOSE``)."""
    return os.environ.get(VERBOSE, "") not in ("", "0")


def requested(name: str | None = None) -> str:
    """The backend a render would use: ``name``, else ``$KERAS_BACKEND``, else TensorFlow."""
    name = name or os.environ.get("KERAS_BACKEND") or DEFAULT
    if name not in NAMES:
        raise DreamvideoError(f"unknown backend {name!r}; choose one of: {', '.join(NAMES)}")
    return name


def active() -> str | None:
    """The backend Keras already runs on in this process, or None before Keras loads."""
    keras = sys.modules.get("keras")
    return keras.backend.backend() if keras is not None and hasattr(keras, "backend") else None


def installed(name: str) -> bool:
    """Whether the backend's package can be imported here (without importing it)."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a module hidden or half-removed
        return False


def select(name: str | None = None) -> str:
    """Make ``name`` (or the default) the backend of this process; return its name.

    Errors in one line: an unknown name, a backend that is not installed (with the pip
    command), or a second backend in a process where Keras already runs on another.
    """
    name = requested(name)
    running = active()
    if running is not None:
        if running != name:
            raise DreamvideoError(f"this process already runs Keras on {running}; the {name} backend needs "
                                  "a new process (set --backend or KERAS_BACKEND before the first dream)")
        return name
    if not installed(name):
        others = [n for n in NAMES if n != name and installed(n)]
        hint = f"; or use an installed one: --backend {others[0]}" if others else ""
        raise DreamvideoError(f"the {name} backend is not installed: {INSTALL[name]}{hint}")
    os.environ["KERAS_BACKEND"] = name
    return name


def _quiet_import(names: tuple[str, ...]) -> None:
    """Import while fd 2 goes to a file: TensorFlow and XLA print start-up chatter (CUDA
    probing, oneDNN notes) there before any logging is set up. Shown only on failure, or
    when the user asked for it (``-v``, or TF_CPP_MIN_LOG_LEVEL 0 or 1)."""
    if verbose() or os.environ.get("TF_CPP_MIN_LOG_LEVEL") in ("0", "1"):
        for name in names:
            importlib.import_module(name)
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            for name in names:
                importlib.import_module(name)
        except BaseException:
            os.dup2(saved, 2)
            capture.seek(0)
            sys.stderr.write(capture.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


class _ExpectedRetracing(logging.Filter):
    """Each Dreamer compiles its own graph once (one per model and layer set); TensorFlow
    counts those together and warns of "retracing". Real retracing is tested for."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


def load_keras() -> Any:
    """Keras on the selected backend, imported once and quietly."""
    if "keras" not in sys.modules:
        name = select()
        _quiet_import((name, "keras"))
        if name == "tensorflow":
            import tensorflow as tf

            tf.get_logger().addFilter(_ExpectedRetracing())
    import keras

    return keras


def module() -> ModuleType:  # a Backend (protocol.py)
    """The module of the running backend: its gradient and compiled octave loop."""
    keras = load_keras()
    return importlib.import_module(f"dreamvideo.core.backends.{keras.backend.backend()}")


def device() -> str:
    """Where the dream runs, in words (for bench and the output's summary)."""
    return module().device()
