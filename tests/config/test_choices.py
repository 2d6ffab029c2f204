"""Each list of choices is written once (``config.choices``): the modules that implement
the choices offer exactly those, and the config and the command line offer them too."""

from pathlib import Path

import pytest

import dreamvideo
from dreamvideo.cli.parser import build_parser
from dreamvideo.config import choices
from dreamvideo.config.pipeline import PATH_FIELDS, SECTIONS


def test_each_backend_is_a_module_of_core_backends():
    folder = Path(dreamvideo.__file__).parent / "core" / "backends"
    assert {p.stem for p in folder.glob("*.py")} - {"__init__", "protocol"} == set(choices.BACKENDS)


def test_preprocessing_flow_presets_resampling_and_colour_spaces_are_implemented():
    from dreamvideo.core.preprocess import PREPROCESSORS
    from dreamvideo.temporal.coherence import MODES
    from dreamvideo.temporal.flow import DIS_PRESETS, INTERPOLATIONS, METHODS

    assert tuple(PREPROCESSORS) == choices.PREPROCESSING
    assert tuple(DIS_PRESETS) == choices.FLOW_PRESETS
    assert set(choices.RESAMPLING) <= set(INTERPOLATIONS)
    assert METHODS == choices.HOST_FLOWS
    assert (*MODES, "none") == choices.COLOR_SPACES


def test_every_codec_has_its_arguments_and_a_container():
    from dreamvideo.media.writers import _CODEC_ARGS, CONTAINERS

    assert set(_CODEC_ARGS) == set(choices.CODECS)
    assert {c for codecs, _ in CONTAINERS.values() for c in codecs} == set(choices.CODECS)


@pytest.mark.parametrize(("section", "name", "offered"), [
    ("model", "backend", choices.BACKENDS), ("model", "precision", choices.PRECISIONS),
    ("temporal", "mode", choices.TEMPORAL_MODES), ("temporal", "flow", choices.FLOWS),
    ("output", "codec", choices.CODECS), ("color", "coherence", choices.COLOR_SPACES)])
def test_the_command_line_offers_the_choices(section, name, offered):
    video = next(a for a in build_parser()._actions if a.dest == "command").choices["video"]
    action = next(a for a in video._actions if a.dest == f"{section}.{name}")
    assert tuple(action.choices) == offered


def test_the_path_valued_fields_are_the_fields_that_name_files():
    """A field whose help speaks of a file is in PATH_FIELDS (what outputs and workers make
    absolute), and every entry there is a real field."""
    import dataclasses

    named = {(s, f.name) for s, cls in SECTIONS.items() for f in dataclasses.fields(cls)
             if "file" in f.metadata.get("help", "") or f.metadata.get("metavar") in ("FILE", "IMAGE")}
    assert named <= set(PATH_FIELDS) | {("output", "path")}
    assert all(hasattr(SECTIONS[s](), n) for s, n in PATH_FIELDS)
