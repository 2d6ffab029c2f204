"""The configuration: one frozen dataclass per section of a render (model, dream, source,
temporal, zoom, output). The command line, the presets and the Python API all build
these; each field describes itself, its check and its flag (``config.fields``).

(Tests: tests/config/test_config.py.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from dreamvideo.config.choices import (
    BACKENDS,
    CODECS,
    FLOW_POOLS,
    FLOW_PRESETS,
    FLOWS,
    PRECISIONS,
    PREPROCESSING,
    RESAMPLING,
    TEMPORAL_MODES,
)
from dreamvideo.config.fields import Layers, option, pair_of, size_of, validate
from dreamvideo.config.keyframes import Keyframe, check_keyframes, parse_keyframe, sorted_keyframes
from dreamvideo.config.parse import normalize_layers, parse_layers, parse_time
from dreamvideo.errors import DreamvideoError

FLOW_SIZE = 1280  # default longer side of the optical flow's frames (see temporal.flow_size)


@dataclass(frozen=True)
class ModelConfig:
    """Which network to dream with, where its weights come from and what runs it."""

    section: ClassVar[str] = "model"
    name: str = option("squeezenet", "squeezenet, inception_v3, vgg16, vgg19, or a .keras file", flag="model",
                       metavar="M")
    weights: str | None = option(None, "weights file; 'none' for random weights; "
                                       "unset: $DREAMVIDEO_WEIGHTS_DIR, then download", metavar="FILE")
    preprocess: str | None = option(None, "input preprocessing for a .keras model",
                                    choices=(None, *PREPROCESSING))
    backend: str | None = option(None, "Keras backend that runs the dream; unset: $KERAS_BACKEND, "
                                       "else tensorflow", choices=(None, *BACKENDS))
    precision: str = option("float32", "compute precision (Keras dtype policy); the loss and the gradient "
                                       "normalisation stay in float32",
                            choices=PRECISIONS)
    compile_cache: bool = option(True, "keep compiled programs on disk (JAX: ~/.cache/dreamvideo/jax), so a "
                                       "second run of the same sizes starts at once")

    def __post_init__(self) -> None:
        validate(self, "model")


@dataclass(frozen=True)
class DreamConfig:
    """The octave gradient ascent (the founding lab notes' parameters)."""

    section: ClassVar[str] = "dream"
    layers: Layers | None = option(None, "layers to maximise with weights, e.g. fire5=1.0,fire7=1.5; "
                                         "unset: the model's default", metavar="NAME=W,...",
                                   parse=parse_layers)
    octaves: int | None = option(None, "number of scales to dream at; unset: as many as fit the image "
                                       "(the smallest octave no smaller than the layers can see)",
                                 int, 1, 20, optional=True)
    octave_scale: float = option(1.4, "size ratio between octaves", float, 1.0, 4.0, lo_open=True,
                                 metavar="S")
    steps: int = option(10, "gradient steps per octave", int, 1, 10000)
    step_size: float = option(0.006, "step as a fraction of the 0-255 pixel range, the same for every model",
                              float, 0.0, 1.0, lo_open=True)
    guide: str | None = option(None, "guide image: the dream grows the features of this image where the "
                                     "picture already resembles them", metavar="IMAGE")
    guide_weight: float = option(1.0, "with --guide: the share of the dream that follows the guide (0: "
                                      "a plain dream)", float, 0.0, 1.0)
    max_loss: float | None = option(None, "stop an octave early once the loss passes this",
                                    float, 0.0, lo_open=True, optional=True)
    jitter: int = option(32, "random shift in pixels each step, against grid artefacts", int, 0, 4096,
                         metavar="PX")
    tile_size: int | None = option(None, "largest piece the network sees at once; bounds memory (unset: "
                                         "2048 on a GPU, 512 on the CPU)", int, 32, 16384, optional=True,
                                   metavar="PX")
    seed: int | None = option(None, "random seed (unset: 0); a seed given makes the render repeatable, "
                                    "with deterministic kernels on a GPU", int, 0, 2**31 - 1, optional=True)
    preview: bool = option(False, "fast low-resolution render with the same look: at most 384 px, half "
                                  "the steps at twice the step size")

    def __post_init__(self) -> None:
        validate(self, "dream")
        if self.layers is not None:
            object.__setattr__(self, "layers", normalize_layers(self.layers))
        if not isinstance(self.preview, bool):
            raise DreamvideoError(f"dream.preview must be true or false, got {self.preview!r}")

    @property
    def seed_value(self) -> int:
        """The seed the plans are drawn from."""
        return self.seed or 0


@dataclass(frozen=True)
class SourceConfig:
    """What to dream: the input file, its size and, for videos, the range of it."""

    section: ClassVar[str] = "source"
    input: str | None = option(None, "input file")
    max_size: int | None = option(None, "downscale so the longer side is at most this many pixels",
                                  int, 16, 65536, optional=True, metavar="PX")
    start: float | None = option(None, "start of the range, seconds or [HH:]MM:SS[.ff]", float, 0.0,
                                 optional=True, metavar="T", parse=parse_time)
    end: float | None = option(None, "end of the range, seconds or [HH:]MM:SS[.ff]", float, 0.0,
                               lo_open=True, optional=True, metavar="T", parse=parse_time)
    every: int = option(1, "dream every N-th frame only (the output rate is divided by N)", int, 1, 1000)

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            if isinstance(getattr(self, name), str):
                object.__setattr__(self, name, parse_time(getattr(self, name)))
        validate(self, "source")
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise DreamvideoError(f"source.end ({self.end:g} s) must come after "
                                  f"source.start ({self.start:g} s)")


@dataclass(frozen=True)
class TemporalConfig:
    """How each video frame reuses the previous dream (Ruder et al. 2016 for ``flow``)."""

    section: ClassVar[str] = "temporal"
    mode: str = option("flow", "flow: carry the dream along optical flow; blend: mix the previous "
                               "output in without flow; none: every frame alone",
                       choices=TEMPORAL_MODES, flag="temporal")
    carry: float = option(1.0, "share of the previous dream carried into the next frame", float, 0.0, 1.0)
    blend: float = option(0.5, "blend mode: share of the previous output mixed into the next input",
                          float, 0.0, 1.0)
    later_steps: int = option(2, "steps per octave once a frame starts from the carried dream", int, 1, 10000)
    later_octaves: int = option(2, "octaves once a frame starts from the carried dream", int, 1, 20)
    later_step_scale: float = option(0.6, "step size once a frame starts from the carried dream, as a "
                                          "share of --step-size: less new change per frame, less flicker",
                                     float, 0.0, 1.0, lo_open=True)
    fresh_share: float = option(0.05, "pixels the consistency check distrusts (newly revealed, occluded) "
                                      "get a full fresh dream once they are more than this share of a "
                                      "frame (1: never)", float, 0.0, 1.0)
    flow: str = option("auto", "optical flow method: device computes it where the dream runs (keras.ops); "
                               "dis and farneback on the host (OpenCV); auto: device on a GPU, else dis",
                       choices=FLOWS)
    flow_preset: str = option("fast", "speed of the DIS flow: fast keeps the flicker within 6 %% of "
                                      "medium's on real footage at a fifth of the cost",
                              choices=FLOW_PRESETS)
    mask_softness: float = option(2.0, "fade of the consistency mask past its threshold, in squared "
                                       "pixels (0: Ruder's binary mask)", float, 0.0, 1000.0)
    scene_cut: float = option(0.4, "a new shot starts when fewer than this share of pixels follow "
                                   "the flow; the carry restarts", float, 0.0, 1.0)
    flow_size: int | None = option(FLOW_SIZE, "longer side of the frames the optical flow is computed on "
                                              "(the flow is scaled up to the frame); unset: full size",
                                   int, 32, 16384, optional=True, metavar="PX")
    resample: str = option("linear", "how the carried dream is resampled along the flow (cubic is "
                                     "sharper, but flickers more than linear with detail restored)",
                           choices=RESAMPLING)
    restore_detail: bool = option(True, "give the carried dream back the fine detail each resampling "
                                        "along the flow softens, so it stays crisp over a clip")
    flow_workers: int | None = option(None, "threads computing optical flow ahead of the dream; "
                                            "unset: one per CPU core, at most 16", int, 1, 256, optional=True)
    flow_pool: str = option("threads", "how the flow workers run: threads (OpenCV and NumPy release the "
                                       "interpreter lock), or processes (nothing shared with the "
                                       "thread that drives the device)", choices=FLOW_POOLS)
    keyframes: tuple[Keyframe, ...] = option((), "settings from T seconds on, eased in: layers=, step_size=, "
                                                 "steps= (of each carried frame), carry=, guide_weight=; "
                                                 "repeatable", flag="keyframe", metavar='"T KEY=V ..."',
                                             parse=parse_keyframe, repeat=True)

    def __post_init__(self) -> None:
        validate(self, "temporal")
        object.__setattr__(self, "keyframes", sorted_keyframes(self.keyframes))
        check_keyframes(self.keyframes, "video")


@dataclass(frozen=True)
class ZoomConfig:
    """An endless-zoom feedback loop: motion per second, so any frame rate looks the same."""

    section: ClassVar[str] = "zoom"
    duration: float = option(8.0, "length in seconds", float, 0.0, 36000, lo_open=True, metavar="S")
    frames: int | None = option(None, "number of frames (instead of --duration)", int, 1, 10**6,
                                optional=True)
    fps: float = option(24.0, "frames per second", float, 0.0, 240, lo_open=True, metavar="F")
    zoom: float = option(1.25, "zoom factor per second (1: none, below 1: zoom out)", float, 0.0, 100,
                         lo_open=True, metavar="Z")
    rotate: float = option(0.0, "rotation in degrees per second (positive: counter-clockwise)",
                           float, -3600, 3600, metavar="DEG")
    pan: tuple[float, float] = option((0.0, 0.0), "camera motion DX,DY in pixels per second",
                                      metavar="DX,DY", parse=pair_of)
    center: tuple[float, float] = option((0.5, 0.5), "zoom centre X,Y as fractions of the frame",
                                         metavar="X,Y", parse=pair_of)
    size: tuple[int, int] = option((640, 360), "WxH of the start image when there is no input",
                                   metavar="WxH", parse=size_of)
    steps: int = option(2, "dream steps per frame (the step size scales with 24/fps, so the look per "
                           "second stays)", int, 1, 1000, flag="frame-steps")
    octaves: int = option(2, "octaves per frame, at most (the first frame uses --octaves)", int, 1, 20,
                          flag="frame-octaves")
    interpolate: int = option(1, "dream every K-th frame; the frames between follow the exact "
                                 "transform, cross-faded", int, 1, 100, metavar="K")
    keyframes: tuple[Keyframe, ...] = option((), "settings from T seconds on, eased in: zoom=, rotate=, "
                                                 "pan=DX,DY, steps=, layers=a=1,b=0.5, step_size=, "
                                                 "guide_weight= (repeat for more)",
                                             flag="keyframe", metavar='"T KEY=V ..."', parse=parse_keyframe,
                                             repeat=True)

    def __post_init__(self) -> None:
        validate(self, "zoom")
        for name in ("pan", "center", "size"):
            value = getattr(self, name)
            if not (isinstance(value, tuple | list) and len(value) == 2
                    and all(isinstance(v, int | float) and math.isfinite(v) for v in value)):
                raise DreamvideoError(f"zoom.{name} (--{name}) must be two numbers, got {value!r}")
            object.__setattr__(self, name, tuple(value))
        if min(self.size) < 16:
            raise DreamvideoError(f"zoom.size (--size) must be at least 16x16, got {self.size!r}")
        object.__setattr__(self, "size", (int(self.size[0]), int(self.size[1])))
        object.__setattr__(self, "keyframes", sorted_keyframes(self.keyframes))
        check_keyframes(self.keyframes, "zoom")

    @property
    def frame_count(self) -> int:
        return self.frames if self.frames is not None else max(1, round(self.duration * self.fps))


@dataclass(frozen=True)
class OutputConfig:
    """Where and how the result is written."""

    section: ClassVar[str] = "output"
    path: str | None = option(None, "output file (or folder of PNG frames for video and zoom)")
    quality: int | None = option(None, "encoder CRF, lower is better", int, 0, 63, optional=True,
                                 metavar="CRF", unset="18 for MP4, 32 for WebM")
    audio: bool = option(True, "keep the source's soundtrack (video)")
    codec: str | None = option(None, "video encoder: libx264 (MP4 default), libx265, libaom-av1, "
                                     "libvpx-vp9 (WebM default)",
                               choices=(None, *CODECS))
    fps: float | None = option(None, "output frame rate (frames are dropped or repeated; the duration "
                                     "stays); unset: the source's", float, 0.0, 240, lo_open=True,
                               optional=True, flag="output-fps", metavar="F")

    def __post_init__(self) -> None:
        validate(self, "output")
        if not isinstance(self.audio, bool):
            raise DreamvideoError(f"output.audio must be true or false, got {self.audio!r}")
