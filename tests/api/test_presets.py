import re
from pathlib import Path

import imageio.v3 as iio
import pytest

import dreamvideo
from dreamvideo.api.presets import list_presets, load_preset, run_pipeline
from dreamvideo.cli import main
from dreamvideo.config import with_overrides
from dreamvideo.errors import DreamvideoError
from dreamvideo.media.sources import read_frames
from tests.conftest import ROOT, SAMPLES

REQUIRED = {"still-preview", "still-final", "video-default", "video-subtle", "zoom-infinite", "zoom-spiral",
            "classic-inception", "lab-one", "still-guided"}
INPUTS = {"still": SAMPLES / "chelsea.jpg", "gallery": SAMPLES / "chelsea.jpg",
          "video": SAMPLES / "coffee-pan.mp4", "zoom": None}
SUFFIX = {"still": ".png", "gallery": ".png", "video": ".mp4", "zoom": ".mp4"}


def test_every_preset_loads_and_says_what_it_is_for():
    presets = dict(list_presets())
    assert set(presets) >= REQUIRED
    assert all(len(text) > 20 for text in presets.values())


def test_a_presets_own_guide_is_found_beside_it():
    guided = load_preset("still-guided")
    assert Path(guided.dream.guide).is_file() and Path(guided.dream.guide).parent.name == "guides"


def test_lab_one_is_the_founding_notes():
    lab = load_preset("lab-one")
    assert lab.model.name == "inception_v3"
    assert dict(lab.dream.layers) == {"mixed2": 0.2, "mixed3": 3.0, "mixed4": 2.0, "mixed5": 1.5}
    assert (lab.dream.octaves, lab.dream.octave_scale, lab.dream.steps) == (7, 1.4, 50)
    assert lab.dream.step_size == pytest.approx(0.02 / 2) and lab.dream.max_loss == 10


@pytest.mark.parametrize("name", sorted(REQUIRED))
@pytest.mark.usefixtures("squeezenet_weights")
def test_every_preset_renders_a_few_small_frames(tmp_path, name):
    pipeline = load_preset(name)
    out_path = tmp_path / ("out" + SUFFIX[pipeline.command])
    sets = [f'output.path="{out_path}"', "dream.steps=1", "dream.octaves=1", "temporal.later_steps=1",
            "zoom.frames=3", "zoom.size=[128, 96]"]
    if INPUTS[pipeline.command]:
        sets += [f'source.input="{INPUTS[pipeline.command]}"', "source.max_size=200", "source.end=0.25"]
    if pipeline.model.name == "inception_v3":  # its ImageNet weights cannot be fetched here: random ones
        sets.append('model.weights="none"')
    out = run_pipeline(with_overrides(pipeline, sets))
    if pipeline.command in ("video", "zoom"):
        assert sum(1 for _ in read_frames(out)) == (6 if pipeline.command == "video" else 3)
    else:
        assert max(iio.imread(out).shape[:2]) == 200


def test_set_overrides_and_their_errors():
    p = with_overrides(load_preset("video-default"), ["dream.steps=8", "temporal.carry=0.7",
                                                      "source.max_size=160", "temporal.flow=farneback"])
    assert (p.dream.steps, p.temporal.carry, p.source.max_size, p.temporal.flow) == (8, 0.7, 160, "farneback")
    for bad, message in [("dream.stepz=3", "unknown key dream.stepz; valid keys in [dream]: layers, octaves"),
                         ("dream.steps=0", "dream.steps (--steps) must be an integer >= 1"),
                         ("temporal.mode=magic", "must be one of flow, blend, none"),
                         ("output.codec=mpeg2", "output.codec (--codec) must be one of libx264, libx265"),
                         ("output.fps=0", "output.fps (--output-fps) must be a number > 0"),
                         ("sound.volume=3", "bad --set"), ("dream.steps", "bad --set")]:
        with pytest.raises(DreamvideoError, match=re.escape(message)):
            with_overrides(load_preset("video-default"), [bad])


def test_bad_preset_files(tmp_path):
    cases = {"unknown key dream.stepz": "[dream]\nstepz = 3\n",
             "unknown section or key 'sound'": "[sound]\nvolume = 3\n",
             "command must be one of": 'command = "paint"\n',
             "not valid TOML": "[dream\n",
             "zoom.zoom (--zoom) must be": "command = \"zoom\"\n[zoom]\nzoom = -1\n"}
    for message, text in cases.items():
        (tmp_path / "p.toml").write_text(text)
        with pytest.raises(DreamvideoError, match=re.escape(message)):
            load_preset(tmp_path / "p.toml")
    with pytest.raises(DreamvideoError, match=re.escape("no preset nope; give a .toml file or one of:")):
        load_preset("nope")


@pytest.mark.usefixtures("squeezenet_weights")
def test_cli_run_presets_and_preset_flag(tmp_path, capsys):
    assert main(["presets"]) == 0
    assert "lab-one" in capsys.readouterr().out
    out = tmp_path / "p.png"
    assert main(["run", str(ROOT / "pipelines" / "still-preview.toml"), "-i", str(SAMPLES / "coffee.jpg"),
                 "-o", str(out), "--set", "source.max_size=200", "--set", "dream.steps=1", "-q"]) == 0
    assert max(iio.imread(out).shape[:2]) == 200
    # --preset on a command: the preset's max_size (384) unless a flag says otherwise
    coffee = str(SAMPLES / "coffee.jpg")
    assert main(["still", coffee, "-o", str(tmp_path / "a.png"), "--preset", "still-preview",
                 "--steps", "1", "--octaves", "1", "-q"]) == 0
    assert max(iio.imread(tmp_path / "a.png").shape[:2]) == 384
    assert main(["still", coffee, "-o", str(tmp_path / "b.png"), "--preset", "still-preview",
                 "--max-size", "150", "--steps", "1", "--octaves", "1", "-q"]) == 0
    assert max(iio.imread(tmp_path / "b.png").shape[:2]) == 150
    assert main(["run", "still-preview", "-q"]) == 2
    assert "no output given" in capsys.readouterr().err


def test_python_api_names():
    assert dreamvideo.load_preset("zoom-spiral").zoom.keyframes[0].at == 4.0
    assert dreamvideo.zoom is dreamvideo.render_zoom and dreamvideo.dream_video is dreamvideo.render_video


def test_every_public_name_resolves():
    for name in dreamvideo.__all__:
        assert getattr(dreamvideo, name) is not None, name


@pytest.mark.slow
def test_the_wheel_ships_the_presets(tmp_path, squeezenet_weights):
    """Built with `pip wheel`, unpacked outside the repository and run from there (this
    environment's dependencies, the wheel's own dreamvideo): all presets, and one renders."""
    import os
    import subprocess
    import sys

    def run(*args, **kwargs):
        proc = subprocess.run(args, capture_output=True, text=True, timeout=300, **kwargs)
        assert proc.returncode == 0, proc.stderr[-2000:]
        return proc.stdout

    run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(ROOT), "-w", str(tmp_path / "dist"))
    wheel = next((tmp_path / "dist").glob("dreamvideo-*.whl"))
    run(sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(tmp_path / "site"),
        str(wheel))
    assert not (tmp_path / "site" / "pipelines").exists()  # inside the package, not beside it
    assert (tmp_path / "site" / "dreamvideo" / "pipelines" / "guides" / "chelsea.jpg").is_file()  # its guide
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site"),
           "DREAMVIDEO_WEIGHTS_DIR": str(squeezenet_weights.parent)}
    where = run(sys.executable, "-c", "import dreamvideo, dreamvideo.api.presets as p; "
                "print(dreamvideo.__file__); print(p.PRESET_DIR)", cwd=tmp_path, env=env).split()
    assert all(Path(w).is_relative_to(tmp_path / "site") for w in where), where
    listed = run(sys.executable, "-m", "dreamvideo", "presets", cwd=tmp_path, env=env)
    assert {line.split()[0] for line in listed.splitlines()} == REQUIRED
    run(sys.executable, "-m", "dreamvideo", "run", "zoom-infinite", "-o", "z.mp4", "--set", "zoom.frames=3",
        "--set", "zoom.size=[128, 96]", "--set", "dream.steps=1", "--set", "dream.octaves=1", "-q",
        cwd=tmp_path, env=env)
    assert sum(1 for _ in read_frames(tmp_path / "z.mp4")) == 3
