"""Where model weights come from: an explicit file, `$DREAMVIDEO_WEIGHTS_DIR`, or a
verified download cached by Keras. Never silently random."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from dreamvideo.errors import DreamvideoError

ENV_VAR = "DREAMVIDEO_WEIGHTS_DIR"


@dataclass(frozen=True)
class WeightsFile:
    """A published weights file: its name, public address and pinned hash."""

    name: str
    url: str
    file_hash: str  # sha256 (64 hex digits) or md5 (32), as keras.utils.get_file takes


def resolve_weights(published: WeightsFile | None, explicit: str | None,
                    cache_dir: str | None = None) -> str | None:
    """Path of the weights to load, or None when the user asked for random ones.

    Order: ``explicit`` (a file, or ``"none"`` for random weights), then
    ``$DREAMVIDEO_WEIGHTS_DIR/<name>``, then ``keras.utils.get_file`` (checks the
    hash, caches under ``cache_dir/models``, by default Keras's ``~/.keras/models``).
    """
    if explicit is not None:
        if explicit.lower() == "none":
            return None
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise DreamvideoError(f"weights file {explicit} does not exist")
        return str(path)
    if published is None:
        raise DreamvideoError("this model has no published weights; pass --weights FILE "
                              "(or --weights none for random weights)")
    env_dir = os.environ.get(ENV_VAR)
    if env_dir:
        folder = Path(env_dir).expanduser()
        if not folder.is_dir():
            where = "" if folder.is_absolute() else f", relative to the current folder {Path.cwd()}"
            raise DreamvideoError(f"${ENV_VAR} names {env_dir}, which is not a folder{where}; set it to "
                                  f"the folder that holds {published.name} (an absolute path works from "
                                  "anywhere)")
        candidate = folder / published.name
        if candidate.is_file():
            return str(candidate)
    from dreamvideo.core.backends import load_keras  # deferred: importing Keras costs seconds

    keras = load_keras()
    cache = Path(cache_dir or os.environ.get("KERAS_HOME") or "~/.keras").expanduser() / "models"
    try:
        with contextlib.redirect_stdout(_HeldUntilProgress(sys.stdout)):
            return keras.utils.get_file(published.name, published.url,
                                        file_hash=published.file_hash, cache_subdir="models",
                                        cache_dir=cache_dir)
    except Exception as e:  # network errors, hash mismatch, unwritable cache
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        reason = reason.rsplit(" -- ", 1)[-1]  # Keras repeats the address before the cause
        searched = (f"${ENV_VAR} ({Path(env_dir).expanduser()})" if env_dir else f"${ENV_VAR} (unset)")
        raise DreamvideoError(
            f"{published.name} is not in {searched} nor the Keras cache ({cache}), and downloading "
            f"it from {published.url} failed ({reason}); put the file in ${ENV_VAR} or the Keras "
            "cache, or pass --weights FILE") from None


class _HeldUntilProgress(io.TextIOBase):
    """Keras announces a download ("Downloading data from ...") before it connects, then
    draws a progress bar. The announcement is held back until the bar's first write, so a
    download that cannot start leaves only the one-line error."""

    def __init__(self, target: TextIO) -> None:
        self._target, self._held = target, []
        self._writes = 0

    def write(self, text: str) -> int:
        self._writes += 1
        if self._writes == 1:
            self._held.append(text)
        else:
            for held in self._held:
                self._target.write(held)
            self._held.clear()
            self._target.write(text)
        return len(text)

    def flush(self) -> None:
        if not self._held:
            self._target.flush()
