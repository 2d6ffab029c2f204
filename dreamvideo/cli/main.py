"""Running the command line: one-line errors, and exit codes 0 (done), 2 (an error the
user can fix), 130 (interrupted; the message says how to go on).

(Tests: tests/cli/test_cli.py, tests/cli/test_startup.py.)
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from dreamvideo.cli.parser import build_parser
from dreamvideo.cli.progress import STATUS
from dreamvideo.core.backends import STATUS_LOG, VERBOSE, select, verbose
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
    if args.verbose:
        os.environ[VERBOSE] = "1"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_WarningFormat())
    log = logging.getLogger("dreamvideo")
    log.handlers[:] = [handler]
    # -q hides the progress bar only: warnings always show; -v adds what each stage does
    log.setLevel(logging.INFO if verbose() else logging.WARNING)
    log.propagate = False
    status = logging.getLogger(STATUS_LOG)
    status.handlers[:] = [] if getattr(args, "quiet", False) else [STATUS]
    status.setLevel(logging.INFO)
    status.propagate = False
    try:
        return _run(args)
    finally:
        STATUS.clear()


def _run(args: argparse.Namespace) -> int:
    """The command; its errors become one line and an exit code."""
    try:
        select(getattr(args, "model.backend", None))  # before anything loads Keras
        code = args.run(args)
    except BaseException as e:
        STATUS.clear()  # the message takes the status line's place
        return _exit_code(e)
    return code if isinstance(code, int) else 0  # batch: 1 when an input failed


def _exit_code(error: BaseException) -> int:
    """Print what went wrong in one line and return the exit code; raise what is not ours."""
    if isinstance(error, RenderInterrupted):
        print(f"dreamvideo: {error}", file=sys.stderr)
        return 130
    if isinstance(error, DreamvideoError):
        print(f"dreamvideo: error: {error}", file=sys.stderr)
        return 2
    if isinstance(error, KeyboardInterrupt):
        print("dreamvideo: interrupted; nothing was written", file=sys.stderr)
        return 130
    if isinstance(error, Exception) and _out_of_memory(error):  # without importing the backend here
        print("dreamvideo: error: out of memory; lower --tile-size or --max-size", file=sys.stderr)
        return 2
    raise error
