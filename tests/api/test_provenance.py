"""Every output carries its configuration; `run --from` makes it again."""

import dataclasses
import tomllib

import imageio.v3 as iio
import numpy as np
import pytest

from dreamvideo.api.presets import list_presets, load_preset
from dreamvideo.cli import main
from dreamvideo.config import pipeline_from_dict, to_toml
from dreamvideo.errors import DreamvideoError
from dreamvideo.media.provenance import read_config
from dreamvideo.media.sources import read_frames
from tests.conftest import SAMPLES

FAST = ["--octaves", "1", "--steps", "2", "-q"]


@pytest.mark.parametrize("name", [name for name, _ in list_presets()])
def test_toml_round_trip_of_every_preset(name):
    pipeline = load_preset(name)
    again = pipeline_from_dict(tomllib.loads(to_toml(pipeline)))
    assert dataclasses.replace(again, description="") == dataclasses.replace(pipeline, description="")


@pytest.mark.usefixtures("squeezenet_weights")
def test_still_png_and_jpeg_carry_config_and_rerender_identically(tmp_path):
    for ext in (".png", ".jpg"):
        out = tmp_path / f"a{ext}"
        assert main(["still", str(SAMPLES / "chelsea.jpg"), "-o", str(out), "--max-size", "150",
                     "--seed", "7", "--layers", "fire4", *FAST]) == 0
        text = read_config(out)
        assert 'command = "still"' in text and "seed = 7" in text and '"fire4" = 1.0' in text
        again = tmp_path / f"b{ext}"
        assert main(["run", "--from", str(out), "-o", str(again), "-q"]) == 0
        a, b = iio.imread(out), iio.imread(again)
        assert np.array_equal(a, b) if ext == ".png" else np.abs(a.astype(int) - b).max() <= 2


@pytest.mark.usefixtures("squeezenet_weights")
def test_video_and_zoom_carry_config(tmp_path):
    video = tmp_path / "v.mp4"
    assert main(["video", str(SAMPLES / "coffee-pan.mp4"), "-o", str(video), "--max-size", "170",
                 "--end", "0.2", "--carry", "0.8", *FAST]) == 0
    text = read_config(video)
    assert 'command = "video"' in text and "carry = 0.8" in text and "end = 0.2" in text
    again = tmp_path / "again.mp4"
    assert main(["run", "--from", str(video), "-o", str(again), "-q"]) == 0
    a, b = list(read_frames(video)), list(read_frames(again))
    assert len(a) == len(b) == 5 and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))

    folder = tmp_path / "zoom"
    assert main(["zoom", "-o", str(folder), "--size", "128x96", "--frames", "3", "--layers", "fire3",
                 "--keyframe", "0.1 rotate=30", *FAST]) == 0
    assert "[[zoom.keyframes]]" in read_config(folder) and "rotate = 30.0" in read_config(folder)
    webm = tmp_path / "z.webm"
    assert main(["zoom", "-o", str(webm), "--size", "128x96", "--frames", "3", "--layers", "fire3",
                 *FAST]) == 0
    assert 'command = "zoom"' in read_config(webm)


def test_outputs_without_config(tmp_path, capsys):
    plain = tmp_path / "plain.png"
    iio.imwrite(plain, np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(DreamvideoError, match="carries no dreamvideo configuration"):
        read_config(plain)
    assert main(["run", "--from", str(plain), "-o", str(tmp_path / "x.png")]) == 2
    assert "carries no dreamvideo configuration" in capsys.readouterr().err
    assert main(["run"]) == 2
    assert "give either a preset or --from OUTPUT" in capsys.readouterr().err
