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
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from dreamvideo.config import (
    DreamConfig,
    Pipeline,
    ZoomConfig,
)
from dreamvideo.core.dream import dream as dream_image_array
from dreamvideo.core.engine import Engine
from dreamvideo.errors import DreamvideoError
from dreamvideo.media.audio import follow
from dreamvideo.media.images import fit_max_size, read_still
from dreamvideo.media.outputs import check_output
from dreamvideo.media.recorder import Recorder
from dreamvideo.media.workfolder import WorkFolder
from dreamvideo.media.writers import VIDEO_EXTENSIONS, AudioSource, is_stream
from dreamvideo.render.keyframes import Moment, layer_names, moment
from dreamvideo.render.loop import LoopReport, Made, Run, begin, encoding, open_work, run_loop, watched
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


class ZoomDream:
    """A zoom's dream of one frame, with its keyframed settings, the soundtrack's pull and
    colour coherence: made once per render, called for every dreamed frame."""

    def __init__(self, engine: Engine, pipeline: Pipeline, start: np.ndarray) -> None:
        self.engine, self.dream, self.zoom = engine, pipeline.dream, pipeline.zoom
        height, width = start.shape[:2]
        self.base_layers = engine.layers(self.dream)
        self.dreamer, _ = engine.prepare(self.dream, height, width, layer_names(self.zoom, self.base_layers))
        self.per_frame = frame_dream_config(self.dream, self.zoom)
        for config in (self.dream, self.per_frame):  # warn once here, not every frame
            engine.octave_count(self.dreamer, config, height, width)
        self.cohere = coherence(pipeline.color, "lab", start, lambda path: read_still(path).rgb)
        audio = pipeline.audio
        if audio.react > 0 and not audio.file:
            raise DreamvideoError("a zoom has no soundtrack of its own: give the one --audio-react follows "
                                  "with --audio FILE")
        self.factors = (follow(AudioSource(audio.file), self.zoom.fps, self.zoom.frame_count, audio.react,
                               audio.smooth)
                        if audio.react > 0 else None)
        self.calls = 0

    def first(self, start: np.ndarray) -> np.ndarray:
        """The first frame's full dream: the usual colour reference."""
        self.calls += 1
        layers = moment(self.zoom, self.base_layers, 0.0).layers
        first = dream_image_array(start, self.dreamer, self.dream, layers, warn=False)
        return self.cohere(first) if self.cohere else first

    def __call__(self, image: np.ndarray, m: Moment, frame: int) -> np.ndarray:
        """Frame ``frame``, moved, dreamed a few steps (``m``: its keyframed motion and steps)."""
        self.calls += 1
        dream, zoom = self.dream, self.zoom
        now = moment(zoom, self.base_layers, frame / zoom.fps, dream)  # the dream's own keyframed settings
        step = frame_dream_config(dataclasses.replace(dream, step_size=now.step_size), zoom).step_size
        if self.factors is not None:
            step *= float(self.factors[min(frame, len(self.factors) - 1)])
        config = dataclasses.replace(self.per_frame, steps=m.steps, step_size=min(1.0, max(step, 1e-6)),
                                     guide_weight=now.guide_weight,
                                     seed=(dream.seed_value * 1_000_003 + frame) % 2**31)
        dreamed = dream_image_array(image, self.dreamer, config, m.layers, warn=False)
        return self.cohere(dreamed) if self.cohere else dreamed

    def state(self, index: int, frame: np.ndarray) -> Callable[[], tuple[int, dict, dict]]:
        """The state to go on from at a dreamed frame: frames from ``index`` on follow from it."""
        reference = self.cohere.reference if self.cohere else None
        held = {"reference": reference} if reference is not None else {}
        return lambda: (index, {"current": frame, **held}, {})

    def restore(self, work: WorkFolder) -> tuple[np.ndarray, int]:
        """(the last dreamed frame saved, its index): where a resumed zoom goes on from."""
        resume_at, arrays, _ = work.load_state()
        if self.cohere:
            self.cohere.reference = arrays["reference"]
        return arrays["current"], resume_at


def start_of(pipeline: Pipeline) -> np.ndarray:
    """The zoom's start: the input still at its size, or seeded soft noise (float32 RGB)."""
    source = pipeline.source
    if source.input:
        return fit_max_size(read_input_still(source.input, "zoom"), source.max_size).rgb.astype(np.float32)
    return start_image(pipeline.zoom.size, pipeline.dream.seed_value)


def render_zoom(pipeline: Pipeline, run: Run | None = None) -> ZoomReport:
    """Render an infinite zoom from ``pipeline.source.input`` (or seeded noise) into
    ``pipeline.output``.

    Every dreamed frame is held to the colours of the first (``pipeline.color``; LAB
    histogram matching by default), so the feedback does not burn out into rainbow noise.

    >>> import dreamvideo
    >>> pipeline = dreamvideo.Pipeline("zoom", output=dreamvideo.OutputConfig("zoom.mp4"),
    ...                                zoom=dreamvideo.ZoomConfig(duration=4, zoom=1.5, rotate=10))
    >>> report = dreamvideo.render_zoom(pipeline)  # doctest: +SKIP
    """
    run = run or Run()
    source = pipeline.source
    out = check_output(pipeline.output.path or "", inputs=[source.input] if source.input else [],
                       force=run.force, extensions=VIDEO_EXTENSIONS, folder_ok=True)
    pipeline, engine, comment = begin(pipeline, run.engine)
    start = start_of(pipeline)
    dream = ZoomDream(engine, pipeline, start)
    work, _ = open_work(out, comment, run.resume, run.force)
    fresh = not work.has_state()
    first, resume_at = (dream.first(start), 0) if fresh else dream.restore(work)
    sound = pipeline.audio.file
    muxed = AudioSource(sound) if sound and is_stream(out) else None
    written = encoding(pipeline.output, (start.shape[1], start.shape[0]), pipeline.zoom.fps, muxed, comment)
    recorder = Recorder(work, out, written, fresh, run.keep_frames)
    made = _made(first, pipeline.zoom, dream, resume_at)
    frames = watched(made, run.frames)
    loop = run_loop(frames, recorder, resume_at, pipeline.zoom.frame_count, run.progress)
    return ZoomReport(**vars(loop), dream_calls=dream.calls)


def _made(first: np.ndarray, zoom: ZoomConfig, dream: ZoomDream, resume_at: int) -> Iterator[Made]:
    """The loop's frames, each dreamed one with the state to go on from."""
    since = 0  # frames made since the last dreamed one
    for index, frame, dreamed in zoom_frames(first, zoom, dream, dream.base_layers, resume_at):
        since += 1
        pixels = np.clip(frame, 0, 255).round().astype(np.uint8)
        # a dreamed frame is a state to go on from: frames from `index` on follow from it
        yield Made(index, pixels, dream.state(index, frame) if dreamed else None, since)
        since = 0 if dreamed else since
