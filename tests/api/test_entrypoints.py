"""Every way into a render does the same thing: the command line, a preset through
``run``, and the Python API give the same pixels for the same settings and seed (the
restructured package was checked bit for bit against the flat one it replaced)."""

import imageio.v3 as iio
import numpy as np
import pytest

import dreamvideo
from dreamvideo.cli import main
from dreamvideo.config import DreamConfig, SourceConfig, TemporalConfig, ZoomConfig
from tests.conftest import SAMPLES

CAT = str(SAMPLES / "chelsea.jpg")


def _frames(folder):
    return [iio.imread(p) for p in sorted(folder.glob("*.png"))]


@pytest.mark.usefixtures("squeezenet_weights")
def test_still_the_same_from_every_door(tmp_path):
    settings = ["--max-size", "160", "--steps", "3", "--seed", "3", "--layers", "fire4"]
    assert main(["still", CAT, "-o", str(tmp_path / "cli.png"), *settings, "-q"]) == 0
    preset = tmp_path / "mine.toml"
    preset.write_text('# a test preset\ncommand = "still"\n[source]\nmax_size = 160\n[dream]\nsteps = 3\n')
    assert main(["run", str(preset), "-i", CAT, "-o", str(tmp_path / "run.png"), "-q",
                 "--set", "dream.seed=3", "--set", 'dream.layers="fire4"']) == 0
    dreamvideo.render_still(dreamvideo.Pipeline("still", SourceConfig(CAT, max_size=160),
                                                dream=DreamConfig(steps=3, seed=3, layers="fire4"),
                                                output=dreamvideo.OutputConfig(str(tmp_path / "api.png"))))
    cli, run, api = (iio.imread(tmp_path / f"{name}.png") for name in ("cli", "run", "api"))
    assert np.array_equal(cli, run) and np.array_equal(cli, api)
    assert main(["still", CAT, "-o", str(tmp_path / "other.png"), *settings[:-4], "--seed", "4", "-q"]) == 0
    assert not np.array_equal(cli, iio.imread(tmp_path / "other.png"))  # the seed matters


def test_video_and_zoom_the_same_from_the_cli_and_the_api(tmp_path, media, engine):
    flags = ["--max-size", "128", "--end", "0.4", "--layers", "fire3", "--octaves", "1", "--steps", "2",
             "--later-steps", "1", "--later-octaves", "1", "--seed", "5", "-q"]
    assert main(["video", str(media.pan), "-o", str(tmp_path / "cli"), *flags]) == 0
    pipeline = dreamvideo.Pipeline("video", SourceConfig(str(media.pan), max_size=128, end=0.4),
                                   dream=DreamConfig(layers="fire3", octaves=1, steps=2, seed=5),
                                   temporal=TemporalConfig(later_steps=1, later_octaves=1),
                                   output=dreamvideo.OutputConfig(str(tmp_path / "api")))
    dreamvideo.render_video(pipeline, dreamvideo.Run(engine=engine))
    a, b = _frames(tmp_path / "cli"), _frames(tmp_path / "api")
    assert len(a) == len(b) == 10 and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    zoom = ["--size", "128x96", "--frames", "4", "--layers", "fire3", "--octaves", "1", "--steps", "2",
            "--frame-steps", "1", "--frame-octaves", "1", "--seed", "2", "-q"]
    assert main(["zoom", "-o", str(tmp_path / "zcli"), *zoom]) == 0
    dream = DreamConfig(layers="fire3", octaves=1, steps=2, seed=2)
    dreamvideo.render_zoom(dreamvideo.Pipeline("zoom", dream=dream,
                                               zoom=ZoomConfig(size=(128, 96), frames=4, steps=1, octaves=1),
                                               output=dreamvideo.OutputConfig(str(tmp_path / "zapi"))))
    a, b = _frames(tmp_path / "zcli"), _frames(tmp_path / "zapi")
    assert len(a) == len(b) == 4 and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
