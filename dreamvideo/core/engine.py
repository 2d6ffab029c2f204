"""A network on one backend, ready to dream: what every renderer receives.

Building a network, loading its weights and compiling an octave loop cost seconds; an
:class:`Engine` does each once and keeps it, in plain sight: make one and pass it to
every render that should share it. Nothing here caches behind anyone's back; the one
process that keeps engines for its callers is a Ray worker (``render.pieces``), one per
model configuration, for every piece it dreams. What a render compiles beyond the octave
(a video's frame step) it keeps here too, through :meth:`Engine.keep`.

(Tests: tests/core/test_models.py.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from dreamvideo.config import DreamConfig, ModelConfig
from dreamvideo.core.backends import module, select
from dreamvideo.core.dream import Dreamer, check_size
from dreamvideo.core.guide import guided, read_guide
from dreamvideo.core.models import LoadedModel, load_model, make_extractor
from dreamvideo.core.plan import octave_shapes
from dreamvideo.core.process import compile_cache
from dreamvideo.errors import DreamvideoError

KEPT = 8  # compiled things an engine keeps (each a video size and settings; a studio tries many)


class Engine:
    """One model on one backend, with a compiled :class:`Dreamer` per set of layers."""

    def __init__(self, model: ModelConfig | None = None) -> None:
        self.config = model or ModelConfig()
        self.backend = select(self.config.backend)  # before anything loads Keras
        compile_cache(self.backend, self.config.compile_cache)  # before anything compiles
        self._loaded: LoadedModel | None = None
        self._dreamers: dict[tuple[tuple[str, ...], str | None], Dreamer] = {}
        self._kept: dict[Any, Any] = {}

    @property
    def loaded(self) -> LoadedModel:
        """The whole network with its weights, built on first use."""
        if self._loaded is None:
            self._loaded = load_model(self.config)
        return self._loaded

    def layers(self, dream: DreamConfig) -> dict[str, float]:
        """The configured layers with their weights, or the model's defaults."""
        layers = dream.layers or self.loaded.default_layers
        if not layers:
            raise DreamvideoError(f"model {self.config.name} has no default layers; "
                                  "pass --layers name=weight,...")
        return dict(layers)

    def dreamer(self, names: Sequence[str], guide: str | None = None) -> Dreamer:
        """The dreamer of these layers (their network cut at the deepest), compiled once;
        with ``guide`` (an image file), its loss follows that image's features."""
        key = (tuple(names), guide)
        if key not in self._dreamers:
            extractor = make_extractor(self.loaded, key[0])
            if guide is not None:
                extractor = guided(extractor, read_guide(guide))
            self._dreamers[key] = Dreamer(extractor)
        return self._dreamers[key]

    def prepare(self, dream: DreamConfig, height: int, width: int,
                names: Sequence[str] | None = None) -> tuple[Dreamer, dict[str, float]]:
        """The dreamer and layer weights for images of this size: every error about the
        model, the layers or the size before any progress bar. ``names``: every layer a
        render may weigh over time (zoom keyframes), if more than the configured ones."""
        layers = self.layers(dream)
        dreamer = self.dreamer(names or tuple(layers), dream.guide)
        check_size(dreamer.extractor, height, width)
        return dreamer, layers

    def octave_count(self, dreamer: Dreamer, dream: DreamConfig, height: int, width: int,
                     warn: bool = True) -> int:
        """How many octaves an image of this size gets (warns once if a count given is reduced)."""
        return len(octave_shapes(height, width, dream.octaves, dream.octave_scale, dreamer.extractor.min_size,
                                 warn))

    def keep(self, key: Any, build: Callable[[], Any]) -> Any:
        """``build()`` once per ``key`` (hashable), kept for every later render with this
        engine: a video's dreams with their compiled frame steps (``render.chain.dreams``),
        so a second render of that size and those settings compiles nothing. The
        :data:`KEPT` newest are kept."""
        if key not in self._kept:
            while len(self._kept) >= KEPT:
                del self._kept[next(iter(self._kept))]  # the oldest
            self._kept[key] = build()
        return self._kept[key]

    def repeatable(self) -> None:
        """Same seed, same pixels: deterministic (slower) kernels where the device has a choice."""
        module().enable_determinism()
