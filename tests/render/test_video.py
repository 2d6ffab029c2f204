"""End to end on generated clips (tests/clips.py), at small sizes and few frames."""

import imageio.v3 as iio
import numpy as np
import pytest

from dreamvideo.api.score import score_videos
from dreamvideo.cli import main
from dreamvideo.config import DreamConfig, OutputConfig, Pipeline, SourceConfig, TemporalConfig
from dreamvideo.media.sources import probe, read_frames
from dreamvideo.render.video import render_video
from tests.conftest import SAMPLES

FAST = ["--octaves", "1", "--steps", "2", "--later-steps", "1", "--later-octaves", "1", "-q"]


def _error(capsys) -> str:
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and err[0].startswith("dreamvideo: error: "), err
    return err[0]


@pytest.mark.usefixtures("squeezenet_weights")
def test_h264_with_audio_keeps_rate_count_and_sound(tmp_path, media):
    out = tmp_path / "c.mp4"
    assert main(["video", str(media.pan), "-o", str(out), "--max-size", "170", "--start", "1",
                 "--end", "0:01.4", *FAST]) == 0
    info = probe(out)
    frames = list(read_frames(out))
    assert len(frames) == 10 and info.fps == 25 and info.has_audio
    assert (info.width, info.height) == (170, 96)
    assert info.duration == pytest.approx(0.4, abs=0.06)
    inputs = list(read_frames(media.pan, (170, 96), 1.0, 1.4))
    assert len(inputs) == 10
    # every frame is the dream of its input frame: close to it, yet changed
    changes = [np.abs(f.astype(np.float32) - i).mean() for f, i in zip(frames, inputs, strict=True)]
    assert all(1.0 < c < 40 for c in changes), changes
    assert [p.name for p in tmp_path.iterdir()] == ["c.mp4"]


@pytest.mark.usefixtures("squeezenet_weights")
def test_vp8_into_webm_with_audio(tmp_path, media):
    out = tmp_path / "b.webm"
    assert main(["video", str(media.webm), "-o", str(out), "--max-size", "170", "--end", "0.25", *FAST]) == 0
    info = probe(out)
    assert sum(1 for _ in read_frames(out)) == 6 and info.fps == 24 and info.has_audio
    assert (info.width, info.height) == (170, 96)


@pytest.mark.usefixtures("squeezenet_weights")
def test_odd_width_gif_every_other_frame(tmp_path, media):
    out = tmp_path / "p.gif"
    assert main(["video", str(media.gif), "-o", str(out), "--max-size", "151", "--layers", "fire3",
                 "--every", "3", "--end", "1.5", *FAST]) == 0
    info = probe(out)
    assert sum(1 for _ in read_frames(out)) == 5
    assert (info.width, info.height) == (151, 131)  # GIF keeps odd sizes
    assert float(info.fps) == pytest.approx(10 / 3, abs=0.05)


@pytest.mark.usefixtures("squeezenet_weights")
def test_png_folder_output(tmp_path, media):
    out = tmp_path / "frames"
    assert main(["video", str(media.pan), "-o", str(out), "--max-size", "170", "--end", "0.2", *FAST]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == [*(f"{i:06d}.png" for i in range(1, 6)), "dreamvideo.toml"]


@pytest.mark.usefixtures("squeezenet_weights")
def test_flow_flickers_less_than_independent_frames(tmp_path, media):
    """The heart of the product, on 16 frames of a camera move: same dream, less flicker."""
    source = SourceConfig(str(media.pan), max_size=200, end=0.64)
    scores = {}
    for mode in ("flow", "none"):
        out = tmp_path / f"{mode}.mp4"
        report = render_video(Pipeline("video", source, dream=DreamConfig(octaves=2, steps=6),
                                       temporal=TemporalConfig(mode=mode), output=OutputConfig(str(out))))
        assert report.frames == 16 and report.complete
        scores[mode] = score_videos(media.pan, out)
    flow, none = scores["flow"], scores["none"]
    assert flow.excess < 0.6 * none.excess
    assert flow.strength > 0.8 * none.strength > 2


@pytest.mark.usefixtures("squeezenet_weights")
def test_stream_cut_off_half_way_keeps_what_decoded(tmp_path, capsys, media):
    out = tmp_path / "o.mp4"
    assert main(["video", str(media.truncated), "-o", str(out), "--max-size", "170", *FAST[:-1]]) == 0
    err = capsys.readouterr().err
    assert "dreamvideo: warning: the input ended after" in err
    assert 0 < sum(1 for _ in read_frames(out)) < 48


@pytest.mark.parametrize("argv, message", [
    (["{tmp}/audio.mp3", "-o", "{tmp}/o.mp4"], "has no video stream"),
    (["{clip}", "-o", "{tmp}/o.mp4", "--start", "60"], "no frames could be decoded"),
    (["{clip}", "-o", "{tmp}/o.avi"], "extension '.avi'"),
    (["{clip}", "-o", "{clip}", "--force"], "is the input file"),
    (["{clip}", "-o", "{tmp}/exists.mp4"], "already exists; pass --force"),
    (["{clip}", "-o", "{tmp}/o.mp4", "--temporal", "magic"], "invalid choice: 'magic'"),
    (["{clip}", "-o", "{tmp}/o.mp4", "--carry", "1.5"], "temporal.carry (--carry) must be"),
    (["{clip}", "-o", "{tmp}/o.mp4", "--start", "2", "--end", "1"], "must come after"),
    (["{clip}", "-o", "{tmp}/o.mp4", "--end", "1:xx"], "bad time '1:xx'"),
    (["{clip}", "-o", "{tmp}/o.mp4", "--max-size", "60"], "need at least"),
    (["{still}", "-o", "{tmp}/o.mp4"], "is a still image; dream it with `dreamvideo still"),
])
@pytest.mark.usefixtures("squeezenet_weights")
def test_bad_video_input(tmp_path, capsys, argv, message, media):
    from tests.clips import ffmpeg

    clip = tmp_path / "clip" / "pan.mp4"
    clip.parent.mkdir()
    clip.write_bytes(media.pan.read_bytes())
    ffmpeg("-i", str(clip), "-vn", "-t", "1", str(tmp_path / "audio.mp3"))
    (tmp_path / "exists.mp4").write_bytes(b"keep")
    (tmp_path / "still.png").write_bytes((SAMPLES / "chelsea.jpg").read_bytes())
    before = sorted(p.name for p in tmp_path.iterdir())
    argv = [a.replace("{tmp}", str(tmp_path)).replace("{clip}", str(clip))
            .replace("{still}", str(tmp_path / "still.png")) for a in argv]
    argv = ["video", *argv, *([] if "--max-size" in argv else ["--max-size", "170"]), *FAST]
    try:
        code = main(argv)
    except SystemExit as e:  # argparse's own checks
        code = e.code
    assert code == 2
    assert message in _error(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert (tmp_path / "exists.mp4").read_bytes() == b"keep"


@pytest.mark.parametrize("quiet", [[], ["-q"]])
@pytest.mark.usefixtures("squeezenet_weights")
def test_octave_warning_once_per_video_not_per_frame(tmp_path, capsys, media, quiet):
    out = tmp_path / "o.mp4"
    assert main(["video", str(media.pan), "-o", str(out), "--max-size", "170", "--end", "0.2",
                 "--octaves", "6", "--steps", "1", "--later-steps", "1", "--later-octaves", "1", *quiet]) == 0
    err = capsys.readouterr().err
    assert err.count("dreamvideo: warning: reduced octaves from 6 to") == 1  # -q hides the bar only
    assert f"wrote {out}: 5 frames, " in err


@pytest.mark.usefixtures("squeezenet_weights")
def test_stream_without_duration(tmp_path, media):
    raw = media.raw_h264
    assert probe(raw).duration is None
    decoded = sum(1 for _ in read_frames(raw))
    report = render_video(Pipeline("video", SourceConfig(str(raw), max_size=170),
                                   dream=DreamConfig(octaves=1, steps=1),
                                   temporal=TemporalConfig(later_steps=1, later_octaves=1),
                                   output=OutputConfig(str(tmp_path / "o.mp4"))))
    assert report.expected is None and report.complete and report.frames == decoded > 0
    assert sum(1 for _ in read_frames(tmp_path / "o.mp4")) == decoded


@pytest.mark.usefixtures("squeezenet_weights")
def test_peak_memory_does_not_grow_with_length(tmp_path, media):
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
    # the two renders side by side (each process has its own peak): one TensorFlow import's wait
    procs = {}
    for end in ("0.4", "3.2"):
        with (tmp_path / f"{end}.err").open("w") as err:
            procs[end] = subprocess.Popen([sys.executable, "-c", script, str(media.pan),
                                           str(tmp_path / f"{end}.mp4"), end],
                                          stdout=subprocess.PIPE, stderr=err, text=True)
    peaks = {}
    for end, proc in procs.items():
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, (tmp_path / f"{end}.err").read_text()[-2000:]
        peaks[end] = int(out.split()[-1])
    assert sum(1 for _ in read_frames(tmp_path / "3.2.mp4")) == 80
    assert peaks["3.2"] < 1.05 * peaks["0.4"], peaks


@pytest.mark.usefixtures("squeezenet_weights")
def test_more_video_flags(tmp_path, capsys, media):
    out = tmp_path / "n.mp4"
    assert main(["video", str(media.pan), "-o", str(out), "--max-size", "170", "--end", "0.2", "--no-audio",
                 "--quality", "30", "--flow", "farneback", "--mask-softness", "0", "--scene-cut", "0.2",
                 *FAST]) == 0
    assert not probe(out).has_audio and sum(1 for _ in read_frames(out)) == 5
    text = out.read_bytes()
    assert b"crf=30" in text  # x264 writes its settings into the stream
    blend = tmp_path / "b.mp4"
    assert main(["video", str(media.pan), "-o", str(blend), "--max-size", "170", "--end", "0.2",
                 "--temporal", "blend", "--blend", "0.3", *FAST]) == 0
    from dreamvideo.media.provenance import read_config

    assert 'mode = "blend"' in read_config(blend) and "blend = 0.3" in read_config(blend)
    assert main(["score", str(media.pan), str(blend), "--flow", "farneback"]) == 0
    assert "excess (flicker added)" in capsys.readouterr().out


@pytest.mark.usefixtures("squeezenet_weights")
def test_codec_and_output_rate_flags(tmp_path, media, capsys):
    from dreamvideo.media.provenance import read_config

    out = tmp_path / "h.mp4"
    assert main(["video", str(media.pan), "-o", str(out), "--max-size", "170", "--end", "0.4",
                 "--codec", "libx265", "--output-fps", "10", *FAST]) == 0
    info = probe(out)
    assert info.codec == "hevc" and info.fps == 10 and sum(1 for _ in read_frames(out)) == 4
    # the final line counts what the file holds, not the frames dreamed before re-timing
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith(f"wrote {out}: 4 frames (re-timed from")
    assert 'codec = "libx265"' in read_config(out) and "fps = 10.0" in read_config(out)


def _strength(inputs, outputs) -> float:
    pairs = zip(inputs, outputs, strict=True)
    return float(np.mean([np.abs(o.astype(np.float32) - i).mean() for i, o in pairs]))


@pytest.mark.slow
@pytest.mark.usefixtures("squeezenet_weights")
def test_fade_from_black_is_one_shot_and_as_steady_as_without_the_fade(tmp_path, media):
    """3 s fading in from black over a soft, grainy moving scene: today's flow sees the dark
    frames as cuts and restarts the dream; it must carry on, as steady as the same scene
    without the fade, and end as strong."""
    dream, temporal = DreamConfig(steps=4), TemporalConfig()
    reports, scores, strengths = {}, {}, {}
    for name, clip in (("fade", media.fade(True)), ("plain", media.fade(False))):
        out = tmp_path / f"{name}.mp4"
        reports[name] = render_video(Pipeline("video", SourceConfig(str(clip)), dream=dream,
                                              temporal=temporal, output=OutputConfig(str(out))))
        scores[name] = score_videos(clip, out)
        tail = (list(read_frames(clip))[-12:], list(read_frames(out))[-12:])
        strengths[name] = _strength(*tail)
    assert reports["fade"].frames == reports["plain"].frames == 72
    assert reports["fade"].scene_cuts <= 1 and reports["plain"].scene_cuts == 0
    assert scores["fade"].excess <= 1.5 * scores["plain"].excess, scores
    # once faded in, the carried dream is as strong as it is without the fade
    assert strengths["fade"] == pytest.approx(strengths["plain"], rel=0.15), strengths


@pytest.mark.usefixtures("squeezenet_weights")
def test_a_hard_cut_still_restarts_the_dream(tmp_path, media):
    report = render_video(Pipeline("video", SourceConfig(str(media.hard_cut)), dream=DreamConfig(steps=1),
                                   temporal=TemporalConfig(later_steps=1, later_octaves=1),
                                   output=OutputConfig(str(tmp_path / "c.mp4"))))
    assert report.frames == 24 and report.scene_cuts == 1


@pytest.mark.parametrize("clip, end, ext, audio", [
    ("odd_fps", 1.0, ".mp4", True),  # 10.51 fps, --end 1: 11 frames over 1.000 s of audio
    ("short_audio", None, ".webm", True),  # 25 frames over 0.5 s of audio
    ("no_duration", 1.0, ".mp4", True),  # no duration to expect a count from
    ("truncated", None, ".mp4", True),  # cut off: the frames that decoded, all of them
    ("long_audio", None, "", True),  # PNG folder; 1 s of video in a file 2 s long
    ("odd_fps", 1.0, ".gif", False),
])
@pytest.mark.usefixtures("squeezenet_weights")
def test_every_dreamed_frame_is_in_the_output_and_the_counts_are_true(tmp_path, media, clip, end, ext, audio):
    from tests.clips import stream_ends

    source = getattr(media, clip)
    decoded = sum(1 for _ in read_frames(source, None, None, end))
    out = tmp_path / (f"o{ext}" if ext else "frames")
    report = render_video(Pipeline("video", SourceConfig(str(source), max_size=170, end=end),
                                   dream=DreamConfig(octaves=1, steps=1),
                                   temporal=TemporalConfig(later_steps=1, later_octaves=1),
                                   output=OutputConfig(str(out), audio=audio)))
    written = sum(1 for _ in read_frames(out)) if ext else len(list(out.glob("*.png")))
    assert report.frames == report.dreamed == decoded == written > 0
    if clip == "truncated":
        assert not report.complete and report.expected > decoded
    else:
        assert report.complete and report.expected in (None, decoded)
    if audio and ext:
        ends = stream_ends(out)
        assert ends["audio"] == pytest.approx(ends["video"], abs=0.03), ends


def _strength_per_frame(out, clip, size):
    frames = np.stack(list(read_frames(out))).astype(np.float32)
    inputs = np.stack(list(read_frames(clip, size))).astype(np.float32)
    return np.abs(frames - inputs[:len(frames)]).mean(axis=(1, 2, 3))


@pytest.mark.usefixtures("squeezenet_weights")
def test_a_keyframed_dream_ramps_in(tmp_path, media):
    out = tmp_path / "ramp.mp4"
    assert main(["video", str(media.beat_clip), "-o", str(out), "--seed", "1", "--temporal", "none", *FAST,
                 "--keyframe", "0 step_size=0.0005", "--keyframe", "1.5 step_size=0.012"]) == 0
    strength = _strength_per_frame(out, media.beat_clip, (192, 108))
    assert len(strength) == 50
    assert strength[:5].mean() < 0.5 * strength[-10:].mean()
    assert np.all(np.diff(strength[1:35]) > -0.5)  # rising (frame 0: the encoder's key frame)


@pytest.mark.usefixtures("squeezenet_weights")
def test_the_dream_follows_the_beat(tmp_path, media):
    """--audio-react: loud half-seconds dream harder than quiet ones, from the input's own sound."""
    out = tmp_path / "beat.mp4"
    assert main(["video", str(media.beat_clip), "-o", str(out), "--seed", "1", "--temporal", "none", *FAST,
                 "--audio-react", "0.9", "--audio-smooth", "0"]) == 0
    strength = _strength_per_frame(out, media.beat_clip, (192, 108))
    loud = np.r_[strength[2:11], strength[27:36]].mean()
    quiet = np.r_[strength[15:23], strength[40:48]].mean()
    assert loud > 1.5 * quiet
    assert probe(out).has_audio


@pytest.mark.usefixtures("squeezenet_weights")
def test_audio_react_needs_a_soundtrack(tmp_path, capsys, media):
    assert main(["video", str(media.gif), "-o", str(tmp_path / "x.mp4"), "--audio-react", "0.5", *FAST]) == 2
    assert "--audio FILE" in _error(capsys)


@pytest.mark.usefixtures("squeezenet_weights")
def test_video_colour_coherence_holds_the_footages_palette(tmp_path, media):
    from dreamvideo.temporal.look import colourfulness

    made = {}
    for mode in ("none", "lab"):
        out = tmp_path / f"{mode}.mp4"
        assert main(["video", str(media.pan), "-o", str(out), "--end", "0.6", "--max-size", "192", "--seed",
                     "1", "--step-size", "0.02", "--color-coherence", mode, "--color-reference", "input",
                     *FAST]) == 0
        made[mode] = list(read_frames(out))
    inputs = list(read_frames(media.pan, (192, 108), 0.0, 0.6))
    drift = {mode: np.mean([abs(colourfulness(o) - colourfulness(i))
                            for o, i in zip(frames, inputs, strict=True)]) for mode, frames in made.items()}
    assert drift["lab"] < 0.5 * drift["none"]


@pytest.mark.usefixtures("squeezenet_weights")
def test_a_guided_video_with_a_guide_weight_schedule(tmp_path, media):
    """--guide reaches the carried frames too (their compiled step gets the guided weights)."""
    out = tmp_path / "guided"
    assert main(["video", str(media.beat_clip), "-o", str(out), "--end", "0.4", "--seed", "1", *FAST,
                 "--guide", str(SAMPLES / "chelsea.jpg"), "--keyframe", "0.2 guide_weight=0"]) == 0
    plain = tmp_path / "plain"
    assert main(["video", str(media.beat_clip), "-o", str(plain), "--end", "0.4", "--seed", "1", *FAST]) == 0
    guided, unguided = (np.stack([iio.imread(f).astype(np.float32) for f in sorted(p.glob("*.png"))])
                        for p in (out, plain))
    assert len(guided) == len(unguided) == 10
    assert np.abs(guided[:4] - unguided[:4]).mean() > 1.0  # guided while the weight is 1


def test_a_frame_too_big_for_the_device_is_one_line_and_leaves_nothing(tmp_path, capsys, media, monkeypatch):
    """Out of memory on the device (here the dream raises TensorFlow's kind, by its name,
    on the third frame): the size and the flags that lower it, exit 2, no output, no work
    folder."""
    import dreamvideo.render.chain

    class ResourceExhaustedError(RuntimeError):
        pass

    real, calls = dreamvideo.render.chain.dream_tensor, []

    def runs_out(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise ResourceExhaustedError("OOM when allocating tensor with shape[1,96,170,64]")
        return real(*args, **kwargs)

    monkeypatch.setattr(dreamvideo.render.chain, "dream_tensor", runs_out)
    monkeypatch.setenv("DREAMVIDEO_CHECKPOINT_SECONDS", "0")  # a state saved after every frame
    out = tmp_path / "v.mp4"
    assert main(["video", str(media.pan), "-o", str(out), "--max-size", "170", "--end", "0.5",
                 *FAST]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "dreamvideo: error: a 170x96 frame does not fit in the device's memory; lower --max-size (now 170) "
        "or --flow-size (now 1280), or --tile-size"]
    assert sorted(p.name for p in tmp_path.iterdir()) == []
