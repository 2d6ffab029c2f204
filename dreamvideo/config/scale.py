"""Scale-out: shots and chunks of a video rendered in parallel on Ray workers.

(Tests: tests/render/test_scaled.py.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from dreamvideo.config.fields import option, validate
from dreamvideo.errors import DreamvideoError


def _shots(value: object) -> tuple[tuple[int, int], ...]:
    try:
        shots = tuple((int(a), int(b)) for a, b in value)  # type: ignore[union-attr, misc]
    except (TypeError, ValueError):
        raise DreamvideoError(f"render.shots must be [first, end] frame pairs, got {value!r}") from None
    if any(b <= a for a, b in shots) or any(shots[i][1] != shots[i + 1][0] for i in range(len(shots) - 1)):
        raise DreamvideoError(f"render.shots must be back-to-back [first, end) frame ranges, got {shots!r}")
    return shots


@dataclass(frozen=True)
class RenderConfig:
    """How a video render is spread: in this process, or shot by shot over Ray workers."""

    section: ClassVar[str] = "render"
    workers: int | None = option(None, "render the shots (cut at scene cuts) on this many Ray workers, one "
                                       "GPU each where there are GPUs; unset: all in this process",
                                 int, 1, 4096, optional=True)
    ray_address: str | None = option(None, "join this Ray cluster (else $RAY_ADDRESS, else a local Ray on "
                                           "this machine); input and output must be on storage every node "
                                           "sees", metavar="ADDR")
    chunk: float = option(10.0, "with --workers, a shot longer than this is split into chunks rendered in "
                                "parallel (seconds)", float, 0.5, 10**6, lo_open=False, metavar="S")
    overlap: int = option(12, "frames a chunk starts early: dreamed, then cross-faded with the chunk "
                              "before, so it enters warm", int, 0, 10000)
    shots: tuple[tuple[int, int], ...] | None = option(None, "the shots, as [first, end) frame ranges: "
                                                             "found by the pre-pass, kept in the output's "
                                                             "configuration so it re-renders the same",
                                                       optional=True)

    def __post_init__(self) -> None:
        validate(self, "render")
        if self.shots is not None:
            object.__setattr__(self, "shots", _shots(self.shots))
