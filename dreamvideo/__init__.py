"""dreamvideo: DeepDream for stills, videos and infinite-zoom loops.

>>> import dreamvideo
>>> rgb = dreamvideo.dream_image("samples/inputs/chelsea.jpg", max_size=256)

Configuration objects are light; the functions that need TensorFlow import it on
first use, so ``import dreamvideo`` and ``dreamvideo --help`` stay fast.
"""

from __future__ import annotations

from typing import Any

from dreamvideo.config import DreamConfig, ModelConfig, SourceConfig
from dreamvideo.errors import DreamvideoError

__version__ = "0.1.0"
__all__ = ["DreamConfig", "DreamvideoError", "Keyframe", "ModelConfig", "SourceConfig", "TemporalConfig",
           "ZoomConfig", "dream_image", "render_gallery", "render_still", "render_video", "render_zoom",
           "score_videos"]

_LAZY = {"dream_image": "dreamvideo.stills", "render_still": "dreamvideo.stills",
         "render_gallery": "dreamvideo.gallery", "render_video": "dreamvideo.video",
         "score_videos": "dreamvideo.score", "render_zoom": "dreamvideo.zoom"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'dreamvideo' has no attribute {name!r}")
