"""The command line's shape: flags from the config, -v anywhere, what --help tells."""

import pytest

from dreamvideo.cli import main
from dreamvideo.cli.parser import WORKERS_ON_CPU, build_parser


def test_verbose_is_taken_before_or_after_the_command():
    parser = build_parser()
    assert parser.parse_args(["-v", "presets"]).verbose is True
    assert parser.parse_args(["presets", "-v"]).verbose is True
    assert parser.parse_args(["presets"]).verbose is False


@pytest.mark.parametrize("command", ["video", "batch"])
def test_help_says_workers_on_the_cpu_differ_from_one_process(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    assert "".join(capsys.readouterr().out.split()).count("".join(WORKERS_ON_CPU.split())) == 1


def test_every_command_has_a_parser_of_its_own():
    commands = next(a for a in build_parser()._actions if a.dest == "command").choices
    assert set(commands) == {"still", "video", "zoom", "gallery", "run", "show", "studio", "batch", "presets",
                             "layers", "score", "bench"}
