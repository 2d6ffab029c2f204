"""Frozen dataclasses that are the configuration: the CLI, the presets and the API share
them. Each field's metadata holds its one-line help and its allowed range, so the
checks, the messages and ``--help`` cannot drift apart."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from dreamvideo.errors import DreamvideoError

Layers = tuple[tuple[str, float], ...]
FLOW_SIZE = 960  # default longer side of the optical flow's frames (see temporal.flow_size)


def _opt(default: Any, help: str, kind: type | None = None, lo: float | None = None,
         hi: float | None = None, lo_open: bool = False, optional: bool = False,
         choices: tuple[str, ...] | None = None, flag: str | None = None) -> Any:
    return field(default=default, metadata={
        "help": help, "kind": kind, "lo": lo, "hi": hi, "lo_open": lo_open, "optional": optional,
        "choices": choices, "flag": flag})


def flag_of(f: dataclasses.Field) -> str:
    """The command-line flag of a config field: its name with - for _, unless set."""
    return "--" + (f.metadata.get("flag") or f.name.replace("_", "-"))


def _range_text(meta: dict[str, Any]) -> str:
    kind = "an integer" if meta["kind"] is int else "a number"
    parts = []
    if meta["lo"] is not None:
        parts.append(f"{'>' if meta['lo_open'] else '>='} {meta['lo']:g}")
    if meta["hi"] is not None:
        parts.append(f"<= {meta['hi']:g}")
    return f"{kind} {' and '.join(parts)}".strip()


def _validate(obj: Any, section: str) -> None:
    """Check every ranged field; the message names the key, its flag and the range."""
    for f in dataclasses.fields(obj):
        meta, value = f.metadata, getattr(obj, f.name)
        if meta.get("choices") and value not in meta["choices"]:
            named = ", ".join(str(c) for c in meta["choices"] if c is not None)
            raise DreamvideoError(f"{section}.{f.name} ({flag_of(f)}) must be one of {named}; got {value!r}")
        kind = meta.get("kind")
        if kind is None or (value is None and meta["optional"]):
            continue
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok and kind is int:
            ok = float(value).is_integer()
        if ok:
            ok = math.isfinite(value) or (meta["hi"] is None and value > 0)
            lo = meta["lo"]
            ok = ok and (lo is None or (value > lo if meta["lo_open"] else value >= lo))
            ok = ok and (meta["hi"] is None or value <= meta["hi"])
        if not ok:
            raise DreamvideoError(f"{section}.{f.name} ({flag_of(f)}) must be "
                                  f"{_range_text(meta)}{', or unset' if meta['optional'] else ''}; "
                                  f"got {value!r}")
        if kind is int:
            object.__setattr__(obj, f.name, int(value))


def default_text(name: str, value: Any) -> str:
    """A default as the user would type it: ``640x360`` for a size, ``0.5,0.5`` for pairs."""
    if value is None:
        return "unset"
    if isinstance(value, tuple) and all(isinstance(v, int | float) for v in value):
        return ("x" if name == "size" else ",").join(f"{v:g}" for v in value)
    return str(value)


def field_help(cls: type, name: str) -> str:
    """The one-line help of a config field, with its default, for ``--help``."""
    f = next(f for f in dataclasses.fields(cls) if f.name == name)
    return f"{f.metadata['help']} (default: {default_text(name, f.default)})"


@dataclass(frozen=True)
class ModelConfig:
    """Which network to dream with and where its weights come from."""

    name: str = _opt("squeezenet", "squeezenet, inception_v3, vgg16, vgg19, or a .keras file")
    weights: str | None = _opt(None, "weights file; 'none' for random weights; "
                                     "unset: $DREAMVIDEO_WEIGHTS_DIR, then download")
    preprocess: str | None = _opt(None, "input preprocessing for a .keras model: caffe, tf or torch")
    backend: str | None = _opt(None, "Keras backend that runs the dream; unset: $KERAS_BACKEND, "
                                     "else tensorflow", choices=(None, "tensorflow", "jax", "torch"))
    precision: str = _opt("float32", "compute precision (Keras dtype policy); the loss and the gradient "
                                     "normalisation stay in float32",
                          choices=("float32", "mixed_bfloat16", "mixed_float16"))

    def __post_init__(self) -> None:
        _validate(self, "model")


@dataclass(frozen=True)
class DreamConfig:
    """The octave gradient ascent (the founding lab notes' parameters)."""

    layers: Layers | None = _opt(None, "layers to maximise with weights, e.g. fire5=1.0,fire7=1.5; "
                                       "unset: the model's default")
    octaves: int | None = _opt(None, "number of scales to dream at; unset: as many as fit the image "
                                     "(the smallest octave no smaller than the layers can see)",
                               int, 1, 20, optional=True)
    octave_scale: float = _opt(1.4, "size ratio between octaves", float, 1.0, 4.0, lo_open=True)
    steps: int = _opt(10, "gradient steps per octave", int, 1, 10000)
    step_size: float = _opt(0.006, "step as a fraction of the 0-255 pixel range, "
                                   "the same for every model", float, 0.0, 1.0, lo_open=True)
    max_loss: float | None = _opt(None, "stop an octave early once the loss passes this",
                                  float, 0.0, lo_open=True, optional=True)
    jitter: int = _opt(32, "random shift in pixels each step, against grid artefacts", int, 0, 4096)
    tile_size: int | None = _opt(None, "largest piece the network sees at once; bounds memory (unset: "
                                       "2048 on a GPU, 512 on the CPU)", int, 32, 16384, optional=True)
    seed: int = _opt(0, "random seed; equal seeds give equal images on one machine", int, 0, 2**31 - 1)

    def __post_init__(self) -> None:
        _validate(self, "dream")
        if self.layers is not None:
            object.__setattr__(self, "layers", normalize_layers(self.layers))


@dataclass(frozen=True)
class SourceConfig:
    """What to dream: the input file, its size and, for videos, the range of it."""

    input: str | None = _opt(None, "input file")
    max_size: int | None = _opt(None, "downscale so the longer side is at most this many pixels",
                                int, 16, 65536, optional=True)
    start: float | None = _opt(None, "start of the range, seconds or [HH:]MM:SS[.ff]", float, 0.0,
                               optional=True)
    end: float | None = _opt(None, "end of the range, seconds or [HH:]MM:SS[.ff]", float, 0.0,
                             lo_open=True, optional=True)
    every: int = _opt(1, "dream every N-th frame only (the output rate is divided by N)", int, 1, 1000)

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            if isinstance(getattr(self, name), str):
                object.__setattr__(self, name, parse_time(getattr(self, name)))
        _validate(self, "source")
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise DreamvideoError(f"source.end ({self.end:g} s) must come after "
                                  f"source.start ({self.start:g} s)")


@dataclass(frozen=True)
class TemporalConfig:
    """How each video frame reuses the previous dream (Ruder et al. 2016 for ``flow``)."""

    mode: str = _opt("flow", "flow: carry the dream along optical flow; blend: mix the previous "
                             "output in without flow; none: every frame alone",
                     choices=("flow", "blend", "none"), flag="temporal")
    carry: float = _opt(1.0, "share of the previous dream carried into the next frame", float, 0.0, 1.0)
    blend: float = _opt(0.5, "blend mode: share of the previous output mixed into the next input",
                        float, 0.0, 1.0)
    later_steps: int = _opt(2, "steps per octave once a frame starts from the carried dream", int, 1, 10000)
    later_octaves: int = _opt(2, "octaves once a frame starts from the carried dream", int, 1, 20)
    later_step_scale: float = _opt(0.5, "step size once a frame starts from the carried dream, as a "
                                        "share of --step-size: less new change per frame, less flicker",
                                   float, 0.0, 1.0, lo_open=True)
    flow: str = _opt("dis", "optical flow method", choices=("dis", "farneback"))
    flow_preset: str = _opt("fast", "speed of the DIS flow: fast keeps the flicker within 6 %% of medium's "
                                    "on real footage at a fifth of the cost",
                            choices=("ultrafast", "fast", "medium"))
    mask_softness: float = _opt(2.0, "fade of the consistency mask past its threshold, in squared "
                                     "pixels (0: Ruder's binary mask)", float, 0.0, 1000.0)
    scene_cut: float = _opt(0.4, "a new shot starts when fewer than this share of pixels follow "
                                 "the flow; the carry restarts", float, 0.0, 1.0)
    flow_size: int | None = _opt(FLOW_SIZE, "longer side of the frames the optical flow is computed on "
                                            "(the flow is scaled up to the frame); unset: full size",
                                 int, 32, 16384, optional=True)
    flow_workers: int | None = _opt(None, "threads computing optical flow ahead of the dream; "
                                          "unset: one per CPU core, at most 16", int, 1, 256, optional=True)

    def __post_init__(self) -> None:
        _validate(self, "temporal")


@dataclass(frozen=True)
class Keyframe:
    """Values that take effect at ``at`` seconds; unset ones keep their course."""

    at: float
    zoom: float | None = None
    rotate: float | None = None
    pan: tuple[float, float] | None = None
    layers: Layers | None = None
    steps: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.at, int | float) or self.at < 0:
            raise DreamvideoError(f"keyframe time must be a number of seconds >= 0, got {self.at!r}")
        if self.zoom is not None and not self.zoom > 0:
            raise DreamvideoError(f"keyframe zoom must be > 0, got {self.zoom!r}")
        if self.steps is not None and (int(self.steps) != self.steps or self.steps < 1):
            raise DreamvideoError(f"keyframe steps must be an integer >= 1, got {self.steps!r}")
        if self.pan is not None:
            object.__setattr__(self, "pan", tuple(float(v) for v in self.pan))
        if self.layers is not None:
            object.__setattr__(self, "layers", normalize_layers(self.layers))


@dataclass(frozen=True)
class ZoomConfig:
    """An endless-zoom feedback loop: motion per second, so any frame rate looks the same."""

    duration: float = _opt(8.0, "length in seconds", float, 0.0, 36000, lo_open=True)
    frames: int | None = _opt(None, "number of frames (instead of --duration)", int, 1, 10**6, optional=True)
    fps: float = _opt(24.0, "frames per second", float, 0.0, 240, lo_open=True)
    zoom: float = _opt(1.25, "zoom factor per second (1: none, below 1: zoom out)", float, 0.0, 100,
                       lo_open=True)
    rotate: float = _opt(0.0, "rotation in degrees per second (positive: counter-clockwise)",
                         float, -3600, 3600)
    pan: tuple[float, float] = _opt((0.0, 0.0), "camera motion DX,DY in pixels per second")
    center: tuple[float, float] = _opt((0.5, 0.5), "zoom centre X,Y as fractions of the frame")
    size: tuple[int, int] = _opt((640, 360), "WxH of the start image when there is no input")
    steps: int = _opt(2, "dream steps per frame (the step size scales with 24/fps, so the look per "
                         "second stays)", int, 1, 1000, flag="frame-steps")
    octaves: int = _opt(2, "octaves per frame (the first frame uses --octaves)", int, 1, 20,
                        flag="frame-octaves")
    interpolate: int = _opt(1, "dream every K-th frame; the frames between follow the exact "
                               "transform, cross-faded", int, 1, 100)
    keyframes: tuple[Keyframe, ...] = ()

    def __post_init__(self) -> None:
        _validate(self, "zoom")
        for name in ("pan", "center", "size"):
            value = getattr(self, name)
            if not (isinstance(value, tuple | list) and len(value) == 2
                    and all(isinstance(v, int | float) and math.isfinite(v) for v in value)):
                raise DreamvideoError(f"zoom.{name} (--{name}) must be two numbers, got {value!r}")
        if min(self.size) < 16:
            raise DreamvideoError(f"zoom.size (--size) must be at least 16x16, got {self.size!r}")
        object.__setattr__(self, "size", (int(self.size[0]), int(self.size[1])))
        object.__setattr__(self, "keyframes", tuple(sorted(
            (k if isinstance(k, Keyframe) else Keyframe(**k) for k in self.keyframes), key=lambda k: k.at)))

    @property
    def frame_count(self) -> int:
        return self.frames if self.frames is not None else max(1, round(self.duration * self.fps))


@dataclass(frozen=True)
class OutputConfig:
    """Where and how the result is written."""

    path: str | None = _opt(None, "output file (or folder of PNG frames for video and zoom)")
    quality: int | None = _opt(None, "encoder CRF, lower is better (default: 18 MP4, 32 WebM)", int, 0, 63,
                               optional=True)
    audio: bool = _opt(True, "keep the source's soundtrack (video)")
    codec: str | None = _opt(None, "video encoder: libx264 (MP4 default), libx265, libaom-av1, "
                                   "libvpx-vp9 (WebM default)",
                             choices=(None, "libx264", "libx265", "libaom-av1", "libvpx-vp9", "gif"))
    fps: float | None = _opt(None, "output frame rate (frames are dropped or repeated; the duration "
                                   "stays); unset: the source's", float, 0.0, 240, lo_open=True,
                             optional=True)

    def __post_init__(self) -> None:
        _validate(self, "output")
        if not isinstance(self.audio, bool):
            raise DreamvideoError(f"output.audio must be true or false, got {self.audio!r}")


def parse_keyframe(text: str) -> Keyframe:
    """``"4 zoom=2 rotate=10 pan=5,0 steps=4 layers=fire3=1,fire5=0.5"`` → :class:`Keyframe`."""
    at, *pairs = text.split()
    values: dict[str, Any] = {}
    try:
        for pair in pairs:
            key, _, value = pair.partition("=")
            if key in ("zoom", "rotate"):
                values[key] = float(value)
            elif key == "steps":
                values[key] = int(value)
            elif key == "pan":
                values[key] = tuple(float(v) for v in value.split(","))
            elif key == "layers":
                values[key] = parse_layers(value)
            else:
                raise DreamvideoError(f"unknown keyframe key {key!r}; use zoom, rotate, pan, steps, layers")
        return Keyframe(parse_time(at), **values)
    except ValueError:
        raise DreamvideoError(f"bad keyframe {text!r}; write e.g. \"4 zoom=2 rotate=10 pan=5,0\"") from None


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


PREVIEW_SIZE = 384


def preview(source: SourceConfig, dream: DreamConfig) -> tuple[SourceConfig, DreamConfig]:
    """A fast low-resolution version with the same look: smaller image, half the steps
    at twice the step size (about the same total ascent), octaves kept as far as fit."""
    size = min(source.max_size or PREVIEW_SIZE, PREVIEW_SIZE)
    steps = max(1, math.ceil(dream.steps / 2))
    step_size = min(1.0, dream.step_size * dream.steps / steps)
    return (dataclasses.replace(source, max_size=size),
            dataclasses.replace(dream, steps=steps, step_size=step_size))
