"""Optical flow, backward warping and the forward-backward consistency mask.

Conventions: ``optical_flow(a, b)`` is defined on the pixels of ``a``: pixel ``x`` of
``a`` is found at ``x + flow[x]`` in ``b``. To bring the previous frame into the
current one, compute the *backward* flow (current → previous) and ``warp`` the
previous frame with it. The mask follows Ruder, Dosovitskiy & Brox (2016): a pixel of
the current frame is trusted when the backward flow and the forward flow sampled
where it points cancel out, ``|w + ŵ|² ≤ 0.01(|w|² + |ŵ|²) + 0.5``, and when it is not
on a motion boundary, ``|∇w_x|² + |∇w_y|² ≤ 0.01|w|² + 0.002``.
"""

from __future__ import annotations

import cv2
import numpy as np

from dreamvideo.config.choices import HOST_FLOWS

METHODS = HOST_FLOWS


def _check_pair(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape != b.shape or a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (1, 3)):
        raise ValueError("expected two frames of equal shape (H, W) or (H, W, 3), "
                         f"got {a.shape} and {b.shape}")


def to_gray(frame: np.ndarray) -> np.ndarray:
    """uint8 luminance, what the flow estimators take."""
    gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) if frame.ndim == 3 and frame.shape[2] == 3 else frame
    gray = gray.squeeze()
    return gray if gray.dtype == np.uint8 else np.clip(gray, 0, 255).astype(np.uint8)


DIS_PRESETS = {"ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST, "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
               "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM}


def optical_flow(a: np.ndarray, b: np.ndarray, method: str = "dis", preset: str = "medium") -> np.ndarray:
    """Dense flow (H, W, 2) float32 from frame ``a`` to frame ``b`` (x, y order);
    ``preset`` is OpenCV's DIS preset (the scores measure with ``medium``)."""
    _check_pair(a, b)
    ga, gb = to_gray(a), to_gray(b)
    if method == "dis":
        return cv2.DISOpticalFlow_create(DIS_PRESETS[preset]).calc(ga, gb, None)
    if method == "farneback":
        return cv2.calcOpticalFlowFarneback(ga, gb, None, pyr_scale=0.5, levels=4, winsize=15,
                                            iterations=3, poly_n=5, poly_sigma=1.2, flags=0)
    raise ValueError(f"unknown flow method {method!r}; choose one of: {', '.join(METHODS)}")


INTERPOLATIONS = {"linear": cv2.INTER_LINEAR, "cubic": cv2.INTER_CUBIC, "lanczos": cv2.INTER_LANCZOS4}


def warp(image: np.ndarray, flow: np.ndarray, interpolation: str = "linear") -> np.ndarray:
    """Sample ``image`` at ``x + flow[x]`` (edges replicated); dtype kept."""
    if flow.ndim != 3 or flow.shape[2] != 2 or flow.shape[:2] != image.shape[:2]:
        raise ValueError(f"flow of shape {flow.shape} does not fit an image of shape {image.shape}")
    height, width = flow.shape[:2]
    grid_x, grid_y = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    map_x, map_y = grid_x + flow[..., 0], grid_y + flow[..., 1]
    return cv2.remap(image, map_x, map_y, INTERPOLATIONS[interpolation], borderMode=cv2.BORDER_REPLICATE)


RELATIVE, CONSISTENT, BOUNDARY = 0.01, 0.5, 0.002  # Ruder's thresholds, as in the docstring above


def consistency_mask(backward: np.ndarray, forward: np.ndarray, softness: float = 0.0) -> np.ndarray:
    """Trust (H, W) float32 in [0, 1] for the pixels where ``backward`` is defined.

    ``backward``: flow current → previous; ``forward``: previous → current. With
    ``softness`` 0 the mask is Ruder's binary one; larger values fade it out over that
    many squared pixels past the threshold, so a slightly inconsistent pixel keeps part
    of the carried dream instead of switching abruptly.
    """
    forward_there = warp(forward, backward)
    b2 = _norm_sq(backward)
    excess = _norm_sq(backward + forward_there) - RELATIVE * (b2 + _norm_sq(forward_there)) - CONSISTENT
    gx = cv2.filter2D(backward, -1, CENTRAL, borderType=cv2.BORDER_REPLICATE)  # d/dx of both components
    gy = cv2.filter2D(backward, -1, CENTRAL.T, borderType=cv2.BORDER_REPLICATE)
    boundary = _norm_sq(gx) + _norm_sq(gy) - RELATIVE * b2 - BOUNDARY
    if softness <= 0:
        return ((excess <= 0) & (boundary <= 0)).astype(np.float32)
    trust = np.exp(-(np.maximum(excess, 0) / softness + np.maximum(boundary, 0) / (RELATIVE * softness)))
    return trust.astype(np.float32)


CENTRAL = np.array([[-0.5, 0.0, 0.5]], np.float32)  # central differences, as np.gradient inside


def _norm_sq(vectors: np.ndarray) -> np.ndarray:
    return vectors[..., 0] * vectors[..., 0] + vectors[..., 1] * vectors[..., 1]
