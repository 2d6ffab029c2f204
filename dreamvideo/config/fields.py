"""Config fields that describe themselves: help, range, choices and command-line form.

Each field's metadata holds its one-line help, its allowed range or choices, its flag
and how the command line spells its value, so the checks, the messages, ``--help`` and
the flags themselves (``dreamvideo.cli.flags``) cannot drift apart.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import field
from typing import Any

from dreamvideo.errors import DreamvideoError

Layers = tuple[tuple[str, float], ...]


def option(default: Any, help: str, kind: type | None = None, lo: float | None = None,
           hi: float | None = None, lo_open: bool = False, optional: bool = False,
           choices: tuple[Any, ...] | None = None, flag: str | None = None, metavar: str | None = None,
           parse: Callable[[str], Any] | None = None, repeat: bool = False, unset: str | None = None) -> Any:
    """A config field. ``kind`` int or float checks the range; ``parse`` turns the command
    line's text into the value (``kind`` is used otherwise); ``repeat``: the flag may be
    given several times, each adding one item; ``unset``: what an unset value means, for
    ``--help``."""
    return field(default=default, metadata={
        "help": help, "kind": kind, "lo": lo, "hi": hi, "lo_open": lo_open, "optional": optional,
        "choices": choices, "flag": flag, "metavar": metavar, "parse": parse, "repeat": repeat,
        "unset": unset})


class _Unset:
    """An optional number set to nothing on purpose (``--flow-size none``): not the same as
    a flag left out, which keeps the preset's value."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET = _Unset()
UNSET_WORDS = ("none", "unset")


def parse_bool(text: str) -> bool:
    """``true``/``false`` (also yes/no, on/off, 1/0), as TOML and ``--set`` write switches."""
    word = text.strip().lower()
    if word in ("true", "yes", "on", "1"):
        return True
    if word in ("false", "no", "off", "0"):
        return False
    raise DreamvideoError(f"expected true or false, got {text!r}")


def _number(kind: type) -> Callable[[str], Any]:
    def number(text: str) -> Any:
        try:
            return kind(text)
        except ValueError:
            raise DreamvideoError(f"expected {'an integer' if kind is int else 'a number'}, "
                                  f"got {text!r}") from None

    number.__name__ = kind.__name__
    return number


def text_parser(f: dataclasses.Field) -> Callable[[str], Any]:
    """The one reader of a field's text: its flag, ``--set``, a preset's string value and
    the studio's controls all go through it. An optional number also takes ``none``
    (:data:`UNSET`: unset on purpose); a string field takes its text as it is."""
    meta = f.metadata
    if f.type in ("bool", bool):
        return parse_bool
    convert = meta.get("parse") or meta.get("kind")
    if convert in (int, float):
        convert = _number(convert)
    if convert is None:
        return str
    if not (meta.get("optional") and meta.get("kind") in (int, float)):
        return convert

    def or_unset(text: str) -> Any:
        return UNSET if text.strip().lower() in UNSET_WORDS else convert(text)

    or_unset.__name__ = getattr(convert, "__name__", "value")
    return or_unset


def field_of(cls: type, name: str) -> dataclasses.Field:
    """The field ``name`` of a config class; unknown keys are refused with the valid ones."""
    found = {f.name: f for f in dataclasses.fields(cls)}
    if name not in found:
        raise DreamvideoError(f"unknown key {cls.section}.{name}; valid keys in [{cls.section}]: "
                              f"{', '.join(found)}")
    return found[name]


def _toml_literal(text: str) -> Any:
    """``text`` read as a TOML value (``[320, 180]``, ``{ fire5 = 1 }``, ``"a b"``), or
    None when it is not one."""
    import tomllib

    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return None


def from_text(cls: type, name: str, text: str) -> Any:
    """The value of ``cls.name`` that ``text`` means, read as the field's flag reads it (a
    quoted TOML string first loses its quotes); what the flag does not take may still be a
    TOML value (``[320, 180]``), which the section then checks. The error names the key,
    its flag and the form it takes."""
    f = field_of(cls, name)
    literal = _toml_literal(text.strip())
    if isinstance(literal, str):
        text = literal
    composite = isinstance(literal, list | dict)  # [320, 180], { fire5 = 1 }: the section checks it
    parse = text_parser(f)
    if parse is str and composite:  # a field with no text form of its own (render.shots)
        return tuple(literal) if isinstance(literal, list) else literal
    try:
        value = parse(text)
    except (DreamvideoError, ValueError) as e:
        number = isinstance(literal, int | float) and f.metadata.get("kind") in (int, float)  # 1e3
        if composite or number:
            return tuple(literal) if isinstance(literal, list) and name != "keyframes" else literal
        raise DreamvideoError(f"{cls.section}.{name} ({flag_of(f)}): {e}") from None
    return None if value is UNSET else value


def value_text(f: dataclasses.Field, value: Any) -> str:
    """A field's value as its flag takes it: what :func:`text_parser` reads back exactly
    (``none`` for an optional number unset, ``640x360`` for a size, ``fire5=1.0,...``)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, tuple) and value and all(isinstance(v, tuple) and len(v) == 2
                                                  and isinstance(v[0], str) for v in value):
        return ",".join(f"{name}={weight!r}" for name, weight in value)  # layers
    if isinstance(value, tuple) and all(isinstance(v, int | float) for v in value):
        return ("x" if f.name == "size" else ",").join(repr(v) if isinstance(v, float) else str(v)
                                                       for v in value)
    return str(value)


def flag_of(f: dataclasses.Field) -> str:
    """The command-line flag of a config field: its name with - for _, unless set."""
    return "--" + (f.metadata.get("flag") or f.name.replace("_", "-"))


def _range_text(meta: dict[str, Any]) -> str:
    kind = "an integer" if meta["kind"] is int else "a number"
    parts = []
    if meta["lo"] is not None:
        parts.append(f"{'>' if meta['lo_open'] else '>='} {meta['lo']:g}")
    if meta["hi"] is not None:
        parts.append(f"<= {meta['hi']:g}")
    return f"{kind} {' and '.join(parts)}".strip()


def validate(obj: Any, section: str) -> None:
    """Check every ranged field; the message names the key, its flag and the range."""
    for f in dataclasses.fields(obj):
        meta, value = f.metadata, getattr(obj, f.name)
        if meta.get("choices") and value not in meta["choices"]:
            named = ", ".join(str(c) for c in meta["choices"] if c is not None)
            raise DreamvideoError(f"{section}.{f.name} ({flag_of(f)}) must be one of {named}; got {value!r}")
        kind = meta.get("kind")
        if kind not in (int, float) or (value is None and meta["optional"]):
            continue
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok and kind is int:
            ok = float(value).is_integer()
        if ok:
            ok = math.isfinite(value) or (meta["hi"] is None and value > 0)
            lo = meta["lo"]
            ok = ok and (lo is None or (value > lo if meta["lo_open"] else value >= lo))
            ok = ok and (meta["hi"] is None or value <= meta["hi"])
        if not ok:
            raise DreamvideoError(f"{section}.{f.name} ({flag_of(f)}) must be "
                                  f"{_range_text(meta)}{', or unset' if meta['optional'] else ''}; "
                                  f"got {value!r}")
        if kind is int:
            object.__setattr__(obj, f.name, int(value))


def default_text(name: str, value: Any) -> str:
    """A default as the user would type it: ``640x360`` for a size, ``0.5,0.5`` for pairs."""
    if value is None:
        return "unset"
    if isinstance(value, tuple) and all(isinstance(v, int | float) for v in value):
        return ("x" if name == "size" else ",").join(f"{v:g}" for v in value)
    return str(value)


def field_help(cls: type, name: str) -> str:
    """The one-line help of a config field, with its default, for ``--help``."""
    f = next(f for f in dataclasses.fields(cls) if f.name == name)
    shown = f.metadata.get("unset") if f.default is None and f.metadata.get("unset") else None
    return f"{f.metadata['help']} (default: {shown or default_text(name, f.default)})"


def pair_of(text: str, sep: str = ",") -> tuple[float, float]:
    """``"10,5"`` → (10.0, 5.0); ``sep`` "x" reads ``"640x360"``."""
    try:
        a, b = (float(v) for v in text.lower().split(sep))
    except ValueError:
        raise DreamvideoError(f"expected two numbers like 1{sep}2, got {text!r}") from None
    return a, b


def size_of(text: str) -> tuple[int, int]:
    """``"640x360"`` → (640, 360); a single number is a square: ``"224"`` → (224, 224)."""
    try:
        sides = [float(v) for v in text.lower().split("x")]
    except ValueError:
        sides = []
    if len(sides) == 1:
        sides *= 2
    if len(sides) != 2 or not all(v.is_integer() and v >= 1 for v in sides):
        raise DreamvideoError(f"expected a size like 640x360, got {text!r}")
    return int(sides[0]), int(sides[1])
