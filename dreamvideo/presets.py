"""Pipelines: a TOML file is a whole render, with the same sections and keys as the
config dataclasses (a key is its command-line flag with ``_`` for ``-``).

```toml
# One line on what this preset is for (shown by `dreamvideo presets`).
command = "video"            # still, video, zoom or gallery
[source]
max_size = 320
[dream]
layers = { fire5 = 1.0, fire7 = 1.5 }
[temporal]
carry = 0.9
[[zoom.keyframes]]
at = 4.0
zoom = 2.0
```
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from dreamvideo.config import (
    DreamConfig,
    ModelConfig,
    OutputConfig,
    SourceConfig,
    TemporalConfig,
    ZoomConfig,
)
from dreamvideo.errors import DreamvideoError

SECTIONS: dict[str, type] = {"source": SourceConfig, "model": ModelConfig, "dream": DreamConfig,
                             "temporal": TemporalConfig, "zoom": ZoomConfig, "output": OutputConfig}
COMMANDS = ("still", "video", "zoom", "gallery")


def _preset_dir() -> Path:
    """The bundled presets: inside the installed package (the wheel maps the repository's
    top-level pipelines/ to dreamvideo/pipelines), else the checkout's pipelines/."""
    installed = Path(str(resources.files("dreamvideo") / "pipelines"))
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parent.parent / "pipelines"


PRESET_DIR = _preset_dir()


@dataclass(frozen=True)
class Pipeline:
    """A whole render: which command, and every section's configuration."""

    command: str = "still"
    source: SourceConfig = field(default_factory=SourceConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    dream: DreamConfig = field(default_factory=DreamConfig)
    temporal: TemporalConfig = field(default_factory=TemporalConfig)
    zoom: ZoomConfig = field(default_factory=ZoomConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    description: str = ""


def _section(name: str, values: Any) -> Any:
    cls = SECTIONS[name]
    if not isinstance(values, dict):
        raise DreamvideoError(f"[{name}] must be a table of keys, got {values!r}")
    valid = [f.name for f in dataclasses.fields(cls)]
    unknown = [key for key in values if key not in valid]
    if unknown:
        raise DreamvideoError(f"unknown key {name}.{unknown[0]}; valid keys in [{name}]: {', '.join(valid)}")
    values = {k: tuple(v) if isinstance(v, list) and k != "keyframes" else v for k, v in values.items()}
    try:
        return cls(**values)
    except TypeError as e:
        raise DreamvideoError(f"[{name}]: {e}") from None


def pipeline_from_dict(data: dict[str, Any], description: str = "") -> Pipeline:
    """Build and validate a :class:`Pipeline` from parsed TOML."""
    unknown = [key for key in data if key not in (*SECTIONS, "command")]
    if unknown:
        raise DreamvideoError(f"unknown section or key {unknown[0]!r}; valid: command, {', '.join(SECTIONS)}")
    command = data.get("command", "still")
    if command not in COMMANDS:
        raise DreamvideoError(f"command must be one of {', '.join(COMMANDS)}, got {command!r}")
    sections = {name: _section(name, data[name]) for name in SECTIONS if name in data}
    return Pipeline(command=command, description=description, **sections)


def _description(text: str) -> str:
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("# ").rstrip())
    return " ".join(lines).strip()


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
    return pipeline_from_toml(file.read_text(encoding="utf-8"), file)


def pipeline_from_toml(text: str, origin: str | os.PathLike[str] = "<string>") -> Pipeline:
    """Parse preset TOML (a file's text, or the configuration an output carries)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise DreamvideoError(f"{origin} is not valid TOML: {e}") from None
    return pipeline_from_dict(data, _description(text))


def _literal(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text  # a bare word: a string


def with_overrides(pipeline: Pipeline, overrides: list[str]) -> Pipeline:
    """Apply ``section.key=value`` settings (values in TOML syntax; bare words are strings)."""
    for item in overrides:
        key, sep, text = item.partition("=")
        section, _, name = key.strip().partition(".")
        if not sep or section not in SECTIONS or not name:
            raise DreamvideoError(f"bad --set {item!r}; write section.key=value with a section of "
                                  f"{', '.join(SECTIONS)}")
        current = getattr(pipeline, section)
        values = {f.name: getattr(current, f.name) for f in dataclasses.fields(current)}
        if name not in values:
            raise DreamvideoError(f"unknown key {section}.{name}; valid keys in [{section}]: "
                                  f"{', '.join(values)}")
        value = _literal(text.strip())
        values[name] = tuple(value) if isinstance(value, list) and name != "keyframes" else value
        pipeline = dataclasses.replace(pipeline, **{section: _section(section, values)})
    return pipeline


def list_presets() -> list[tuple[str, str]]:
    """(name, what it is for) of every preset in pipelines/."""
    return [(p.stem, _description(p.read_text(encoding="utf-8"))) for p in sorted(PRESET_DIR.glob("*.toml"))]


def run_pipeline(pipeline: Pipeline, *, force: bool = False, quiet: bool = True, resume: bool = False,
                 keep_frames: bool = False) -> Path:
    """Render what the pipeline describes; returns the output path."""
    output = pipeline.output.path
    if not output:
        raise DreamvideoError("no output given; pass -o OUTPUT or set output.path")
    common = {"model": pipeline.model, "dream": pipeline.dream, "force": force, "quiet": quiet}
    if pipeline.command == "still":
        from dreamvideo.stills import render_still

        return render_still(pipeline.source, output, **common)
    if pipeline.command == "gallery":
        from dreamvideo.gallery import render_gallery

        layers = [name for name, _ in pipeline.dream.layers] if pipeline.dream.layers else None
        return render_gallery(pipeline.source, output, layers=layers, **common)
    if pipeline.command == "video":
        from dreamvideo.video import render_video

        return render_video(pipeline.source, output, temporal=pipeline.temporal,
                            quality=pipeline.output.quality, audio=pipeline.output.audio,
                            codec=pipeline.output.codec, fps=pipeline.output.fps, resume=resume,
                            keep_frames=keep_frames, **common).output
    from dreamvideo.zoomloop import render_zoom

    return render_zoom(pipeline.source, output, zoom=pipeline.zoom, quality=pipeline.output.quality,
                       codec=pipeline.output.codec, fps=pipeline.output.fps, resume=resume,
                       keep_frames=keep_frames, **common).output
