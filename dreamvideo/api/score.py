"""Scoring a dreamed video file against its input: the same range, the same size.

(Tests: tests/temporal/test_score.py.)
"""

from __future__ import annotations

import os

from dreamvideo.config import pipeline_from_toml
from dreamvideo.errors import DreamvideoError
from dreamvideo.media.provenance import read_config
from dreamvideo.media.sources import probe, read_frames
from dreamvideo.temporal.score import VideoScore, score_frames


def _render_range(output_path: str | os.PathLike[str]) -> tuple[float | None, float | None, int]:
    """(start, end, every) of the input range the output was made from, when it says."""
    try:
        pipeline = pipeline_from_toml(read_config(output_path), output_path)
    except DreamvideoError:
        return None, None, 1
    if pipeline.command != "video":
        return None, None, 1
    return pipeline.source.start, pipeline.source.end, pipeline.source.every


def score_videos(input_path: str | os.PathLike[str], output_path: str | os.PathLike[str],
                 method: str = "dis", start: float | None = None, end: float | None = None) -> VideoScore:
    """Score a dreamed video against its input, the input scaled to the output's size.

    The input range is ``start``..``end``; unset, it is the range (and ``--every``) the
    output's own configuration names, so a render of part of a video is compared with
    that part. Frame counts that still differ are an error, not a partial comparison.

    No example: it needs a video and its dreamed render (``dreamvideo score`` in the
    README shows one; tests/temporal/test_score.py runs it).
    """
    out_info = probe(output_path)
    size = (out_info.width, out_info.height)
    made_start, made_end, every = _render_range(output_path)
    if start is None and end is None:
        start, end = made_start, made_end
    frames = read_frames(input_path, size, start, end)
    if every > 1:
        frames = (f for i, f in enumerate(frames) if i % every == 0)
    return score_frames(frames, read_frames(output_path), method)
