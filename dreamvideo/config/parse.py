"""Values as people write them: times ``1:30.5``, layer specs ``fire5=1,fire7:12-15=1.5``.

(Tests: tests/config/test_config.py.)
"""

from __future__ import annotations

import math
from typing import Any

from dreamvideo.config.fields import Layers
from dreamvideo.errors import DreamvideoError


def parse_time(text: str | float) -> float:
    """``"90"``, ``"1:30"``, ``"00:01:30.5"`` → seconds."""
    if isinstance(text, int | float):
        return float(text)
    try:
        seconds = 0.0
        for part in str(text).strip().split(":"):
            seconds = seconds * 60 + float(part)
    except ValueError:
        raise DreamvideoError(f"bad time {text!r}; write seconds (90.5) or [HH:]MM:SS[.ff]") from None
    return seconds


def split_channels(term: str) -> tuple[str, int | None, int | None]:
    """``"fire7"`` → (fire7, None, None): every channel; ``"fire7:12"`` → (fire7, 12, 13);
    ``"fire5:3-5"`` → (fire5, 3, 6): channels 3 to 5, both included."""
    name, sep, channels = term.partition(":")
    if not sep:
        return term, None, None
    first, dash, last = channels.partition("-")
    try:
        lo, hi = int(first), int(last if dash else first) + 1
    except ValueError:
        raise DreamvideoError(f"bad channels in {term!r}; write layer:N or layer:A-B "
                              "(e.g. fire7:12, fire5:3-5)") from None
    if not name or lo < 0 or hi <= lo:
        raise DreamvideoError(f"bad channels in {term!r}; write layer:N or layer:A-B with 0 <= A <= B")
    return name, lo, hi


def normalize_layers(layers: Any) -> Layers:
    """Accept ``"a=1,b"``, ``{"a": 1}`` or pairs; return validated (name, weight) pairs."""
    if isinstance(layers, str):
        return parse_layers(layers)
    items = layers.items() if isinstance(layers, dict) else layers
    out = []
    for item in items:
        name, weight = (item, 1.0) if isinstance(item, str) else item
        if not isinstance(weight, int | float) or isinstance(weight, bool) or not math.isfinite(weight):
            raise DreamvideoError(f"layer weight for {name!r} must be a number, got {weight!r}")
        split_channels(str(name))  # a bad channel range fails here, before any model loads
        out.append((str(name), float(weight)))
    if not out:
        raise DreamvideoError("layers must name at least one layer")
    if len({name for name, _ in out}) != len(out):
        raise DreamvideoError(f"layers names a layer twice: {', '.join(n for n, _ in out)}")
    if not any(weight != 0 for _, weight in out):
        raise DreamvideoError("at least one layer weight must be non-zero")
    return tuple(out)


def parse_layers(text: str) -> Layers:
    """``"fire5=1.0,fire7=1.5"`` → pairs; a bare name weighs 1.0."""
    pairs: list[tuple[str, float]] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, weight = part.partition("=")
        try:
            pairs.append((name.strip(), float(weight) if sep else 1.0))
        except ValueError:
            raise DreamvideoError(f"bad layer weight in {part!r}; write layers as name=weight,...") from None
    return normalize_layers(pairs)
