from fractions import Fraction

import imageio.v3 as iio
import numpy as np
import pytest

from dreamvideo.errors import DreamvideoError
from dreamvideo.media.sources import probe, read_frames
from dreamvideo.media.writers import AudioSource, Encoding, open_writer
from tests.clips import stream_ends


def _frames(n, w=65, h=49):
    return [np.full((h, w, 3), (i * 20) % 256, np.uint8) for i in range(n)]


@pytest.mark.parametrize("ext", [".mp4", ".webm", ".gif"])
def test_frame_count_rate_and_even_size(tmp_path, ext):
    out = tmp_path / f"o{ext}"
    with open_writer(out, Encoding((65, 49), Fraction(30000, 1001))) as writer:
        for frame in _frames(12):
            writer.write(frame)
    info = probe(out)
    assert sum(1 for _ in read_frames(out)) == 12
    if ext == ".gif":
        assert (info.width, info.height) == (65, 49)
    else:
        assert (info.width, info.height) == (64, 48)  # odd row and column cropped for yuv420p
        assert info.fps == Fraction(30000, 1001)
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


def test_audio_is_muxed_and_cut(tmp_path, media):
    out = tmp_path / "a.mp4"
    frames = read_frames(media.pan, size=(160, 90))
    with open_writer(out, Encoding((160, 90), 25, audio=AudioSource(str(media.pan), 1.0, 2.0))) as writer:
        for i, frame in enumerate(frames):
            if i == 25:
                break
            writer.write(frame)
    frames.close()
    info = probe(out)
    assert info.has_audio and info.fps == 25
    assert info.duration == pytest.approx(1.0, abs=0.1)
    assert [p.name for p in tmp_path.iterdir()] == ["a.mp4"]


@pytest.mark.parametrize("ext", [".mp4", ".webm"])
@pytest.mark.parametrize("clip, end, rate, frames", [
    ("short_audio", None, 25, 25), ("long_audio", None, 25, 25),
    ("odd_fps", 1.0, Fraction(1051, 100), 11),  # --end 1: 11 frames (1.047 s) over 1.000 s of audio
])
def test_every_frame_is_kept_and_the_audio_fits_the_video(tmp_path, media, ext, clip, end, rate, frames):
    """Audio shorter or longer than the frames: cut or padded to them, never a frame lost."""
    out = tmp_path / f"o{ext}"
    source = getattr(media, clip)
    with open_writer(out, Encoding((96, 64), rate, audio=AudioSource(str(source), 0.0, end))) as writer:
        for frame in _frames(frames, 96, 64):
            writer.write(frame)
    assert sum(1 for _ in read_frames(out)) == frames
    ends = stream_ends(out)
    assert ends["video"] == pytest.approx(frames / rate, abs=0.002)
    assert ends["audio"] == pytest.approx(ends["video"], abs=0.03)  # one audio frame at most


def test_png_folder(tmp_path):
    with open_writer(tmp_path / "frames", Encoding((65, 49), 10)) as writer:
        for frame in _frames(3):
            writer.write(frame)
    names = sorted(p.name for p in (tmp_path / "frames").iterdir())
    assert names == ["000001.png", "000002.png", "000003.png"]
    assert iio.imread(tmp_path / "frames" / "000002.png")[0, 0, 0] == 20


def test_failure_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError), open_writer(tmp_path / "o.mp4", Encoding((64, 48), 25)) as writer:
        writer.write(_frames(1, 64, 48)[0])
        raise RuntimeError("dream crashed")
    with pytest.raises(ValueError, match="shape"), \
            open_writer(tmp_path / "p.webm", Encoding((64, 48), 25)) as writer:
        writer.write(np.zeros((10, 10, 3), np.uint8))
    avi = open_writer(tmp_path / "o.avi", Encoding((8, 8), 25))
    with pytest.raises(DreamvideoError, match=r"\.mp4, \.webm, \.gif"), avi:
        pass
    assert list(tmp_path.iterdir()) == []


def test_failure_with_audio_leaves_no_scratch_files(tmp_path, media):
    audio = AudioSource(str(media.pan), 0.0, 1.0)
    with pytest.raises(KeyError), \
            open_writer(tmp_path / "o.mp4", Encoding((64, 48), 25, audio=audio)) as writer:
        writer.write(_frames(1, 64, 48)[0])
        raise KeyError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_ffmpeg_failure_is_reported_with_its_own_words(tmp_path):
    bad_crf = open_writer(tmp_path / "o.webm", Encoding((64, 48), 25, quality=99))  # VP9 CRF ends at 63
    with pytest.raises(DreamvideoError) as err, bad_crf as w:
        for frame in _frames(30, 64, 48):
            w.write(frame)
    message = str(err.value)
    assert message.startswith("ffmpeg could not write o.webm: ") and "out of range" in message
    assert "\n" not in message and list(tmp_path.iterdir()) == []


def test_other_codecs_and_output_rate(tmp_path):
    frames = _frames(25, 64, 48)
    with open_writer(tmp_path / "h.mp4", Encoding((64, 48), 25, codec="libx265")) as writer:
        for frame in frames:
            writer.write(frame)
    assert probe(tmp_path / "h.mp4").codec == "hevc"
    with open_writer(tmp_path / "r.mp4", Encoding((64, 48), 25, out_fps=10)) as writer:
        for frame in frames:
            writer.write(frame)
    info = probe(tmp_path / "r.mp4")
    assert info.fps == 10 and sum(1 for _ in read_frames(tmp_path / "r.mp4")) == 10  # 1 s either way
    wrong = open_writer(tmp_path / "x.webm", Encoding((64, 48), 25, codec="libx264"))
    with pytest.raises(DreamvideoError, match=r"\.webm files take the codecs libvpx-vp9, libaom-av1"), wrong:
        pass
