"""Presets and whole renders: find a TOML pipeline by name, and render any pipeline.

Every render, from the command line, a preset, ``run --from`` or Python, comes through
:func:`render` (or the render functions it calls), so they all do the same thing.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from dreamvideo.config import Pipeline, description_of, pipeline_from_toml
from dreamvideo.errors import DreamvideoError
from dreamvideo.media.sources import probe
from dreamvideo.render.chain import expected_frames
from dreamvideo.render.gallery import render_gallery
from dreamvideo.render.loop import Run
from dreamvideo.render.scaled import render_scaled
from dreamvideo.render.stills import render_still
from dreamvideo.render.video import VideoReport, render_video
from dreamvideo.render.zoom import ZoomReport, render_zoom


def _preset_dir() -> Path:
    """The bundled presets: inside the installed package (the wheel maps the repository's
    top-level pipelines/ to dreamvideo/pipelines), else the checkout's pipelines/."""
    installed = Path(str(resources.files("dreamvideo") / "pipelines"))
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parents[2] / "pipelines"


PRESET_DIR = _preset_dir()


def find_preset(name: str | os.PathLike[str]) -> Path:
    """A preset by path, or by name among the bundled presets."""
    path = Path(name)
    if path.is_file():
        return path
    for candidate in (PRESET_DIR / f"{name}.toml", PRESET_DIR / str(name)):
        if candidate.is_file():
            return candidate
    names = ", ".join(p.stem for p in sorted(PRESET_DIR.glob("*.toml")))
    raise DreamvideoError(f"no preset {name!s}; give a .toml file or one of: {names}")


def load_preset(path: str | os.PathLike[str]) -> Pipeline:
    """Read a TOML preset into a validated :class:`Pipeline`.

    >>> import dreamvideo
    >>> pipeline = dreamvideo.load_preset("pipelines/still-preview.toml")
    >>> pipeline.command, pipeline.source.max_size
    ('still', 384)
    """
    file = find_preset(path)
    pipeline = pipeline_from_toml(file.read_text(encoding="utf-8"), file)
    guide = pipeline.dream.guide
    if guide and not Path(guide).is_absolute() and (file.parent / guide).is_file():
        # a preset's own guide image lies beside it (the bundled ones in pipelines/guides)
        dream = dataclasses.replace(pipeline.dream, guide=str(file.parent / guide))
        pipeline = dataclasses.replace(pipeline, dream=dream)
    return pipeline


def list_presets() -> list[tuple[str, str]]:
    """(name, what it is for) of every bundled preset."""
    files = sorted(PRESET_DIR.glob("*.toml"))
    return [(p.stem, description_of(p.read_text(encoding="utf-8"))) for p in files]


Report = Path | VideoReport | ZoomReport


RENDERS: dict[str, Callable[[Pipeline, Run], Report]] = {
    "still": render_still, "gallery": render_gallery, "video": render_video, "zoom": render_zoom}


def render(pipeline: Pipeline, run: Run | None = None) -> Report:
    """Render what the pipeline describes: the output's path (still, gallery) or the
    render's report (video, zoom). The pipeline goes to its command's render whole, with
    ``run`` (the engine to reuse, force, resume, keep_frames, progress, frames).

    >>> import dreamvideo
    >>> pipeline = dreamvideo.Pipeline("zoom", output=dreamvideo.OutputConfig("zoom.mp4"),
    ...                                zoom=dreamvideo.ZoomConfig(duration=2))
    >>> report = dreamvideo.render(pipeline, dreamvideo.Run(force=True))  # doctest: +SKIP
    >>> report.frames  # doctest: +SKIP
    48
    """
    if not pipeline.output.path:
        raise DreamvideoError("no output given; pass -o OUTPUT or set output.path")
    run = run or Run()
    if pipeline.command == "video" and pipeline.render.workers:
        if run.keep_frames:
            raise DreamvideoError("--keep-frames keeps a render's frames in one process; with --workers "
                                  "the pieces are kept until the output is written")
        return render_scaled(pipeline, run)
    return RENDERS[pipeline.command](pipeline, run)


def run_pipeline(pipeline: Pipeline, run: Run | None = None) -> Path:
    """Render what the pipeline describes (:func:`render`); returns the output path.

    >>> import dataclasses, dreamvideo
    >>> pipeline = dreamvideo.load_preset("still-preview")
    >>> pipeline = dataclasses.replace(pipeline, output=dreamvideo.OutputConfig("preview.png"),
    ...     source=dataclasses.replace(pipeline.source, input="samples/inputs/coffee.jpg"))
    >>> dreamvideo.run_pipeline(pipeline, dreamvideo.Run(force=True))  # doctest: +SKIP
    PosixPath('preview.png')
    """
    made = render(pipeline, run)
    return made if isinstance(made, Path) else made.output


def planned(pipeline: Pipeline) -> str:
    """What a render of ``pipeline`` would make, in words, without rendering: one image, or
    how many frames at which rate (and how many the output holds after ``--output-fps``)."""
    if pipeline.command in ("still", "gallery"):
        return "one image" if pipeline.command == "still" else "one sheet, a cell per layer"
    if pipeline.command == "zoom":
        count, fps = pipeline.zoom.frame_count, pipeline.zoom.fps
    else:
        if not pipeline.source.input:
            raise DreamvideoError("no input video given")
        info = probe(pipeline.source.input)
        fps = float(info.fps) / pipeline.source.every
        count = expected_frames(info.duration, float(info.fps), pipeline.source)
    if count is None:
        return f"frames at {fps:g} fps (the input's length is unknown)"
    text = f"{count} frames at {fps:g} fps ({count / fps:.2f} s)"
    out_fps = pipeline.output.fps
    if out_fps and out_fps != fps:
        text += f", about {round(count * out_fps / fps)} in the output at {out_fps:g} fps"
    return text

