"""Command-line flags made from the config fields themselves, and config made from them.

A flag's name, value syntax, metavar, choices and help all come from the field's metadata
(``config.fields.option``), so the command line cannot drift from the configuration. An
unset flag leaves the base value (the defaults, or a ``--preset``) as it is.

(Tests: tests/cli/test_look_flags.py, tests/config/test_fields.py.)
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable, Collection
from typing import Any

from dreamvideo.config import UNSET, field_help, flag_of, text_parser
from dreamvideo.errors import DreamvideoError


def _dest(cls: type, name: str) -> str:
    return f"{cls.section}.{name}"


def _argument_type(f: dataclasses.Field) -> Callable[[str], Any] | None:
    """What turns the flag's text into the field's value (the field's one parser), errors
    in argparse's way."""
    parse = text_parser(f)
    return None if parse is str else argument_type(parse)


def argument_type(convert: Callable[[str], Any]) -> Callable[[str], Any]:
    """``convert`` as an argparse type: its error, one line, in argparse's message."""

    def typed(text: str) -> Any:
        try:
            return convert(text)
        except DreamvideoError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid {convert.__name__} value: {text!r}") from None

    typed.__name__ = getattr(convert, "__name__", "value")
    return typed


def _metavar(meta: dict[str, Any]) -> str | None:
    if meta.get("metavar"):
        return meta["metavar"]
    return {int: "N", float: "X"}.get(meta.get("kind"))


def add_flags(parser: Any, cls: type, only: Collection[str] | None = None, skip: Collection[str] = (),
              notes: dict[str, str] | None = None) -> None:
    """A flag for every field of the config class ``cls`` (or those in ``only``, less
    ``skip``) on ``parser`` (a parser or an argument group); ``notes`` add to the help."""
    for f in dataclasses.fields(cls):
        if (only is not None and f.name not in only) or f.name in skip:
            continue
        meta, dest = f.metadata, _dest(cls, f.name)
        help_text = field_help(cls, f.name) + (f"; {notes[f.name]}" if notes and f.name in notes else "")
        if f.type in ("bool", bool):  # a switch: on, or off where it is on by default
            flag = flag_of(f) if f.default is False else f"--no-{flag_of(f)[2:]}"
            parser.add_argument(flag, dest=dest, action="store_const", const=f.default is False, default=None,
                                help=help_text)
            continue
        choices = [c for c in meta["choices"] if c is not None] if meta.get("choices") else None
        parser.add_argument(flag_of(f), dest=dest, type=_argument_type(f), metavar=_metavar(meta),
                            choices=choices, action="append" if meta.get("repeat") else "store",
                            default=None, help=help_text)


def from_args(cls: type, args: argparse.Namespace, base: Any = None) -> Any:
    """``base`` (or the defaults) with every flag of ``cls`` that was given; repeated
    flags add to what ``base`` has."""
    base = base if base is not None else cls()
    given = {}
    for f in dataclasses.fields(cls):
        value = getattr(args, _dest(cls, f.name), None)
        if value is UNSET:  # --flow-size none: unset on purpose
            given[f.name] = None
        elif value is not None:
            given[f.name] = getattr(base, f.name) + tuple(value) if f.metadata.get("repeat") else value
    return dataclasses.replace(base, **given) if given else base
