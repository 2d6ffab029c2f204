"""A whole render as one value: which command, and every section's configuration.

The TOML presets, the configuration each output carries and ``--set`` overrides are all
this :class:`Pipeline`, read and written here; :func:`resolved` applies what a setting
implies (``preview``) in one place, whoever asked for the render.

```toml
# One line on what this preset is for (shown by `dreamvideo presets`).
command = "video"            # still, video, zoom or gallery
[source]
max_size = 320
[dream]
layers = { fire5 = 1.0, fire7 = 1.5 }
[[zoom.keyframes]]
at = 4.0
zoom = 2.0
```

(Tests: tests/api/test_presets.py, tests/config/test_fields.py.)
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dreamvideo.config.fields import field_of, from_text, text_parser
from dreamvideo.config.looks import AudioConfig, ColorConfig
from dreamvideo.config.scale import RenderConfig
from dreamvideo.config.sections import (
    DreamConfig,
    ModelConfig,
    OutputConfig,
    SourceConfig,
    TemporalConfig,
    ZoomConfig,
)
from dreamvideo.errors import DreamvideoError

SECTIONS: dict[str, type] = {"source": SourceConfig, "model": ModelConfig, "dream": DreamConfig,
                             "temporal": TemporalConfig, "zoom": ZoomConfig, "color": ColorConfig,
                             "audio": AudioConfig, "render": RenderConfig, "output": OutputConfig}
COMMANDS = ("still", "video", "zoom", "gallery")
COMMAND_SECTIONS: dict[str, tuple[str, ...]] = {  # the sections each command reads
    "still": ("source", "model", "dream", "output"),
    "gallery": ("source", "model", "dream", "output"),
    "video": ("source", "model", "dream", "temporal", "color", "audio", "render", "output"),
    "zoom": ("source", "model", "dream", "zoom", "color", "audio", "output"),
}
PREVIEW_SIZE = 384


@dataclass(frozen=True)
class Pipeline:
    """A whole render: which command, and every section's configuration."""

    command: str = "still"
    source: SourceConfig = field(default_factory=SourceConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    dream: DreamConfig = field(default_factory=DreamConfig)
    temporal: TemporalConfig = field(default_factory=TemporalConfig)
    zoom: ZoomConfig = field(default_factory=ZoomConfig)
    color: ColorConfig = field(default_factory=ColorConfig)
    audio: AudioConfig = field(default_factory=AudioConfig)
    render: RenderConfig = field(default_factory=RenderConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    description: str = ""

    def __post_init__(self) -> None:
        if self.command not in COMMANDS:
            raise DreamvideoError(f"command must be one of {', '.join(COMMANDS)}, got {self.command!r}")


PATH_FIELDS = (("source", "input"), ("model", "name"), ("model", "weights"), ("dream", "guide"),
               ("color", "reference"), ("audio", "file"), ("output", "path"))
WORDS = {("model", "weights"): ("none",), ("color", "reference"): ("first", "input")}  # not files


def names_a_file(section: str, name: str, value: Any) -> bool:
    """Whether the path-valued field holds a file's name: not unset, not one of its words
    (``--weights none``), not a model of the registry (``squeezenet``) however a folder here
    is called."""
    if not value or value in WORDS.get((section, name), ()):
        return False
    return (section, name) != ("model", "name") or str(value).endswith(".keras")


def absolute_paths(pipeline: Pipeline) -> Pipeline:
    """The pipeline with every file it names made absolute: what an output carries (it
    re-renders from anywhere) and what a Ray worker needs (it runs in a folder of its own,
    on a cluster on another machine). A file that is not there (or a glob) is left as
    given, for the render's own error to name; the output is always made absolute."""
    for section, name in PATH_FIELDS:
        value = getattr(getattr(pipeline, section), name)
        if names_a_file(section, name, value) and (section == "output" or Path(value).exists()):
            part = dataclasses.replace(getattr(pipeline, section), **{name: str(Path(value).absolute())})
            pipeline = dataclasses.replace(pipeline, **{section: part})
    return pipeline


def resolved(pipeline: Pipeline) -> Pipeline:
    """What the render really does. ``preview``: a smaller image (at most 384 px), half the
    steps at twice the step size: about the same total ascent, the same look, faster."""
    if not pipeline.dream.preview:
        return pipeline
    source, dream = pipeline.source, pipeline.dream
    steps = max(1, math.ceil(dream.steps / 2))
    size = min(source.max_size or PREVIEW_SIZE, PREVIEW_SIZE)
    step_size = min(1.0, dream.step_size * dream.steps / steps)
    dream = dataclasses.replace(dream, steps=steps, step_size=step_size, preview=False)
    return dataclasses.replace(pipeline, source=dataclasses.replace(source, max_size=size), dream=dream)


def section_from(name: str, values: Any) -> Any:
    """One section from a table of keys; unknown keys are refused with the valid ones. A
    string where the field is no string (``size = "320x180"``) is read as its flag reads it."""
    cls = SECTIONS[name]
    if not isinstance(values, dict):
        raise DreamvideoError(f"[{name}] must be a table of keys, got {values!r}")
    for key in values:
        field_of(cls, key)
    values = {k: from_text(cls, k, v) if isinstance(v, str) and text_parser(field_of(cls, k)) is not str
              else tuple(v) if isinstance(v, list) and k != "keyframes" else v for k, v in values.items()}
    try:
        return cls(**values)
    except TypeError as e:
        raise DreamvideoError(f"[{name}]: {e}") from None


def pipeline_from_dict(data: dict[str, Any], description: str = "") -> Pipeline:
    """Build and validate a :class:`Pipeline` from parsed TOML."""
    unknown = [key for key in data if key not in (*SECTIONS, "command")]
    if unknown:
        raise DreamvideoError(f"unknown section or key {unknown[0]!r}; valid: command, {', '.join(SECTIONS)}")
    sections = {name: section_from(name, data[name]) for name in SECTIONS if name in data}
    return Pipeline(command=data.get("command", "still"), description=description, **sections)


def description_of(text: str) -> str:
    """The leading comment lines of a preset: what it is for."""
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("# ").rstrip())
    return " ".join(lines).strip()


def pipeline_from_toml(text: str, origin: str | os.PathLike[str] = "<string>") -> Pipeline:
    """Parse preset TOML (a file's text, or the configuration an output carries)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise DreamvideoError(f"{origin} is not valid TOML: {e}") from None
    return pipeline_from_dict(data, description_of(text))


def with_overrides(pipeline: Pipeline, overrides: list[str]) -> Pipeline:
    """Apply ``section.key=value`` settings. A value is what the key's flag takes
    (``zoom.size=320x180``, ``source.start=1:30``), or a TOML value (``[320, 180]``); a
    repeatable key (``temporal.keyframes``) adds one item, as its repeated flag does."""
    for item in overrides:
        key, sep, text = item.partition("=")
        section, _, name = key.strip().partition(".")
        if not sep or section not in SECTIONS or not name:
            raise DreamvideoError(f"bad --set {item!r}; write section.key=value with a section of "
                                  f"{', '.join(SECTIONS)}")
        current = getattr(pipeline, section)
        cls = SECTIONS[section]
        value = from_text(cls, name, text)
        if field_of(cls, name).metadata.get("repeat") and not isinstance(value, tuple | list):
            value = (*getattr(current, name), value)
        values = {f.name: getattr(current, f.name) for f in dataclasses.fields(current)}
        values[name] = value
        pipeline = dataclasses.replace(pipeline, **{section: section_from(section, values)})
    return pipeline


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{value} has no TOML form")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON string escapes are valid TOML basic strings
    if isinstance(value, tuple | list) and value and all(isinstance(v, tuple) and len(v) == 2
                                                         and isinstance(v[0], str) for v in value):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_value(v)}" for k, v in value) + " }"  # layers
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise ValueError(f"cannot write {value!r} as TOML")


def _table(obj: Any) -> list[str]:
    return [f"{f.name} = {_value(getattr(obj, f.name))}" for f in dataclasses.fields(obj)
            if getattr(obj, f.name) is not None and f.name != "keyframes"]


MADE_BY = "# Made by dreamvideo. Re-render: dreamvideo run --from THIS_FILE -o NEW_OUTPUT"


def to_toml(pipeline: Pipeline, only_used: bool = False, header: str = MADE_BY) -> str:
    """A pipeline as preset TOML (what ``pipeline_from_toml`` reads); ``only_used``: just
    the sections its command reads (a still's has no ``[temporal]``)."""
    names = COMMAND_SECTIONS[pipeline.command] if only_used else tuple(SECTIONS)
    lines = [*header.splitlines(), f"command = {_value(pipeline.command)}"]
    for name in names:
        lines += ["", f"[{name}]", *_table(getattr(pipeline, name))]
    for section in ("temporal", "zoom"):
        if section not in names:
            continue
        for keyframe in getattr(pipeline, section).keyframes:
            lines += ["", f"[[{section}.keyframes]]", *_table(keyframe)]
    return "\n".join(lines) + "\n"


def as_made(pipeline: Pipeline, backend: str) -> str:
    """The TOML an output carries: its paths absolute, so it re-renders from anywhere, and
    the backend that really ran."""
    pipeline = absolute_paths(pipeline)
    model = dataclasses.replace(pipeline.model, backend=pipeline.model.backend or backend)
    return to_toml(dataclasses.replace(pipeline, model=model, description=""))
