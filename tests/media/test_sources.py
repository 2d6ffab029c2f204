import itertools
from fractions import Fraction

import numpy as np
import pytest

from dreamvideo.errors import DreamvideoError
from dreamvideo.media.sources import exact_fps, probe, read_frames


def test_probe_clips(media):
    pan = probe(media.pan)
    assert (pan.width, pan.height, pan.fps, pan.codec) == (320, 180, 25, "h264")
    assert pan.has_audio and pan.frames == 100
    gif = probe(media.gif)
    assert (gif.width, gif.height, gif.fps, gif.has_audio) == (314, 273, 10, False)
    webm = probe(media.webm)
    assert (webm.width, webm.height, webm.fps, webm.codec) == (256, 144, 24, "vp8")
    odd = probe(media.odd_fps)
    assert (odd.width, odd.height, odd.fps) == (161, 123, Fraction(1051, 100))
    assert probe(media.no_duration).duration is None and probe(media.raw_h264).duration is None


def test_variable_rate_is_read_at_a_constant_rate(media):
    info = probe(media.vfr)  # 25 frames 1/25 s apart, then 25 frames 2/25 s apart: 3 s
    assert info.fps == 25 and info.duration == pytest.approx(3.0, abs=0.1)
    frames = list(read_frames(media.vfr))
    assert len(frames) == pytest.approx(75, abs=1)  # the slow second half: each frame twice
    late = frames[30:40]
    assert sum(np.array_equal(a, b) for a, b in itertools.pairwise(late)) >= 4


def test_alpha_clip_is_read_as_rgb(media):
    info = probe(media.alpha)
    assert (info.width, info.height, info.fps, info.codec) == (160, 96, 10, "png")
    frames = list(read_frames(media.alpha))
    assert len(frames) == 10 and frames[0].shape == (96, 160, 3) and frames[0].dtype == np.uint8


def test_ntsc_rates_are_exact():
    assert exact_fps(29.97) == Fraction(30000, 1001)
    assert exact_fps(23.98) == Fraction(24000, 1001)
    assert exact_fps(59.94) == Fraction(60000, 1001)
    assert exact_fps(25.0) == 25 and exact_fps(12.5) == Fraction(25, 2)


def test_frames_stream_scaled_and_odd_sized(media):
    frames = read_frames(media.gif, size=(157, 137))
    first = next(frames)
    assert first.shape == (137, 157, 3) and first.dtype == np.uint8
    assert 1 + sum(1 for _ in frames) == 20
    frames.close()


@pytest.mark.parametrize("content, message", [(b"", "is empty"), (b"\x00" * 4096, "cannot read")])
def test_bad_videos(tmp_path, content, message):
    path = tmp_path / "bad.mp4"
    path.write_bytes(content)
    with pytest.raises(DreamvideoError, match=message):
        probe(path)


def test_rotation_metadata_gives_upright_frames(tmp_path, media):
    import subprocess

    import imageio_ffmpeg

    rotated = tmp_path / "rot.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-display_rotation", "90", "-i",
                    str(media.pan), "-t", "0.2", "-c", "copy", str(rotated)], check=True)
    info = probe(rotated)
    assert (info.width, info.height) == (180, 320)
    assert next(read_frames(rotated)).shape == (320, 180, 3)


def test_image_folder_and_glob_are_sequences(tmp_path):
    import imageio.v3 as iio

    for i in range(6):
        iio.imwrite(tmp_path / f"f{i:03d}.png", np.full((30, 40, 3), i * 40, np.uint8))
    for path in (tmp_path, str(tmp_path / "f*.png")):
        info = probe(path)
        assert (info.width, info.height, info.fps) == (40, 30, 25)
        frames = list(read_frames(path))
        assert [int(f[0, 0, 0]) for f in frames] == [0, 40, 80, 120, 160, 200]
    with pytest.raises(DreamvideoError, match="no file matches"):
        probe(str(tmp_path / "nothing*.png"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DreamvideoError, match="holds no images"):
        probe(tmp_path / "empty")
