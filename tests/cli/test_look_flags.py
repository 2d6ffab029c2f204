"""The flags of the look (issue 11) and of the scale-out (issue 12) reach their config
fields, and bad values are one-line errors."""

import pytest

from dreamvideo.cli import main
from dreamvideo.cli.commands import pipeline_of
from dreamvideo.cli.parser import build_parser
from tests.conftest import SAMPLES

CLIP = str(SAMPLES / "coffee-pan.mp4")


def test_video_flags_reach_the_pipeline():
    args = build_parser().parse_args([
        "video", CLIP, "-o", "x.mp4", "--color-coherence", "rgb", "--color-strength", "0.5",
        "--color-reference", "input", "--resample", "cubic", "--no-restore-detail", "--fresh-share", "0.2",
        "--guide", "g.png", "--guide-weight", "0.3", "--keyframe", "2 carry=0.5 steps=3",
        "--audio-react", "0.7", "--audio", "song.mp3", "--audio-smooth", "0.4", "--workers", "3",
        "--ray-address", "ray://head:10001", "--chunk", "5", "--overlap", "4", "--layers", "fire7:12=1",
        "--flow-pool", "processes", "--flow-size", "960"])
    p = pipeline_of(args)
    assert (p.color.coherence, p.color.strength, p.color.reference) == ("rgb", 0.5, "input")
    assert (p.temporal.resample, p.temporal.restore_detail, p.temporal.fresh_share) == ("cubic", False, 0.2)
    assert (p.temporal.flow_pool, p.temporal.flow_size) == ("processes", 960)
    assert (p.dream.guide, p.dream.guide_weight, p.dream.layers) == ("g.png", 0.3, (("fire7:12", 1.0),))
    assert p.temporal.keyframes[0].carry == 0.5 and p.temporal.keyframes[0].steps == 3
    assert (p.audio.react, p.audio.file, p.audio.smooth) == (0.7, "song.mp3", 0.4)
    assert (p.render.workers, p.render.ray_address, p.render.chunk, p.render.overlap) == (
        3, "ray://head:10001", 5.0, 4)
    zoom = pipeline_of(build_parser().parse_args(["zoom", "-o", "z.mp4", "--keyframe", "1 step_size=0.01"]))
    assert zoom.color.coherence is None and zoom.zoom.keyframes[0].step_size == 0.01  # lab by default


@pytest.mark.parametrize("argv, message", [
    (["video", CLIP, "-o", "x.mp4", "--color-strength", "2"], "color.strength (--color-strength) must be"),
    (["video", CLIP, "-o", "x.mp4", "--resample", "lanczos"], "invalid choice: 'lanczos'"),
    (["video", CLIP, "-o", "x.mp4", "--flow-pool", "fork"], "invalid choice: 'fork'"),
    (["video", CLIP, "-o", "x.mp4", "--chunk", "0"], "render.chunk (--chunk) must be"),
    (["video", CLIP, "-o", "x.mp4", "--workers", "0"], "render.workers (--workers) must be"),
    (["video", CLIP, "-o", "x.mp4", "--keyframe", "1 zoom=2"], "applies to zoom only"),
    (["zoom", "-o", "z.mp4", "--keyframe", "1 carry=0.5"], "applies to video only"),
    (["zoom", "-o", "z.mp4", "--audio-react", "1.5"], "audio.react (--audio-react) must be"),
    (["still", CLIP, "-o", "s.png", "--layers", "fire7:3-1"], "bad channels"),
    (["layers", "--channels", "fire7"], "needs -o"),
    (["layers", "-o", "sheet.png"], "name the layer with --channels"),
])
def test_bad_values_are_one_line(capsys, argv, message):
    try:
        code = main(argv)
    except SystemExit as e:  # argparse's own checks
        code = e.code
    assert code == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and message in err[0], err


@pytest.mark.usefixtures("squeezenet_weights")
def test_a_guide_that_cannot_be_read_is_one_line(tmp_path, capsys):
    assert main(["still", str(SAMPLES / "coffee.jpg"), "-o", str(tmp_path / "s.png"), "--max-size", "128",
                 "--guide", str(tmp_path / "missing.png"), "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot read the guide image" in err[0] and not (tmp_path / "s.png").exists()


@pytest.mark.usefixtures("squeezenet_weights")
def test_batch_command_without_workers(tmp_path, capsys):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not a png")
    code = main(["batch", "still-preview", str(SAMPLES / "chelsea.jpg"), str(bad), "-o",
                 str(tmp_path / "out"), "--set", "source.max_size=160", "--set", "dream.steps=1", "-q"])
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split()[1] for line in out.splitlines()[1:-1]}
    assert code == 1 and "1 of 2 rendered, 1 failed" in out
    assert rows == {"chelsea.jpg": "ok", "broken.png": "failed"}
    assert (tmp_path / "out" / "chelsea.png").is_file()
