"""End to end: the real command line on the real weights, at small sizes."""

import json
import subprocess
import sys

import imageio.v3 as iio
import numpy as np
import pytest

from dreamvideo.cli import main
from tests.conftest import SAMPLES

CAT = str(SAMPLES / "chelsea.jpg")
FAST = ["--max-size", "160", "--octaves", "1", "--steps", "3", "-q"]  # 2 octaves would not fit 160 px


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("dreamvideo: error: ")
    return err[0]


@pytest.mark.usefixtures("squeezenet_weights")
def test_still_end_to_end(tmp_path):
    out = tmp_path / "cat.png"
    assert main(["still", CAT, "-o", str(out), *FAST]) == 0
    img = iio.imread(out)
    assert img.shape == (106, 160, 3)
    src = iio.imread(CAT)[::1]
    import cv2

    small = cv2.resize(src, (160, 106), interpolation=cv2.INTER_AREA)
    assert np.abs(img.astype(float) - small).mean() > 1.5  # dreamed, not copied
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cat.png"]  # no temporary left


@pytest.mark.usefixtures("squeezenet_weights")
def test_still_options_and_seed_are_deterministic(tmp_path):
    args = [CAT, *FAST, "--layers", "fire3=1,fire4=0.5", "--jitter", "8", "--seed", "3",
            "--step-size", "0.01", "--octave-scale", "1.3", "--tile-size", "200", "--max-loss", "1e9"]
    assert main(["still", *args, "-o", str(tmp_path / "a.png")]) == 0
    assert main(["still", *args, "-o", str(tmp_path / "b.png")]) == 0
    assert main(["still", *args, "-o", str(tmp_path / "c.png"), "--seed", "4"]) == 0
    assert main(["still", *args, "-o", str(tmp_path / "d.webp")]) == 0
    a, b, c, d = (iio.imread(tmp_path / n) for n in ("a.png", "b.png", "c.png", "d.webp"))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.abs(a.astype(int) - d).mean() < 5  # the same dream, through lossy WebP


@pytest.mark.usefixtures("squeezenet_weights")
def test_preview_is_small(tmp_path):
    out = tmp_path / "p.jpg"
    assert main(["still", str(SAMPLES / "coffee.jpg"), "-o", str(out), "--preview", "--steps", "2",
                 "--octaves", "2", "-q"]) == 0
    assert max(iio.imread(out).shape[:2]) == 384


@pytest.mark.usefixtures("squeezenet_weights")
def test_rgba_png_keeps_alpha(tmp_path):
    rgba = np.zeros((120, 150, 4), np.uint8)
    rgba[..., :3] = iio.imread(CAT)[:120, :150]
    rgba[..., 3] = 255
    rgba[:, :40, 3] = 0
    iio.imwrite(tmp_path / "in.png", rgba)
    assert main(["still", str(tmp_path / "in.png"), "-o", str(tmp_path / "out.png"), *FAST]) == 0
    out = iio.imread(tmp_path / "out.png")
    assert out.shape == (120, 150, 4)  # within --max-size 160: the size kept, alpha kept
    assert out[:, :30, 3].max() == 0 and out[:, 50:, 3].min() == 255


@pytest.mark.usefixtures("squeezenet_weights")
def test_quiet_hides_the_progress_bar_only(tmp_path, capsys):
    """A reduced octave count is a warning, shown once in our format, with or without -q;
    so is the final line."""
    for quiet in ([], ["--quiet"]):
        out = tmp_path / f"o{len(quiet)}.png"
        assert main(["still", CAT, "-o", str(out), "--max-size", "200", "--octaves", "7", "--steps", "1",
                     "--layers", "fire9", *quiet]) == 0
        err = capsys.readouterr().err
        assert err.count("dreamvideo: warning: reduced octaves from 7 to") == 1, err
        assert f"wrote {out}" in err
        assert ("dreaming chelsea.jpg" in err) != bool(quiet)  # the bar, on stderr, unless -q


@pytest.mark.usefixtures("squeezenet_weights")
def test_default_octaves_fit_the_image_without_a_warning(caplog):
    """Unset --octaves: as many as fit, so no "reduced" warning on a default run; the
    progress total is the real count of steps from the start."""
    import logging

    import dreamvideo
    from dreamvideo.config import DreamConfig

    seen = []
    with caplog.at_level(logging.WARNING, logger="dreamvideo"):
        for size, octaves in ((160, 1), (200, 2), (451, 4)):  # 451x300: 300, 214, 153, 109 px
            seen.clear()
            dreamvideo.dream_image(CAT, dream=DreamConfig(steps=3, max_loss=1e-9), max_size=size,
                                   progress=lambda done, total: seen.append((done, total)))
            assert seen == [(3 * i, 3 * octaves) for i in range(1, octaves + 1)], (size, seen)
    assert "reduced octaves" not in caplog.text


def test_layers_command(capsys):
    assert main(["layers"]) == 0
    out = capsys.readouterr().out
    assert "fire5  27 x 27 x 256" in out and "default layers: fire5=1, fire7=1.5" in out
    assert main(["layers", "--all", "--size", "100"]) == 0
    assert "fire9_expand3x3" in capsys.readouterr().out
    assert main(["layers", "--model", "vgg16"]) == 0  # shapes need no weights: works offline
    assert "block5_conv3  14 x 14 x 512" in capsys.readouterr().out


@pytest.mark.usefixtures("squeezenet_weights")
def test_gallery_sheet(tmp_path):
    out = tmp_path / "sheet.png"
    assert main(["gallery", CAT, "-o", str(out), "--layers", "conv1,fire3,fire9", "--max-size", "120",
                 "--steps", "2", "--octaves", "1", "-q"]) == 0
    sheet = iio.imread(out)
    cell_h, cell_w = 80 + 28, 120  # image + label strip
    assert sheet.shape == (2 * (cell_h + 6) + 6, 2 * (cell_w + 6) + 6, 3)
    first, second = sheet[6:86, 6:126], sheet[6:86, 132:252]
    assert np.abs(first.astype(int) - second).mean() > 1  # conv1 cell differs from the input cell


@pytest.mark.usefixtures("squeezenet_weights")
def test_bench_json(capsys):
    assert main(["bench", "--size", "128x96", "--steps", "2", "--repeats", "1", "--layers", "fire3",
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["bare_pass_s"] > 0 and result["step_s"] > 0 and result["ratio"] > 0


@pytest.mark.parametrize("argv, message", [
    (["still", "/nonexistent.png", "-o", "{tmp}/o.png"], "does not exist"),
    (["still", "{tmp}", "-o", "{tmp}/o.png"], "is a directory"),
    (["still", "{tmp}/empty.png", "-o", "{tmp}/o.png"], "is empty"),
    (["still", "{tmp}/corrupt.png", "-o", "{tmp}/o.png"], "cannot read"),
    (["still", CAT, "-o", "{tmp}/o.png", "--model", "alexnet"], "unknown model 'alexnet'; choose one of"),
    (["still", CAT, "-o", "{tmp}/o.png", "--layers", "fire99"], "valid layers: conv1, pool1"),
    (["still", CAT, "-o", "{tmp}/o.png", "--steps", "0"], "dream.steps (--steps) must be an integer >= 1"),
    (["still", CAT, "-o", "{tmp}/o.png", "--octaves", "-2"], "--octaves) must be"),
    (["still", CAT, "-o", "{tmp}/o.png", "--steps", "many"], "expected an integer, got 'many'"),
    (["still", CAT, "-o", CAT, "--force"], "is the input file"),
    (["still", CAT, "-o", "{tmp}/exists.png"], "already exists; pass --force"),
    (["still", CAT, "-o", "{tmp}/o.tiff"], "extension '.tiff'"),
    (["still", CAT, "-o", "/proc/o.png"], "cannot write to folder /proc"),
    (["still", CAT, "-o", "{tmp}/missing/o.png"], "does not exist"),
    (["still", CAT, "-o", "{tmp}/o.png", "--weights", "{tmp}/none.h5"], "weights file"),
    (["still", CAT, "-o", "{tmp}/o.png", "--max-size", "40"], "need at least"),
    (["gallery", CAT, "-o", "{tmp}/o.png", "--layers", "fire2,nope"], "no dreamable layer 'nope'"),
    (["bench", "--size", "big"], "expected a size like 640x360, got 'big'"),
])
@pytest.mark.usefixtures("squeezenet_weights")
def test_bad_input_one_line_exit_2_no_output(tmp_path, capsys, argv, message):
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    (tmp_path / "exists.png").write_bytes(b"keep me")
    before = sorted(p.name for p in tmp_path.iterdir())
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    try:
        code = main(argv)
    except SystemExit as e:  # argparse's own checks of a value's form
        code = e.code
    assert code == 2
    assert message in _error_line(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert (tmp_path / "exists.png").read_bytes() == b"keep me"


def test_real_process_exit_code_and_no_traceback(tmp_path):
    """The installed entry point, as a user runs it."""
    proc = subprocess.run([sys.executable, "-m", "dreamvideo", "still", "/nonexistent.jpg", "-o",
                           str(tmp_path / "o.png")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr == "dreamvideo: error: input file /nonexistent.jpg does not exist\n"
    proc = subprocess.run([sys.executable, "-m", "dreamvideo", "still", CAT, "-o", str(tmp_path / "o.png"),
                           "--steps", "-1"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("dreamvideo: error: dream.steps (--steps) must be")


class ResourceExhaustedError(Exception):  # TensorFlow's name
    pass


class OutOfMemoryError(RuntimeError):  # PyTorch's name
    pass


@pytest.mark.parametrize("error", [
    ResourceExhaustedError("OOM when allocating tensor"),
    OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),
    RuntimeError("RESOURCE_EXHAUSTED: Out of memory while trying to allocate 4294967296 bytes."),  # XLA
], ids=["tensorflow", "torch", "jax"])
@pytest.mark.usefixtures("squeezenet_weights")  # the engine loads the model before the dream
def test_out_of_memory_is_one_line(monkeypatch, capsys, tmp_path, error):
    import dreamvideo.render.stills

    def exhausted(*args, **kwargs):
        raise error

    monkeypatch.setattr(dreamvideo.render.stills, "dream_array", exhausted)
    assert main(["still", CAT, "-o", str(tmp_path / "o.png"), *FAST]) == 2
    assert "out of memory; lower --tile-size" in _error_line(capsys)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["zoom", "video", "still"])
def test_help_shows_defaults_as_typed_and_the_minimum_size(capsys, command):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "the default layers (fire5, fire7 of SqueezeNet) need at least 95 px per side" in out
    assert "(0.0, 0.0)" not in out and "(640, 360)" not in out
    if command == "zoom":
        assert "pixels per second (default: 0,0)" in out and "of the frame (default: 0.5,0.5)" in out
        assert "no input (default: 640x360)" in out
    if command != "still":
        assert "--quality CRF encoder CRF, lower is better (default: 18 for MP4, 32 for WebM)" in out


@pytest.mark.usefixtures("squeezenet_weights")
def test_still_given_a_video_dreams_its_first_frame_and_says_so(tmp_path, capsys, media):
    out = tmp_path / "first.png"
    assert main(["still", str(media.pan), "-o", str(out), *FAST, "--layers", "fire3"]) == 0
    err = capsys.readouterr().err
    assert f"dreamvideo: warning: {media.pan} is a video: still uses its first frame only; " \
           f"`dreamvideo video {media.pan} -o OUT.mp4` dreams all of it" in err
    assert iio.imread(out).shape == (90, 160, 3)


@pytest.mark.usefixtures("squeezenet_weights")
def test_channel_sheet(tmp_path, capsys):
    """`layers --channels`: one dream per channel, each different, on one labelled sheet."""
    out = tmp_path / "channels.png"
    assert main(["layers", "--channels", "fire3:4-6", "-o", str(out), "--max-size", "120", "--steps", "4",
                 "--octaves", "1", "--seed", "1", "-q"]) == 0
    sheet = iio.imread(out)
    cell_h, cell_w = 90 + 28, 120  # seeded noise 120x90 + label strip
    assert sheet.shape == (2 * (cell_h + 6) + 6, 2 * (cell_w + 6) + 6, 3)
    tops, lefts = (6 + r * (cell_h + 6) for r in range(2)), [6 + c * (cell_w + 6) for c in range(2)]
    cells = [sheet[top:top + 90, left:left + 120] for top in tops for left in lefts]
    for a in range(4):
        for b in range(a + 1, 4):
            assert np.abs(cells[a].astype(float) - cells[b]).mean() > 1.0, (a, b)
    assert main(["layers", "--channels", "fire3:100-200", "-o", str(out), "--force", "-q"]) == 2
    assert "channels 0-" in capsys.readouterr().err
    assert main(["layers", "--channels", "fire3"]) == 2
    assert "needs -o" in capsys.readouterr().err
    assert main(["still", CAT, "-o", str(tmp_path / "one.png"), "--layers", "fire3:5=1,fire2:0-3=0.5",
                 "--max-size", "120", "--steps", "2", "-q"]) == 0
