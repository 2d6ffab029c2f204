"""``python -m dreamvideo`` runs the command line."""

import sys

from dreamvideo.cli import main

if __name__ == "__main__":  # flow workers started by spawn import this module again
    sys.exit(main())
