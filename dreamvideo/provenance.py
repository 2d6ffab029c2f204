"""Every output carries the configuration that made it, so it can be made again.

The pipeline is written as TOML (the preset format) into the file: a PNG text chunk,
a JPEG comment, the ``comment`` tag of MP4/WebM (base64, so ffmpeg's one-line
metadata keeps it intact), or ``dreamvideo.toml`` inside a folder of PNG frames.
``dreamvideo run --from OUTPUT`` reads it back.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import math
import os
import re
import subprocess
from pathlib import Path
from typing import Any

from dreamvideo.errors import DreamvideoError

TAG = "dreamvideo"  # PNG text key, and the prefix of the video comment
FOLDER_FILE = "dreamvideo.toml"


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


def to_toml(pipeline: Any) -> str:
    """A :class:`~dreamvideo.presets.Pipeline` as preset TOML (what ``load_preset`` reads)."""
    from dreamvideo.presets import SECTIONS

    lines = ["# Made by dreamvideo. Re-render: dreamvideo run --from THIS_FILE -o NEW_OUTPUT",
             f"command = {_value(pipeline.command)}"]
    for name in SECTIONS:
        lines += ["", f"[{name}]", *_table(getattr(pipeline, name))]
    for keyframe in pipeline.zoom.keyframes:
        lines += ["", "[[zoom.keyframes]]", *_table(keyframe)]
    return "\n".join(lines) + "\n"


def video_comment(text: str) -> str:
    return f"{TAG}:{base64.b64encode(text.encode()).decode()}"


def read_config(path: str | os.PathLike[str]) -> str:
    """The TOML a dreamvideo output carries, or a one-line reason why there is none."""
    p = Path(path)
    if not p.exists():
        raise DreamvideoError(f"{p} does not exist")
    text = None
    if p.is_dir():
        file = p / FOLDER_FILE
        text = file.read_text(encoding="utf-8") if file.is_file() else None
    elif p.suffix.lower() in (".png", ".jpg", ".jpeg"):
        from PIL import Image

        with Image.open(p) as image:
            raw = image.info.get(TAG) or image.info.get("comment")
        text = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
    else:
        import imageio_ffmpeg

        # ffmpeg's own metadata dump (its -i listing cuts long values short; WebM says COMMENT)
        dump = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(p),
                               "-f", "ffmetadata", "-"], capture_output=True, text=True).stdout
        found = re.search(rf"^comment={TAG}:([A-Za-z0-9+/=\\]+)$", dump, re.MULTILINE | re.IGNORECASE)
        text = base64.b64decode(found.group(1).replace("\\", "")).decode() if found else None
    if not text or "command =" not in text:
        raise DreamvideoError(f"{p} carries no dreamvideo configuration (was it made by dreamvideo?)")
    return text


def describe(command: str, source: Any, output: str | os.PathLike[str], **sections: Any) -> str:
    """The TOML for a render: inputs made absolute, so it re-renders from anywhere."""
    from dreamvideo.config import OutputConfig
    from dreamvideo.presets import Pipeline

    if source.input and not any(c in str(source.input) for c in "*?["):
        source = dataclasses.replace(source, input=os.path.abspath(source.input))
    out = OutputConfig(os.path.abspath(output), sections.pop("quality", None), sections.pop("audio", True),
                       sections.pop("codec", None), sections.pop("fps", None))
    given = {k: v for k, v in sections.items() if v is not None}
    if "model" in given and given["model"].backend is None:  # the backend that really ran
        from dreamvideo.backends import requested

        given["model"] = dataclasses.replace(given["model"], backend=requested())
    return to_toml(Pipeline(command=command, source=source, output=out, **given))
