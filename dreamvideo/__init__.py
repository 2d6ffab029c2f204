"""dreamvideo: DeepDream for stills, videos and infinite-zoom loops.

>>> import dreamvideo
>>> rgb = dreamvideo.dream_image("samples/inputs/chelsea.jpg", max_size=256)

Configuration objects are light; the functions that need TensorFlow import it on
first use, so ``import dreamvideo`` and ``dreamvideo --help`` stay fast.
"""

from __future__ import annotations

from typing import Any

from dreamvideo.config import (
    DreamConfig,
    Keyframe,
    ModelConfig,
    OutputConfig,
    SourceConfig,
    TemporalConfig,
    ZoomConfig,
)
from dreamvideo.errors import DreamvideoError

__version__ = "0.1.0"
__all__ = ["DreamConfig", "DreamvideoError", "Keyframe", "ModelConfig", "OutputConfig", "Pipeline",
           "SourceConfig", "TemporalConfig", "ZoomConfig", "dream_image", "dream_video", "load_preset",
           "render_gallery", "render_still", "render_video", "render_zoom", "run_pipeline", "score_videos",
           "zoom"]

_LAZY = {  # public name: (module, attribute)
    "dream_image": ("dreamvideo.stills", "dream_image"),
    "render_still": ("dreamvideo.stills", "render_still"),
    "render_gallery": ("dreamvideo.gallery", "render_gallery"),
    "render_video": ("dreamvideo.video", "render_video"),
    "dream_video": ("dreamvideo.video", "render_video"),
    "render_zoom": ("dreamvideo.zoomloop", "render_zoom"),
    "zoom": ("dreamvideo.zoomloop", "render_zoom"),
    "score_videos": ("dreamvideo.score", "score_videos"),
    "load_preset": ("dreamvideo.presets", "load_preset"),
    "run_pipeline": ("dreamvideo.presets", "run_pipeline"),
    "Pipeline": ("dreamvideo.presets", "Pipeline"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'dreamvideo' has no attribute {name!r}")
