"""The command line that renders a :class:`Pipeline`: each setting that differs from the
defaults as the flag the parser itself offers, its value in the form that flag reads back
(``config.fields.value_text``). ``dreamvideo show``, ``--dry-run`` and the studio print it."""

from __future__ import annotations

import argparse
import dataclasses
import shlex
from typing import Any

from dreamvideo.config import COMMAND_SECTIONS, SECTIONS, Pipeline, value_text
from dreamvideo.config.keyframes import keyframe_text


def _subparser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return commands.choices[command]


def _flag(action: argparse.Action, f: dataclasses.Field, value: Any) -> list[str]:
    """The words that give ``value`` to the field through ``action``."""
    if action.nargs == 0:  # a switch: on (or off, where the field is on by default)
        return [action.option_strings[0]] if value == action.const else []
    if f.metadata.get("repeat"):
        return [word for item in value for word in (action.option_strings[0], keyframe_text(item))]
    return [action.option_strings[0], value_text(f, value)]


def command_line(pipeline: Pipeline, parser: argparse.ArgumentParser) -> tuple[str, list[str]]:
    """(the ``dreamvideo`` command that renders ``pipeline``, the keys that differ from the
    defaults but have no flag, such as ``render.shots``). A missing input or output shows
    as INPUT or OUTPUT."""
    sub = _subparser(parser, pipeline.command)
    actions = {action.dest: action for action in sub._actions}
    words = ["dreamvideo", pipeline.command]
    if pipeline.source.input or pipeline.command != "zoom":
        words.append(pipeline.source.input or "INPUT")
    words += ["-o", pipeline.output.path or "OUTPUT"]
    unflagged = []
    for name in COMMAND_SECTIONS[pipeline.command]:
        section, default = getattr(pipeline, name), SECTIONS[name]()
        for f in dataclasses.fields(section):
            value = getattr(section, f.name)
            given_apart = (name, f.name) in (("source", "input"), ("output", "path"))
            if given_apart or value == getattr(default, f.name):
                continue
            action = actions.get(f"{name}.{f.name}")
            if action is None:
                unflagged.append(f"{name}.{f.name}")
            else:
                words += _flag(action, f, value)
    return shlex.join(words), unflagged
