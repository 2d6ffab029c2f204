"""Warm engines: one network per (model, backend, precision), built once in the
background and kept for every preview; the page asks whether it is ready.
(Tests: tests/studio/test_app.py.)"""

from __future__ import annotations

import threading

from dreamvideo.config import ModelConfig
from dreamvideo.core.engine import Engine
from dreamvideo.errors import DreamvideoError


class Engines:
    """The engines the studio has built, by model configuration."""

    def __init__(self) -> None:
        self._engines: dict[ModelConfig, Engine] = {}
        self._lock = threading.Lock()
        self.loading: str | None = None  # what is being built now, in words
        self.error: str | None = None  # why the last build failed

    def warm(self, model: ModelConfig) -> threading.Thread:
        """Build ``model``'s engine in a thread of its own (the page meanwhile says so)."""
        thread = threading.Thread(target=self._build, args=(model,), name="dreamvideo-studio-warm",
                                  daemon=True)
        thread.start()
        return thread

    def _build(self, model: ModelConfig) -> None:
        try:
            self.get(model)
        except DreamvideoError as e:
            self.error = str(e)

    def get(self, model: ModelConfig) -> Engine:
        """The engine of ``model``, its network loaded (built now when it is new)."""
        with self._lock:
            engine = self._engines.get(model)
            if engine is None:
                self.loading = f"loading {model.name}"
                try:
                    engine = Engine(model)
                    engine.loaded  # noqa: B018  (builds the network and loads its weights)
                    self._engines[model] = engine
                    self.error = None
                finally:
                    self.loading = None
            return engine

    @property
    def ready(self) -> list[str]:
        return [model.name for model in self._engines]
