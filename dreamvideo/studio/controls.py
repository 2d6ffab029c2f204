"""The page's controls, made from the configuration fields themselves: the same names
(preset keys), choices, ranges, defaults and help texts the command line's flags are made
from, with no second list. A control's value is text, read by the field's one reader.
(Tests: tests/studio/test_app.py.)"""

from __future__ import annotations

import dataclasses
from typing import Any

from dreamvideo.config import (
    COMMAND_SECTIONS,
    SECTIONS,
    Pipeline,
    SourceConfig,
    field_help,
    field_of,
    value_text,
    with_overrides,
)

PREVIEW_SIZE = 480  # the longer side a preview is dreamed at, unless the page says otherwise
START = Pipeline("still", SourceConfig(max_size=PREVIEW_SIZE))  # what the page's controls start from

# what each command's controls hold: every field of its sections but what the page gives
# otherwise (the input, the output) or cannot edit as one value (keyframes, Ray's workers)
STILL_CONTROLS = (("source", ("max_size",)), ("model", None), ("dream", None))
HIDDEN = {("dream", "preview"), ("model", "weights"), ("model", "preprocess"), ("dream", "guide"),
          ("source", "input"), ("output", "path"), ("temporal", "keyframes"), ("zoom", "keyframes"),
          ("audio", "file"), ("color", "reference")}
SKIPPED_SECTIONS = ("render",)


def sections_of(command: str) -> tuple[tuple[str, tuple[str, ...] | None], ...]:
    """The sections (and, for a still, the fields) the page shows for ``command``."""
    if command in ("still", "gallery"):
        return STILL_CONTROLS
    return tuple((name, None) for name in COMMAND_SECTIONS[command] if name not in SKIPPED_SECTIONS)


def _kind(f: dataclasses.Field) -> str:
    meta = f.metadata
    if f.type in ("bool", bool):
        return "bool"
    if meta.get("choices"):
        return "choice"
    return {int: "int", float: "float"}.get(meta.get("kind"), "text")


def controls(base: Pipeline | None = None, command: str = "still") -> list[dict[str, Any]]:
    """Every control of ``command`` (a still preview by default): name (``section.key``),
    kind, choices, range, the value in ``base`` (the defaults unless given) as text, and
    the help line."""
    base = base or START
    out = []
    for section, only in sections_of(command):
        cls = SECTIONS[section]
        for f in dataclasses.fields(cls):
            if (only and f.name not in only) or (section, f.name) in HIDDEN:
                continue
            meta, value = f.metadata, getattr(getattr(base, section), f.name)
            out.append({"name": f"{section}.{f.name}", "kind": _kind(f), "help": field_help(cls, f.name),
                        "choices": [c for c in meta.get("choices") or () if c is not None],
                        "min": meta.get("lo"), "max": meta.get("hi"),
                        "value": "" if value is None else value_text(f, value)})
    return out


def pipeline_of(settings: dict[str, str], base: Pipeline | None = None) -> Pipeline:
    """The still pipeline the controls' texts describe; an empty text leaves the field at
    its default. A bad value raises the CLI's one-line message, naming the control."""
    pipeline = base or START
    for name, text in settings.items():
        section, _, key = name.partition(".")
        if section not in SECTIONS:
            raise ValueError(f"unknown control {name!r}")
        if str(text).strip() == "":
            default = field_of(SECTIONS[section], key).default
            part = dataclasses.replace(getattr(pipeline, section), **{key: default})
            pipeline = dataclasses.replace(pipeline, **{section: part})
            continue
        pipeline = with_overrides(pipeline, [f"{name}={text}"])  # the field's own reader; its error names it
    return pipeline
