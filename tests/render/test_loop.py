"""The one frame loop: frames kept in order, Ctrl-C saves a state and stops."""

import signal

import numpy as np
import pytest

from dreamvideo.errors import RenderInterrupted
from dreamvideo.media.recorder import Recorder
from dreamvideo.media.writers import Encoding
from dreamvideo.render.loop import Made, open_work, run_loop


def _made(count: int, press_at: int | None = None, swallow: bool = False):
    for index in range(count):
        if index == press_at:
            try:
                signal.raise_signal(signal.SIGINT)
            except KeyboardInterrupt:
                if not swallow:
                    raise
                # what happens to an interrupt that lands in a finaliser: printed and dropped
        pixels = np.full((8, 8, 3), index, np.uint8)
        yield Made(index, pixels, lambda index=index: (index + 1, {"last": np.zeros(1)}, {}))


def _loop(tmp_path, frames):
    out = tmp_path / "frames"
    work, restored = open_work(out, 'command = "test"\n', resume=False, force=False)
    recorder = Recorder(work, out, Encoding((8, 8), 10, comment=""), True)
    return work, run_loop(frames, recorder, restored, 6)


def test_every_frame_is_kept_in_order(tmp_path):
    _, report = _loop(tmp_path, _made(6))
    assert report.frames == 6 and report.complete
    kept = sorted((tmp_path / "frames").glob("*.png"))
    assert len(kept) == 6


@pytest.mark.parametrize("swallow", [False, True])
def test_ctrl_c_stops_at_the_next_frame_even_when_python_dropped_it(tmp_path, swallow):
    with pytest.raises(RenderInterrupted, match="--resume"):
        _loop(tmp_path, _made(6, press_at=3, swallow=swallow))
    work = tmp_path / ".frames.dreamvideo-work"
    assert (work / "state.npz").exists() and not (tmp_path / "frames").exists()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back
