"""``python -m dreamvideo`` runs the command line."""

import sys

from dreamvideo.cli import main

sys.exit(main())
