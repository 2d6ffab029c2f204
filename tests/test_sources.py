from fractions import Fraction

import numpy as np
import pytest

from dreamvideo.errors import DreamvideoError
from dreamvideo.sources import exact_fps, probe, read_frames
from tests.conftest import ROOT

MEDIA = ROOT.parent / "shared" / "media"


def test_probe_real_clips():
    chaplin = probe(MEDIA / "chaplin.mp4")
    assert (chaplin.width, chaplin.height, chaplin.fps, chaplin.codec) == (640, 360, 25, "h264")
    assert chaplin.has_audio and chaplin.frames == 241
    gif = probe(MEDIA / "pigs_in_a_polka.gif")
    assert (gif.width, gif.height, gif.fps, gif.has_audio) == (314, 273, 10, False)
    webm = probe(MEDIA / "big_buck_bunny_432_433.webm")
    assert (webm.width, webm.height, webm.fps, webm.codec) == (1280, 720, 24, "vp8")


def test_ntsc_rates_are_exact():
    assert exact_fps(29.97) == Fraction(30000, 1001)
    assert exact_fps(23.98) == Fraction(24000, 1001)
    assert exact_fps(59.94) == Fraction(60000, 1001)
    assert exact_fps(25.0) == 25 and exact_fps(12.5) == Fraction(25, 2)


def test_frames_stream_scaled_and_odd_sized():
    frames = read_frames(MEDIA / "pigs_in_a_polka.gif", size=(157, 137))
    first = next(frames)
    assert first.shape == (137, 157, 3) and first.dtype == np.uint8
    assert 1 + sum(1 for _ in frames) == 30
    frames.close()


@pytest.mark.parametrize("content, message", [(b"", "is empty"), (b"\x00" * 4096, "cannot read")])
def test_bad_videos(tmp_path, content, message):
    path = tmp_path / "bad.mp4"
    path.write_bytes(content)
    with pytest.raises(DreamvideoError, match=message):
        probe(path)


def test_rotation_metadata_gives_upright_frames(tmp_path):
    import subprocess

    import imageio_ffmpeg

    rotated = tmp_path / "rot.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-display_rotation", "90", "-i",
                    str(MEDIA / "chaplin.mp4"), "-t", "0.2", "-c", "copy", str(rotated)], check=True)
    info = probe(rotated)
    assert (info.width, info.height) == (360, 640)
    assert next(read_frames(rotated)).shape == (640, 360, 3)


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
