"""The command line: ``dreamvideo COMMAND ...`` (see :func:`main`)."""

from dreamvideo.cli.main import main

__all__ = ["main"]
