"""The creative controls over a whole clip: colour coherence and the soundtrack's pull.

(Tests: tests/config/test_config.py.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from dreamvideo.config.choices import COLOR_SPACES
from dreamvideo.config.fields import option, validate


@dataclass(frozen=True)
class ColorConfig:
    """Colour coherence: frames held to a reference's colours, so a clip keeps its palette."""

    section: ClassVar[str] = "color"
    coherence: str | None = option(None, "match each frame's colour histogram to the reference in this "
                                         "space",
                                   choices=(None, *COLOR_SPACES), flag="color-coherence",
                                   unset="lab for zoom, none for video")
    strength: float = option(0.8, "how far each frame is moved to the match (1: all the way; lower "
                                  "keeps more of the palette's own drift)", float, 0.0, 1.0,
                             flag="color-strength")
    reference: str = option("first", "what the colours are held to: first (the first dreamed frame), "
                                     "input (the input image; for video each frame's own input frame), "
                                     "or an image file", flag="color-reference",
                            metavar="first|input|FILE")

    def __post_init__(self) -> None:
        validate(self, "color")


@dataclass(frozen=True)
class AudioConfig:
    """Audio-reactive dreams: the step size follows the soundtrack's loudness."""

    section: ClassVar[str] = "audio"
    react: float = option(0.0, "depth of the dream's response to loudness: each frame's step size is "
                               "times 1 + X(2l - 1), l its loudness 0-1 (0: off)", float, 0.0, 1.0,
                          flag="audio-react", metavar="X")
    file: str | None = option(None, "soundtrack to follow and to put in the output (video: instead of "
                                    "the input's own; zoom: the only way to get one)", flag="audio",
                              metavar="FILE")
    smooth: float = option(0.15, "loudness smoothing in seconds, so the dream breathes instead of "
                                 "twitching", float, 0.0, 10.0, flag="audio-smooth", metavar="S")

    def __post_init__(self) -> None:
        validate(self, "audio")
