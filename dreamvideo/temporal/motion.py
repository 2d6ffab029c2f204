"""What the flow stage finds between consecutive frames: optical flow, the forward-backward
consistency mask (Ruder, Dosovitskiy & Brox 2016) and scene cuts, computed on the host
ahead of the dream by a pool of threads, on frames shrunk to ``flow_size``.

(Tests: tests/temporal/test_temporal.py.)
"""

from __future__ import annotations

import collections
import concurrent.futures
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from dreamvideo.config import TemporalConfig
from dreamvideo.config.choices import HOST_FLOWS
from dreamvideo.core.backends import load_keras, module
from dreamvideo.core.process import steady_heap
from dreamvideo.temporal.flow import consistency_mask, optical_flow, to_gray, warp

CUT_MISMATCH = 0.5  # mean |normalised frame - warped normalised previous|, in standard deviations
LOW_TEXTURE = 4.0  # luminance standard deviation (0-255) below which a frame tells nothing
MAX_WORKERS = 16
Clock = Callable[[str, float], None]  # (stage, seconds busy): for `dreamvideo bench video`


@dataclass(frozen=True)
class Motion:
    """A frame and what the flow stage found, computed ahead of the dream."""

    frame: np.ndarray  # RGB uint8
    backward: np.ndarray | None = None  # flow current → previous, at the flow's own size; None: no carry
    mask: np.ndarray | None = None  # trust in [0, 1] of each pixel's carried dream, at the flow's size
    cut: bool = False  # a new shot starts here
    texture: float = 0.0  # luminance standard deviation of the frame (0-255)
    distrusted: float | None = None  # share of pixels the mask distrusts (< 0.5); None: not counted
    uploaded: tuple | None = None  # (frame float32, flow, mask) as device tensors, when sent ahead


def normalised(frame: np.ndarray) -> tuple[np.ndarray, float]:
    """Luminance with its mean and contrast taken out (uint8, mean 128, 40 levels per
    standard deviation), and that standard deviation: a fade or a change of exposure
    leaves the picture the flow and the cut test see unchanged."""
    gray = to_gray(frame).astype(np.float32)
    std = float(gray.std())
    z = (gray - gray.mean()) / max(std, 1e-3)
    return np.clip(128 + 40 * z, 0, 255).astype(np.uint8), std


def texture(frame: np.ndarray) -> float:
    """Luminance standard deviation (0-255): how much picture there is to see."""
    return float(to_gray(frame).std())


def flow_shape(height: int, width: int, flow_size: int | None) -> tuple[int, int]:
    """(height, width) the flow is computed at: the frame's, shrunk to ``flow_size``."""
    if flow_size is None or max(height, width) <= flow_size:
        return height, width
    scale = flow_size / max(height, width)
    return max(8, round(height * scale)), max(8, round(width * scale))


def shrink(frame: np.ndarray, config: TemporalConfig) -> np.ndarray:
    """The frame at the flow's size (``flow_size``), or itself."""
    height, width = flow_shape(*frame.shape[:2], config.flow_size)
    if frame.shape[:2] == (height, width):
        return frame
    return cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)


def motion_between(previous: np.ndarray, current: np.ndarray,
                   config: TemporalConfig) -> tuple[np.ndarray, np.ndarray, bool, float, float]:
    """(backward flow, mask, cut, texture, seconds taken) for two frames already at the
    flow's size (:func:`shrink`); runs in a worker thread or process.

    The flow runs on luminance-normalised frames, so it stays consistent through fades; a
    frame with too little texture (black, flat) continues the shot: nothing in it can tell
    a cut.
    """
    started = time.perf_counter()
    before, now = normalised(previous), normalised(current)
    method = config.flow if config.flow in HOST_FLOWS else HOST_FLOWS[0]  # auto, device: dis here
    backward = optical_flow(now[0], before[0], method, config.flow_preset)
    forward = optical_flow(before[0], now[0], method, config.flow_preset)
    mask = consistency_mask(backward, forward, config.mask_softness)
    mask = cv2.GaussianBlur(mask, (0, 0), 1.0)  # no hard edges in the carried dream
    cut = is_cut(now, before, backward, mask, config)
    return backward, mask, cut, now[1], time.perf_counter() - started


def resolved_flow(name: str) -> str:
    """The flow method ``--flow`` names: ``auto`` is ``device`` where the backend computes on
    a GPU, else ``dis`` (on a CPU, DIS is faster at equal quality: README, "The frame step")."""
    if name != "auto":
        return name
    return "device" if module().on_gpu() else "dis"


def flow_on_device(config: TemporalConfig) -> bool:
    """Whether a flow render computes its flow where the dream runs (``--flow device``, or
    ``auto`` on a GPU): in the frame step, or by :func:`~dreamvideo.temporal.devicemotion.
    device_motion` where only the motion is wanted; else on the host (:func:`with_motion`)."""
    return config.mode == "flow" and resolved_flow(config.flow) == "device"


def distrusted_share(mask: np.ndarray) -> float:
    """Share of the pixels the consistency mask distrusts (trust below one half)."""
    return float(((1.0 - mask) > 0.5).mean())


def _flow_process() -> None:
    """A flow worker process: one thread (the pool is the parallelism), a steady heap."""
    cv2.setNumThreads(1)
    steady_heap()


def default_workers() -> int:
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


def with_motion(frames: Iterable[np.ndarray], config: TemporalConfig,
                clock: Clock | None = None) -> Iterator[Motion]:
    """Attach flow, mask, cut flag and texture to each frame, in order, computed on the
    host (``--flow`` ``auto`` and ``device`` mean ``dis`` here;
    :func:`dreamvideo.temporal.devicemotion.motion_stage` chooses between the two).

    In ``flow`` mode the pairs are computed by ``config.flow_workers`` threads (OpenCV
    releases the interpreter lock) or processes (``flow_pool``) on frames shrunk to the
    flow's size, a bounded number of frames ahead, so memory stays flat however long the
    video is.
    """
    iterator = iter(frames)
    workers = config.flow_workers or default_workers()
    pool: concurrent.futures.Executor | None = None
    if config.mode == "flow" and config.flow_pool == "processes" and workers > 1:
        pool = concurrent.futures.ProcessPoolExecutor(workers, multiprocessing.get_context("spawn"),
                                                      initializer=_flow_process)
    elif config.mode == "flow":
        pool = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="dreamvideo-flow")
        if workers > 1:
            steady_heap()
            cv2.setNumThreads(1)  # parallel across frames, not inside each flow: no oversubscription

    def result(frame: np.ndarray, future: concurrent.futures.Future | float) -> Motion:
        if not isinstance(future, concurrent.futures.Future):  # the first frame: nothing to carry
            return Motion(frame, texture=future)
        backward, mask, cut, frame_texture, seconds = future.result()
        if clock is not None:
            clock("flow", seconds)
        return Motion(frame, backward, mask, cut, frame_texture, distrusted_share(mask))

    pending: collections.deque[tuple[np.ndarray, concurrent.futures.Future | float]] = collections.deque()
    try:
        previous = None
        for frame in iterator:
            if pool is None:
                yield Motion(frame, texture=texture(frame))
                continue
            small = shrink(frame, config)
            pending.append((frame, texture(small) if previous is None
                            else pool.submit(motion_between, previous, small, config)))
            previous = small
            while len(pending) > 2 * workers:
                yield result(*pending.popleft())
        while pending:
            yield result(*pending.popleft())
    finally:
        for _, future in pending:
            if isinstance(future, concurrent.futures.Future):
                future.cancel()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


def is_cut(current: tuple[np.ndarray, float], previous: tuple[np.ndarray, float], backward: np.ndarray,
           mask: np.ndarray, config: TemporalConfig) -> bool:
    """A new shot: too few pixels follow the flow, or the warped previous frame does not
    look like this one (flow can "match" unrelated textures consistently). Both frames
    come as :func:`normalised` (picture, contrast); a low-texture one is never a cut."""
    return cut_rule((current[1], previous[1]), float(mask.mean()), config, lambda: float(
        np.abs(warp(previous[0], backward).astype(np.float32) - current[0]).mean() / 40))


def cut_rule(textures: tuple[Any, Any], trusted: Any, config: TemporalConfig, mismatch: Any) -> Any:
    """The scene-cut rule the host and the device share: two frames' texture, their mask's
    mean trust, and ``mismatch`` (mean |current - previous warped|, in standard deviations).
    On the host (numbers), ``mismatch`` is a function asked only when the trust alone does
    not decide; in the frame step (tensors) it is a tensor and the answer a bool tensor."""
    if callable(mismatch):
        return min(textures) >= LOW_TEXTURE and (trusted < config.scene_cut or mismatch() > CUT_MISMATCH)
    ops = load_keras().ops
    lively = ops.logical_and(textures[0] >= LOW_TEXTURE, textures[1] >= LOW_TEXTURE)
    return ops.logical_and(lively, ops.logical_or(trusted < config.scene_cut, mismatch > CUT_MISMATCH))
