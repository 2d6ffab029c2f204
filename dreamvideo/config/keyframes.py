"""Keyframes: settings that take effect at a time and are eased in (zoom and video).

(Tests: tests/render/test_keyframes.py.)
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from dreamvideo.config.fields import Layers
from dreamvideo.config.parse import normalize_layers, parse_layers, parse_time
from dreamvideo.errors import DreamvideoError

ZOOM_ONLY = ("zoom", "rotate", "pan")  # the camera of a zoom; a video's camera is its footage
VIDEO_ONLY = ("carry",)  # the carried dream exists in video only


@dataclass(frozen=True)
class Keyframe:
    """Values that take effect at ``at`` seconds; unset ones keep their course."""

    at: float
    zoom: float | None = None
    rotate: float | None = None
    pan: tuple[float, float] | None = None
    layers: Layers | None = None
    steps: int | None = None  # zoom: dream steps per frame; video: steps of each carried frame
    step_size: float | None = None
    carry: float | None = None
    guide_weight: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.at, int | float) or self.at < 0:
            raise DreamvideoError(f"keyframe time must be a number of seconds >= 0, got {self.at!r}")
        if self.zoom is not None and not self.zoom > 0:
            raise DreamvideoError(f"keyframe zoom must be > 0, got {self.zoom!r}")
        if self.steps is not None and (int(self.steps) != self.steps or self.steps < 1):
            raise DreamvideoError(f"keyframe steps must be an integer >= 1, got {self.steps!r}")
        for name in ("step_size", "carry", "guide_weight"):
            value = getattr(self, name)
            if value is not None and not (0 <= value <= 1 and (name != "step_size" or value > 0)):
                raise DreamvideoError(f"keyframe {name} must be in {'(0' if name == 'step_size' else '[0'}, "
                                      f"1], got {value!r}")
        if self.pan is not None:
            object.__setattr__(self, "pan", tuple(float(v) for v in self.pan))
        if self.layers is not None:
            object.__setattr__(self, "layers", normalize_layers(self.layers))


def parse_keyframe(text: str) -> Keyframe:
    """``"4 zoom=2 rotate=10 pan=5,0 steps=4 layers=fire3=1,fire5=0.5"`` → :class:`Keyframe`."""
    at, *pairs = text.split()
    values: dict[str, Any] = {}
    try:
        for pair in pairs:
            key, _, value = pair.partition("=")
            if key in ("zoom", "rotate", "step_size", "carry", "guide_weight"):
                values[key] = float(value)
            elif key == "steps":
                values[key] = int(value)
            elif key == "pan":
                values[key] = tuple(float(v) for v in value.split(","))
            elif key == "layers":
                values[key] = parse_layers(value)
            else:
                raise DreamvideoError(f"unknown keyframe key {key!r}; use "
                                      f"{', '.join(f.name for f in fields(Keyframe) if f.name != 'at')}")
        return Keyframe(parse_time(at), **values)
    except ValueError:
        raise DreamvideoError(f"bad keyframe {text!r}; write e.g. \"4 zoom=2 rotate=10 pan=5,0\"") from None


def keyframe_text(keyframe: Keyframe) -> str:
    """A keyframe as ``--keyframe`` takes it: what :func:`parse_keyframe` reads back."""
    parts = [repr(float(keyframe.at))]
    for f in fields(Keyframe)[1:]:
        value = getattr(keyframe, f.name)
        if value is None:
            continue
        if f.name == "layers":
            value = ",".join(f"{name}={weight!r}" for name, weight in value)
        elif f.name == "pan":
            value = ",".join(repr(float(v)) for v in value)
        parts.append(f"{f.name}={value!r}" if isinstance(value, float) else f"{f.name}={value}")
    return " ".join(parts)


def sorted_keyframes(keyframes: Any) -> tuple[Keyframe, ...]:
    """Keyframes (or their TOML tables) in time order."""
    return tuple(sorted((k if isinstance(k, Keyframe) else Keyframe(**k) for k in keyframes),
                        key=lambda k: k.at))


def check_keyframes(keyframes: tuple[Keyframe, ...], command: str) -> None:
    """Keys that mean nothing to this command are an error, not silently ignored."""
    wrong = ZOOM_ONLY if command == "video" else VIDEO_ONLY
    for k in keyframes:
        used = [name for name in wrong if getattr(k, name) is not None]
        if used:
            raise DreamvideoError(f"keyframe at {k.at:g} s: {', '.join(used)} applies to "
                                  f"{'zoom' if command == 'video' else 'video'} only")
