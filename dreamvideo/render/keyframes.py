"""Settings that change over time: keyframes, eased in and out between one another.

Each setting has its own course: the base value at 0 s, then every keyframe that sets
it. Between two points the value follows a smoothstep (no jerk where motion starts or
stops); after the last it holds. Zoom is eased in log space, so x1 → x4 passes x2
half-way; layer weights are eased one by one (a layer a keyframe leaves out weighs 0).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from dreamvideo.config import DreamConfig, Keyframe, TemporalConfig, ZoomConfig


@dataclass(frozen=True)
class Moment:
    """Every animated setting at one instant (a video's camera is its footage: no motion)."""

    zoom: float
    rotate: float
    pan: tuple[float, float]
    layers: dict[str, float]
    steps: int  # zoom: dream steps per frame; video: steps of each carried frame
    step_size: float | None = None  # None: the configured one
    guide_weight: float = 1.0
    carry: float = 1.0  # video only


def smoothstep(x: float) -> float:
    x = min(max(x, 0.0), 1.0)
    return x * x * (3 - 2 * x)


def _course(base: Any, keyframes: Sequence[Keyframe], name: str) -> list[tuple[float, Any]]:
    points = [(0.0, base)]
    points += [(k.at, getattr(k, name)) for k in keyframes if getattr(k, name) is not None]
    return points


def _value_at(points: list[tuple[float, Any]], t: float, mix: Callable[[Any, Any, float], Any]) -> Any:
    before = [p for p in points if p[0] <= t]
    after = [p for p in points if p[0] > t]
    t0, v0 = before[-1]
    if not after:
        return v0
    t1, v1 = after[0]
    return mix(v0, v1, smoothstep((t - t0) / (t1 - t0)))


def _lerp(a: float, b: float, w: float) -> float:
    return a + (b - a) * w


def _mix_layers(a: dict[str, float], b: dict[str, float], w: float) -> dict[str, float]:
    return {name: _lerp(a.get(name, 0.0), b.get(name, 0.0), w) for name in {**a, **b}}


def layer_names(keyframes: ZoomConfig | Sequence[Keyframe], base_layers: dict[str, float]) -> tuple[str, ...]:
    """Every layer any moment may weigh: the extractor must compute them all."""
    keys = keyframes.keyframes if isinstance(keyframes, ZoomConfig) else keyframes
    names = dict.fromkeys(base_layers)
    for k in keys:
        names.update(dict.fromkeys(name for name, _ in (k.layers or ())))
    return tuple(names)


def _layers_at(keys: Sequence[Keyframe], base_layers: dict[str, float], t: float) -> dict[str, float]:
    layers = _value_at([(0.0, base_layers)] + [(k.at, dict(k.layers)) for k in keys if k.layers], t,
                       _mix_layers)
    return {**dict.fromkeys(layer_names(keys, base_layers), 0.0), **layers}


def _dream_at(keys: Sequence[Keyframe], dream: DreamConfig | None, t: float) -> dict[str, Any]:
    if dream is None:
        return {}
    return {"step_size": _value_at(_course(dream.step_size, keys, "step_size"), t, _lerp),
            "guide_weight": _value_at(_course(dream.guide_weight, keys, "guide_weight"), t, _lerp)}


def moment(config: ZoomConfig, base_layers: dict[str, float], t: float,
           dream: DreamConfig | None = None) -> Moment:
    """The settings of a zoom in force at ``t`` seconds (with ``dream``: its step size and
    guide weight too)."""
    keys = config.keyframes
    # eased in log space; the log points are plain numbers, not Keyframes (whose zoom must be > 0)
    zoom = _value_at([(0.0, math.log(config.zoom))]
                     + [(k.at, math.log(k.zoom)) for k in keys if k.zoom is not None], t, _lerp)
    pan = _value_at(_course(config.pan, keys, "pan"), t,
                    lambda a, b, w: (_lerp(a[0], b[0], w), _lerp(a[1], b[1], w)))
    steps = round(_value_at(_course(config.steps, keys, "steps"), t, _lerp))
    return Moment(math.exp(zoom), _value_at(_course(config.rotate, keys, "rotate"), t, _lerp), pan,
                  _layers_at(keys, base_layers, t), steps, **_dream_at(keys, dream, t))


def video_moment(temporal: TemporalConfig, dream: DreamConfig, base_layers: dict[str, float],
                 t: float) -> Moment:
    """The settings of a video frame at ``t`` seconds: layers, step size, the carried
    frames' steps, carry and guide weight, each eased between the keyframes that set it."""
    keys = temporal.keyframes
    return Moment(1.0, 0.0, (0.0, 0.0), _layers_at(keys, base_layers, t),
                  round(_value_at(_course(temporal.later_steps, keys, "steps"), t, _lerp)),
                  carry=_value_at(_course(temporal.carry, keys, "carry"), t, _lerp),
                  **_dream_at(keys, dream, t))
