"""``bench video``: the frames asked for, and the dream timed as the render really ran it."""

import subprocess

import imageio_ffmpeg
import pytest

from dreamvideo.config import DreamConfig, TemporalConfig
from dreamvideo.render.benchvideo import bench_video, table

LIGHT = DreamConfig(layers="fire3", octaves=1, steps=2)


@pytest.fixture(scope="module")
def busy_clip(tmp_path_factory):
    """ffmpeg's testsrc2: shapes that jump and a counter that changes every frame, so the
    consistency mask distrusts much of each frame."""
    path = tmp_path_factory.mktemp("bench") / "testsrc2.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i",
                    "testsrc2=size=320x180:rate=25", "-t", "1.2", "-pix_fmt", "yuv420p", str(path)],
                   check=True)
    return path


def test_the_frames_asked_for_are_the_frames_timed(engine, media):
    result = bench_video(media.pan, engine, LIGHT, TemporalConfig(), (160, 96), frames=12)
    assert result.frames == 12
    assert result.full_dreams["start"] == 1


def test_the_dream_is_timed_on_the_frames_the_render_dreamed_in_full(engine, busy_clip):
    """Where most frames fall back to a full dream, the dream alone is about as slow as the
    whole render (it said 12 frames/s alone beside 1.8 end to end before), and the table says
    how many frames were fully dreamed and why."""
    full = DreamConfig(layers="fire3", octaves=2, steps=8)  # several times a carried frame's light dream
    result = bench_video(busy_clip, engine, full, TemporalConfig(), None, frames=25)
    assert result.frames == 25
    assert result.full_dreams["low mask coverage"] > 8
    # timed on the light dream alone (as before) it would be about 5x the end-to-end rate here: a
    # full dream is 4x a light one, and 24 of the 25 frames get both
    assert result.alone["dream"] < 2.5 * result.fps
    assert f"{sum(result.full_dreams.values())} fully dreamed (1 start, " in table(result)
