"""The configuration an output carries, read back out of it.

The pipeline (``config.to_toml``) is written into the file itself: a PNG text chunk, a
JPEG comment, the ``comment`` tag of MP4/WebM (base64, so ffmpeg's one-line metadata
keeps it intact), or ``dreamvideo.toml`` inside a folder of PNG frames.
``dreamvideo run --from OUTPUT`` reads it back.

(Tests: tests/api/test_provenance.py.)
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
from pathlib import Path

from dreamvideo.errors import DreamvideoError

TAG = "dreamvideo"  # PNG text key, and the prefix of the video comment
FOLDER_FILE = "dreamvideo.toml"


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
