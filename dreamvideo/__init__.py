"""dreamvideo: DeepDream for stills, videos and infinite-zoom loops.

>>> import dreamvideo
>>> rgb = dreamvideo.dream_image("samples/inputs/chelsea.jpg", max_size=256)  # doctest: +SKIP

Configuration objects are light; the functions that need Keras import it on first
use, so ``import dreamvideo`` and ``dreamvideo --help`` stay fast. Reuse an
:class:`Engine` (a network built once on one backend) across many renders.
"""

from __future__ import annotations

from typing import Any

from dreamvideo.config import (
    DreamConfig,
    Keyframe,
    ModelConfig,
    OutputConfig,
    Pipeline,
    SourceConfig,
    TemporalConfig,
    ZoomConfig,
)
from dreamvideo.errors import DreamvideoError

__version__ = "0.1.0"
__all__ = ["DreamConfig", "DreamvideoError", "Engine", "Keyframe", "ModelConfig", "OutputConfig", "Pipeline",
           "Run", "SourceConfig", "TemporalConfig", "ZoomConfig", "dream_image", "dream_video", "load_preset",
           "render", "render_gallery", "render_still", "render_video", "render_zoom", "run_pipeline",
           "score_videos", "zoom"]

_LAZY = {  # public name: (module, attribute)
    "dream_image": ("dreamvideo.render.stills", "dream_image"),
    "render_still": ("dreamvideo.render.stills", "render_still"),
    "render_gallery": ("dreamvideo.render.gallery", "render_gallery"),
    "render_video": ("dreamvideo.render.video", "render_video"),
    "dream_video": ("dreamvideo.render.video", "render_video"),
    "Run": ("dreamvideo.render.loop", "Run"),
    "render_zoom": ("dreamvideo.render.zoom", "render_zoom"),
    "zoom": ("dreamvideo.render.zoom", "render_zoom"),
    "score_videos": ("dreamvideo.api.score", "score_videos"),
    "load_preset": ("dreamvideo.api.presets", "load_preset"),
    "run_pipeline": ("dreamvideo.api.presets", "run_pipeline"),
    "render": ("dreamvideo.api.presets", "render"),
    "Engine": ("dreamvideo.core.engine", "Engine"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'dreamvideo' has no attribute {name!r}")
