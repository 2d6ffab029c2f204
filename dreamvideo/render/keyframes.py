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

from dreamvideo.config import Keyframe, ZoomConfig


@dataclass(frozen=True)
class Moment:
    """Every animated setting at one instant."""

    zoom: float
    rotate: float
    pan: tuple[float, float]
    layers: dict[str, float]
    steps: int


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


def layer_names(config: ZoomConfig, base_layers: dict[str, float]) -> tuple[str, ...]:
    """Every layer any moment may weigh: the extractor must compute them all."""
    names = dict.fromkeys(base_layers)
    for k in config.keyframes:
        names.update(dict.fromkeys(name for name, _ in (k.layers or ())))
    return tuple(names)


def moment(config: ZoomConfig, base_layers: dict[str, float], t: float) -> Moment:
    """The settings in force at ``t`` seconds."""
    keys = config.keyframes
    # eased in log space; the log points are plain numbers, not Keyframes (whose zoom must be > 0)
    zoom = _value_at([(0.0, math.log(config.zoom))]
                     + [(k.at, math.log(k.zoom)) for k in keys if k.zoom is not None], t, _lerp)
    pan = _value_at(_course(config.pan, keys, "pan"), t,
                    lambda a, b, w: (_lerp(a[0], b[0], w), _lerp(a[1], b[1], w)))
    layers = _value_at([(0.0, base_layers)] + [(k.at, dict(k.layers)) for k in keys if k.layers], t,
                       _mix_layers)
    return Moment(math.exp(zoom), _value_at(_course(config.rotate, keys, "rotate"), t, _lerp), pan,
                  {**dict.fromkeys(layer_names(config, base_layers), 0.0), **layers},
                  round(_value_at(_course(config.steps, keys, "steps"), t, _lerp)))
