"""Running the command line: one-line errors, and exit codes 0 (done), 2 (an error the
user can fix), 130 (interrupted; the message says how to go on)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from dreamvideo.cli.parser import build_parser
from dreamvideo.core.backends import select
from dreamvideo.errors import DreamvideoError, RenderInterrupted


class _WarningFormat(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"dreamvideo: {record.levelname.lower()}: {record.getMessage()}"


def _out_of_memory(error: Exception) -> bool:
    """TensorFlow's ResourceExhaustedError, PyTorch's OutOfMemoryError, XLA's RESOURCE_EXHAUSTED."""
    names = ("ResourceExhaustedError", "OutOfMemoryError")
    return (isinstance(error, MemoryError) or type(error).__name__ in names
            or "RESOURCE_EXHAUSTED" in str(error)[:300])


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``dreamvideo`` and ``python -m dreamvideo``; returns the exit code."""
    args = build_parser().parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_WarningFormat())
    log = logging.getLogger("dreamvideo")
    log.handlers[:] = [handler]
    log.setLevel(logging.WARNING)  # -q hides the progress bar only: warnings always show
    log.propagate = False
    try:
        select(getattr(args, "model.backend", None))  # before anything loads Keras
        code = args.run(args)
    except RenderInterrupted as e:
        print(f"dreamvideo: {e}", file=sys.stderr)
        return 130
    except DreamvideoError as e:
        print(f"dreamvideo: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dreamvideo: interrupted; nothing was written", file=sys.stderr)
        return 130
    except Exception as e:  # a backend's out-of-memory, without importing the backend here
        if not _out_of_memory(e):
            raise
        print("dreamvideo: error: out of memory; lower --tile-size or --max-size", file=sys.stderr)
        return 2
    return code if isinstance(code, int) else 0  # batch: 1 when an input failed
