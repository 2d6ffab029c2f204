"""Infinite zoom: a feedback loop where each frame is the last one moved and dreamed again.

Motion is given per second and turned into an exact per-frame affine transform
(zoom about a centre, rotation, pan), so 12, 24 and 60 fps show the same motion; the
dream's step size is scaled the same way, so the look per second is the same too.
What a move reveals at the borders is filled, never black (:func:`apply`). With ``interpolate`` K > 1 only
every K-th frame is dreamed; the frames between are the neighbouring dreamed frames
moved by the exact transform (forward from the earlier, backward from the later) and
cross-faded.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from dreamvideo.config import (
    AudioConfig,
    ColorConfig,
    DreamConfig,
    ModelConfig,
    OutputConfig,
    Pipeline,
    SourceConfig,
    ZoomConfig,
)
from dreamvideo.core.dream import dream as run
from dreamvideo.core.engine import Engine
from dreamvideo.errors import DreamvideoError
from dreamvideo.media.audio import follow
from dreamvideo.media.images import fit_max_size, read_still
from dreamvideo.media.outputs import check_output
from dreamvideo.media.recorder import Recorder
from dreamvideo.media.writers import VIDEO_EXTENSIONS, AudioSource, is_stream
from dreamvideo.render.keyframes import Moment, layer_names, moment
from dreamvideo.render.loop import LoopReport, Made, Progress, begin, open_work, run_loop
from dreamvideo.render.stills import read_input_still
from dreamvideo.temporal.coherence import coherence

REFERENCE_FPS = 24.0  # ZoomConfig.steps and DreamConfig.step_size are meant at this rate


@dataclass(frozen=True)
class ZoomReport(LoopReport):
    """What a zoom render did: the loop's report and how many frames were dreamed (the
    rest are interpolated)."""

    dream_calls: int = 0


def frame_transform(m: Moment, fps: float, size: tuple[int, int], center: tuple[float, float]) -> np.ndarray:
    """3x3 matrix taking frame n's pixel coordinates to frame n+1's."""
    width, height = size
    matrix = np.eye(3)
    matrix[:2] = cv2.getRotationMatrix2D((center[0] * width, center[1] * height), m.rotate / fps,
                                         m.zoom ** (1.0 / fps))
    matrix[0, 2] -= m.pan[0] / fps  # the camera moves right: the picture moves left
    matrix[1, 2] -= m.pan[1] / fps
    return matrix


REVEAL_BLUR = 6.0  # sigma (px) of the colour a revealed border continues
REVEAL_GRAIN = 14.0  # std of the seeded grain over it, for the dream to grow into


def apply(image: np.ndarray, matrix: np.ndarray, seed: int = 0) -> np.ndarray:
    """Move ``image`` by ``matrix``, never showing black. What the move reveals (zooming
    out, rotating, panning) is filled with the picture's colours mirrored and blurred, plus
    a seeded grain: a mirrored band alone is a copy of the edge, which frame after frame
    stacks into streaks along the borders; the grain gives the dream texture to grow instead."""
    height, width = image.shape[:2]
    moved = cv2.warpAffine(image, matrix[:2], (width, height), flags=cv2.INTER_CUBIC,
                           borderMode=cv2.BORDER_REFLECT_101)
    inside = cv2.warpAffine(np.ones((height, width), np.float32), matrix[:2], (width, height),
                            flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
    if inside.min() < 0.999:
        moved = moved.astype(np.float32)
        revealed = (1.0 - np.clip(inside, 0.0, 1.0))[..., None]
        blurred = cv2.GaussianBlur(moved, (0, 0), REVEAL_BLUR)
        # film-like grain: weaker in the shadows, so a dark border stays dark, not black
        depth = np.minimum(1.0, blurred.mean(axis=-1, keepdims=True) / 64.0)
        grain = np.random.default_rng(seed).normal(0.0, REVEAL_GRAIN, moved.shape).astype(np.float32)
        fill = blurred + depth * grain
        moved = moved + revealed * (fill - moved)
    return np.clip(moved, 0, 255) if moved.dtype != np.uint8 else moved


def start_image(size: tuple[int, int], seed: int) -> np.ndarray:
    """Seeded soft colour noise over a gentle gradient: something for the net to see."""
    width, height = size
    rng = np.random.default_rng(seed)
    blobs = cv2.resize(rng.uniform(0, 255, (max(2, height // 40), max(2, width // 40), 3)).astype(np.float32),
                       (width, height), interpolation=cv2.INTER_CUBIC)
    gradient = np.linspace(90, 170, width, dtype=np.float32)[None, :, None]
    grain = rng.normal(0, 12, (height, width, 3)).astype(np.float32)
    return np.clip(0.5 * blobs + 0.5 * gradient + grain, 0, 255).astype(np.float32)


DreamFn = Callable[[np.ndarray, Moment, int], np.ndarray]  # (image, settings, frame index) → dreamed


def zoom_frames(start: np.ndarray, config: ZoomConfig, dream_fn: DreamFn, base_layers: dict[str, float],
                first_index: int = 0) -> Iterator[tuple[int, np.ndarray, bool]]:
    """Yield (index, frame float32 RGB, dreamed?) from frame ``first_index`` = ``start`` on.

    ``dream_fn(image, moment, index)`` dreams one frame. A dreamed frame is all the loop
    needs to go on: starting again from it gives the same frames after it.
    """
    size = (start.shape[1], start.shape[0])
    k, total = config.interpolate, config.frame_count
    current, n = start, first_index
    while n < total:
        yield n, current, True
        if n + 1 >= total:
            return
        step = frame_transform(moment(config, base_layers, n / config.fps), config.fps, size, config.center)
        jump = np.linalg.matrix_power(step, k)
        later = moment(config, base_layers, (n + k) / config.fps)
        after = dream_fn(apply(current, jump, n + k), later, n + k)
        for j in range(1, k):
            if n + j >= total:
                return
            forward = apply(current, np.linalg.matrix_power(step, j), n + j)
            backward = apply(after, np.linalg.inv(np.linalg.matrix_power(step, k - j)), n + j)
            yield n + j, (1 - j / k) * forward + (j / k) * backward, False
        current, n = after, n + k


def frame_dream_config(dream: DreamConfig, zoom: ZoomConfig) -> DreamConfig:
    """The per-frame dream: the step shrinks as frames come faster (and grows with
    ``interpolate``), so the dream grows at the same pace per second at any rate."""
    return dataclasses.replace(dream, octaves=zoom.octaves, steps=zoom.steps, step_size=min(
        1.0, dream.step_size * REFERENCE_FPS * zoom.interpolate / zoom.fps))


def render_zoom(source: SourceConfig, output: OutputConfig | str | os.PathLike[str], *,
                zoom: ZoomConfig | None = None, model: ModelConfig | None = None,
                dream: DreamConfig | None = None, color: ColorConfig | None = None,
                audio: AudioConfig | None = None, engine: Engine | None = None, force: bool = False,
                resume: bool = False, keep_frames: bool = False,
                progress: Progress | None = None) -> ZoomReport:
    """Render an infinite zoom from ``source.input`` (or seeded noise) into ``output``.

    Every dreamed frame is held to the colours of the first (``color``; LAB histogram
    matching by default), so the feedback does not burn out into rainbow noise.

    >>> import dreamvideo
    >>> dreamvideo.render_zoom(dreamvideo.SourceConfig(None), "zoom.mp4",
    ...                        zoom=dreamvideo.ZoomConfig(duration=4, zoom=1.5, rotate=10))
    """
    given = output if isinstance(output, OutputConfig) else OutputConfig(str(output))
    pipeline = Pipeline("zoom", source, model or ModelConfig(), dream or DreamConfig(),
                        zoom=zoom or ZoomConfig(), color=color or ColorConfig(),
                        audio=audio or AudioConfig(), output=given)
    out = check_output(given.path or "", inputs=[source.input] if source.input else [], force=force,
                       extensions=VIDEO_EXTENSIONS, folder_ok=True)
    pipeline, engine, comment = begin(pipeline, engine)
    source, dream, zoom, given = pipeline.source, pipeline.dream, pipeline.zoom, pipeline.output
    if source.input:
        start = fit_max_size(read_input_still(source.input, "zoom"), source.max_size).rgb.astype(np.float32)
    else:
        start = start_image(zoom.size, dream.seed_value)
    height, width = start.shape[:2]
    base_layers = engine.layers(dream)
    dreamer, _ = engine.prepare(dream, height, width, layer_names(zoom, base_layers))
    per_frame = frame_dream_config(dream, zoom)
    for config in (dream, per_frame):  # warn once here, not every frame
        engine.octave_count(dreamer, config, height, width)
    calls = 0
    cohere = coherence(pipeline.color, "lab", start, lambda path: read_still(path).rgb)
    sound = pipeline.audio.file
    if pipeline.audio.react > 0 and not sound:
        raise DreamvideoError("a zoom has no soundtrack of its own: give the one --audio-react follows "
                              "with --audio FILE")
    factors = (follow(sound, zoom.fps, zoom.frame_count, pipeline.audio.react, pipeline.audio.smooth)
               if pipeline.audio.react > 0 else None)

    def dream_fn(image: np.ndarray, m: Moment, frame: int) -> np.ndarray:
        nonlocal calls
        calls += 1
        now = moment(zoom, base_layers, frame / zoom.fps, dream)  # the dream's own keyframed settings
        step = frame_dream_config(dataclasses.replace(dream, step_size=now.step_size), zoom).step_size
        if factors is not None:
            step *= float(factors[min(frame, len(factors) - 1)])
        config = dataclasses.replace(per_frame, steps=m.steps, step_size=min(1.0, max(step, 1e-6)),
                                     guide_weight=now.guide_weight,
                                     seed=(dream.seed_value * 1_000_003 + frame) % 2**31)
        dreamed = run(image, dreamer, config, m.layers, warn=False)
        return cohere(dreamed) if cohere else dreamed

    work, _ = open_work(out, comment, resume, force)
    fresh, resume_at = not work.has_state(), 0
    if not fresh:  # go on from the last dreamed frame saved
        resume_at, arrays, _ = work.load_state()
        first = arrays["current"]
        if cohere:
            cohere.reference = arrays["reference"]
    else:
        calls += 1
        first = run(start, dreamer, dream, moment(zoom, base_layers, 0.0).layers, warn=False)
        first = cohere(first) if cohere else first  # the first dreamed frame: the usual reference

    def state_at(index: int, frame: np.ndarray) -> Callable[[], tuple[int, dict, dict]]:
        held = {"reference": cohere.reference} if cohere and cohere.reference is not None else {}
        return lambda: (index, {"current": frame, **held}, {})

    def made() -> Iterator[Made]:
        since = 0  # frames made since the last dreamed one
        for index, frame, dreamed in zoom_frames(first, zoom, dream_fn, base_layers, resume_at):
            since += 1
            pixels = np.clip(frame, 0, 255).round().astype(np.uint8)
            # a dreamed frame is a state to go on from: frames from `index` on follow from it
            yield Made(index, pixels, state_at(index, frame) if dreamed else None, since)
            since = 0 if dreamed else since

    muxed = AudioSource(sound) if sound and is_stream(out) else None
    recorder = Recorder(work, out, fresh, keep_frames, size=(width, height), fps=zoom.fps, audio=muxed,
                        quality=given.quality, comment=comment, codec=given.codec, out_fps=given.fps)
    loop = run_loop(made(), recorder, work, resume_at, zoom.frame_count, progress)
    return ZoomReport(**vars(loop), dream_calls=calls)
