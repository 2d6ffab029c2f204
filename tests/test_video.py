"""End to end on the real clips, at small sizes and few frames."""

import numpy as np
import pytest

from dreamvideo.cli import main
from dreamvideo.config import DreamConfig, SourceConfig, TemporalConfig
from dreamvideo.score import score_videos
from dreamvideo.sources import probe, read_frames
from dreamvideo.video import render_video
from tests.conftest import ROOT

MEDIA = ROOT.parent / "shared" / "media"
CHAPLIN, BUNNY, PIGS = (str(MEDIA / n) for n in ("chaplin.mp4", "big_buck_bunny_432_433.webm",
                                                  "pigs_in_a_polka.gif"))
FAST = ["--octaves", "1", "--steps", "2", "--later-steps", "1", "--later-octaves", "1", "-q"]


def _error(capsys) -> str:
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and err[0].startswith("dreamvideo: error: "), err
    return err[0]


def test_h264_with_audio_keeps_rate_count_and_sound(tmp_path, squeezenet_weights):
    out = tmp_path / "c.mp4"
    assert main(["video", CHAPLIN, "-o", str(out), "--max-size", "170", "--start", "1", "--end", "0:01.4",
                 *FAST]) == 0
    info = probe(out)
    frames = list(read_frames(out))
    assert len(frames) == 10 and info.fps == 25 and info.has_audio
    assert (info.width, info.height) == (170, 96)
    assert info.duration == pytest.approx(0.4, abs=0.06)
    assert all(np.isfinite(f).all() for f in frames)
    assert [p.name for p in tmp_path.iterdir()] == ["c.mp4"]


def test_vp8_720p_into_webm_with_audio(tmp_path, squeezenet_weights):
    out = tmp_path / "b.webm"
    assert main(["video", BUNNY, "-o", str(out), "--max-size", "170", "--end", "0.25", *FAST]) == 0
    info = probe(out)
    assert sum(1 for _ in read_frames(out)) == 6 and info.fps == 24 and info.has_audio
    assert (info.width, info.height) == (170, 96)


def test_odd_width_gif_every_other_frame(tmp_path, squeezenet_weights):
    out = tmp_path / "p.gif"
    assert main(["video", PIGS, "-o", str(out), "--max-size", "151", "--layers", "fire3", "--every", "3",
                 "--end", "1.5", *FAST]) == 0
    info = probe(out)
    assert sum(1 for _ in read_frames(out)) == 5
    assert (info.width, info.height) == (151, 131)  # GIF keeps odd sizes
    assert float(info.fps) == pytest.approx(10 / 3, abs=0.05)


def test_png_folder_output(tmp_path, squeezenet_weights):
    out = tmp_path / "frames"
    assert main(["video", CHAPLIN, "-o", str(out), "--max-size", "170", "--end", "0.2", *FAST]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == [*(f"{i:06d}.png" for i in range(1, 6)), "dreamvideo.toml"]


def test_flow_flickers_less_than_independent_frames(tmp_path, squeezenet_weights):
    """The heart of the product, on 16 real frames: same dream, less flicker."""
    source = SourceConfig(CHAPLIN, max_size=200, end=0.64)
    scores = {}
    for mode in ("flow", "none"):
        out = tmp_path / f"{mode}.mp4"
        report = render_video(source, out, dream=DreamConfig(octaves=2, steps=6),
                              temporal=TemporalConfig(mode=mode))
        assert report.frames == 16 and report.complete
        scores[mode] = score_videos(CHAPLIN, out)
    flow, none = scores["flow"], scores["none"]
    assert flow.excess < 0.6 * none.excess
    assert flow.strength > 0.8 * none.strength > 2


def test_stream_cut_off_half_way_keeps_what_decoded(tmp_path, capsys, squeezenet_weights):
    broken = tmp_path / "half.webm"
    broken.write_bytes((MEDIA / "big_buck_bunny_432_433.webm").read_bytes()[:45000])
    out = tmp_path / "o.mp4"
    assert main(["video", str(broken), "-o", str(out), "--max-size", "170", *FAST[:-1]]) == 0
    err = capsys.readouterr().err
    assert "dreamvideo: warning: the input ended after" in err
    assert 0 < sum(1 for _ in read_frames(out)) < 24


@pytest.mark.parametrize("argv, message", [
    (["{tmp}/audio.mp3", "-o", "{tmp}/o.mp4"], "has no video stream"),
    ([CHAPLIN, "-o", "{tmp}/o.mp4", "--start", "60"], "no frames could be decoded"),
    ([CHAPLIN, "-o", "{tmp}/o.avi"], "extension '.avi'"),
    ([CHAPLIN, "-o", CHAPLIN, "--force"], "is the input file"),
    ([CHAPLIN, "-o", "{tmp}/exists.mp4"], "already exists; pass --force"),
    ([CHAPLIN, "-o", "{tmp}/o.mp4", "--temporal", "magic"], "invalid choice: 'magic'"),
    ([CHAPLIN, "-o", "{tmp}/o.mp4", "--carry", "1.5"], "temporal.carry (--carry) must be"),
    ([CHAPLIN, "-o", "{tmp}/o.mp4", "--start", "2", "--end", "1"], "must come after"),
    ([CHAPLIN, "-o", "{tmp}/o.mp4", "--end", "1:xx"], "bad time '1:xx'"),
    ([CHAPLIN, "-o", "{tmp}/o.mp4", "--max-size", "60"], "need at least"),
])
def test_bad_video_input(tmp_path, capsys, argv, message, squeezenet_weights):
    import subprocess

    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", CHAPLIN, "-vn", "-t", "1",
                    str(tmp_path / "audio.mp3")], check=True)
    (tmp_path / "exists.mp4").write_bytes(b"keep")
    before = sorted(p.name for p in tmp_path.iterdir())
    argv = ["video", *(a.replace("{tmp}", str(tmp_path)) for a in argv), "--max-size", "170", *FAST] \
        if "--max-size" not in argv else ["video", *(a.replace("{tmp}", str(tmp_path)) for a in argv), *FAST]
    try:
        code = main(argv)
    except SystemExit as e:  # argparse's own checks
        code = e.code
    assert code == 2
    assert message in _error(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert (tmp_path / "exists.mp4").read_bytes() == b"keep"


def test_octave_warning_once_per_video_not_per_frame(tmp_path, capsys, squeezenet_weights):
    assert main(["video", CHAPLIN, "-o", str(tmp_path / "o.mp4"), "--max-size", "170", "--end", "0.2",
                 "--octaves", "6", "--steps", "1", "--later-steps", "1", "--later-octaves", "1"]) == 0
    assert capsys.readouterr().err.count("dreamvideo: warning: reduced octaves from 6 to") == 1


def test_stream_without_duration(tmp_path, capsys, squeezenet_weights):
    import subprocess

    import imageio_ffmpeg

    raw = tmp_path / "raw.h264"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", CHAPLIN, "-t", "0.4", "-an",
                    "-c:v", "copy", "-bsf:v", "h264_mp4toannexb", "-f", "h264", str(raw)], check=True)
    assert probe(raw).duration is None
    decoded = sum(1 for _ in read_frames(raw))
    report = render_video(SourceConfig(str(raw), max_size=170), tmp_path / "o.mp4",
                          dream=DreamConfig(octaves=1, steps=1),
                          temporal=TemporalConfig(later_steps=1, later_octaves=1))
    assert report.expected is None and report.complete and report.frames == decoded > 0
    assert sum(1 for _ in read_frames(tmp_path / "o.mp4")) == decoded


def test_peak_memory_does_not_grow_with_length(tmp_path, squeezenet_weights):
    """Streaming end to end: 8 times the frames, the same peak RSS."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent("""
        import resource, sys
        from dreamvideo.cli import main
        fast = ["--octaves", "1", "--steps", "1", "--later-steps", "1", "--later-octaves", "1", "-q"]
        assert main(["video", sys.argv[1], "-o", sys.argv[2], "--max-size", "170", "--end", sys.argv[3],
                     *fast]) == 0
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    """)
    peaks = {}
    for end in ("0.4", "3.2"):
        proc = subprocess.run([sys.executable, "-c", script, CHAPLIN, str(tmp_path / f"{end}.mp4"), end],
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        peaks[end] = int(proc.stdout.split()[-1])
    assert sum(1 for _ in read_frames(tmp_path / "3.2.mp4")) == 80
    assert peaks["3.2"] < 1.05 * peaks["0.4"], peaks


def test_more_video_flags(tmp_path, capsys, squeezenet_weights):
    out = tmp_path / "n.mp4"
    assert main(["video", CHAPLIN, "-o", str(out), "--max-size", "170", "--end", "0.2", "--no-audio",
                 "--quality", "30", "--flow", "farneback", "--mask-softness", "0", "--scene-cut", "0.2",
                 *FAST]) == 0
    assert not probe(out).has_audio and sum(1 for _ in read_frames(out)) == 5
    text = out.read_bytes()
    assert b"crf=30" in text  # x264 writes its settings into the stream
    blend = tmp_path / "b.mp4"
    assert main(["video", CHAPLIN, "-o", str(blend), "--max-size", "170", "--end", "0.2",
                 "--temporal", "blend", "--blend", "0.3", *FAST]) == 0
    from dreamvideo.provenance import read_config

    assert 'mode = "blend"' in read_config(blend) and "blend = 0.3" in read_config(blend)
    assert main(["score", CHAPLIN, str(blend), "--flow", "farneback"]) == 0
    assert "excess (flicker added)" in capsys.readouterr().out


def test_codec_and_output_rate_flags(tmp_path, squeezenet_weights):
    from dreamvideo.provenance import read_config

    out = tmp_path / "h.mp4"
    assert main(["video", CHAPLIN, "-o", str(out), "--max-size", "170", "--end", "0.4", "--codec", "libx265",
                 "--fps", "10", *FAST]) == 0
    info = probe(out)
    assert info.codec == "hevc" and info.fps == 10 and sum(1 for _ in read_frames(out)) == 4
    assert 'codec = "libx265"' in read_config(out) and "fps = 10.0" in read_config(out)
