"""The command line that renders a pipeline, ``dreamvideo show`` and ``--dry-run``."""

import dataclasses
import shlex
import tomllib

import pytest

from dreamvideo.api.presets import list_presets, load_preset
from dreamvideo.cli import main
from dreamvideo.cli.commandline import command_line
from dreamvideo.cli.commands import pipeline_of
from dreamvideo.cli.parser import build_parser
from dreamvideo.config import Pipeline, pipeline_from_toml, with_overrides
from dreamvideo.media.provenance import read_config
from tests.conftest import ROOT, SAMPLES


def _parsed(line: str) -> Pipeline:
    return pipeline_of(build_parser().parse_args(shlex.split(line)[1:]))


def _placed(pipeline: Pipeline) -> Pipeline:
    """The pipeline with an input and output, as a command line needs them."""
    source = pipeline.source.input or ("in.mp4" if pipeline.command != "zoom" else None)
    return dataclasses.replace(pipeline, description="",
                               source=dataclasses.replace(pipeline.source, input=source),
                               output=dataclasses.replace(pipeline.output, path="out.mp4"))


@pytest.mark.parametrize("name", [name for name, _ in list_presets()])
def test_the_command_line_of_every_preset_renders_that_preset(name):
    pipeline = _placed(load_preset(name))
    line, unflagged = command_line(pipeline, build_parser())
    assert not unflagged
    assert _parsed(line) == pipeline


def test_the_command_line_of_a_pipeline_far_from_the_defaults():
    pipeline = _placed(with_overrides(Pipeline("video"), [
        "source.start=1.5", "source.every=2", "model.backend=jax", "model.precision=mixed_bfloat16",
        "dream.layers=fire3:2-5=0.5,fire7=1.5", "dream.preview=true", "dream.seed=7",
        "temporal.flow_size=none", "temporal.restore_detail=false", "temporal.mode=blend",
        "temporal.keyframes=2 carry=0.4 layers=fire3=1", "color.coherence=lab", "audio.react=0.3",
        "render.workers=2", "output.audio=false", "output.fps=12", "output.codec=libx265"]))
    line, unflagged = command_line(pipeline, build_parser())
    assert "--flow-size none" in line and "--no-restore-detail" in line and "--preview" in line
    assert not unflagged
    assert _parsed(line) == pipeline


def test_a_key_with_no_flag_is_named():
    pipeline = _placed(with_overrides(Pipeline("video"), ["render.shots=[[0, 5], [5, 9]]"]))
    assert command_line(pipeline, build_parser())[1] == ["render.shots"]


def test_show_a_preset(capsys):
    assert main(["show", "zoom-spiral"]) == 0
    out = capsys.readouterr().out
    data = tomllib.loads(out)
    assert data["command"] == "zoom" and "temporal" not in data and data["zoom"]["rotate"] == 12.0
    assert out.startswith("# Endless zoom that spirals")
    assert "\n#   dreamvideo zoom -o OUTPUT --duration 12.0 --rotate 12.0 --keyframe '4.0 zoom=1.6" in out


def test_show_an_output_has_only_its_sections_and_the_command_that_renders_it(capsys):
    output = ROOT / "samples" / "outputs" / "chelsea-dream.jpg"
    assert main(["show", str(output)]) == 0
    out = capsys.readouterr().out
    data = tomllib.loads(out)
    assert data["command"] == "still"
    assert set(data) == {"command", "source", "model", "dream", "output"}  # no [temporal], [zoom], ...
    line = next(line for line in out.splitlines() if line.startswith("#   dreamvideo still "))
    carried = pipeline_from_toml(read_config(output))
    parsed = _parsed(line[4:])
    assert (parsed.dream, parsed.model, parsed.source) == (carried.dream, carried.model, carried.source)


def test_show_something_else_is_one_line(tmp_path, capsys):
    assert main(["show", str(tmp_path / "nothing.png")]) == 2
    assert capsys.readouterr().err.startswith("dreamvideo: error: no preset")


def test_dry_run_renders_nothing(tmp_path, capsys):
    out = tmp_path / "z.mp4"
    assert main(["zoom", "-o", str(out), "--size", "320x180", "--fps", "12", "--duration", "2",
                 "--output-fps", "6", "--dry-run"]) == 0
    text = capsys.readouterr().out
    assert tomllib.loads(text)["zoom"]["size"] == [320, 180]
    assert "# makes: 24 frames at 12 fps (2.00 s), about 12 in the output at 6 fps" in text
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_dry_run_of_a_video_and_of_run_counts_its_frames(tmp_path, capsys):
    clip = SAMPLES / "coffee-pan.mp4"
    assert main(["video", str(clip), "-o", str(tmp_path / "v.mp4"), "--end", "1", "--dry-run"]) == 0
    assert "# makes: 24 frames at 24 fps (1.00 s)" in capsys.readouterr().out
    assert main(["run", "video-default", "-i", str(clip), "-o", str(tmp_path / "v.mp4"), "--set",
                 "source.every=2", "--dry-run"]) == 0
    assert "# makes: 36 frames at 12 fps (3.00 s)" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []
