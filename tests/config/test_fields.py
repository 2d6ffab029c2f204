"""One reader per field: the flag, ``--set``, presets and the studio read a value alike."""

import dataclasses

import pytest

from dreamvideo.cli.commands import pipeline_of
from dreamvideo.cli.parser import build_parser
from dreamvideo.config import (
    COMMAND_SECTIONS,
    SECTIONS,
    Pipeline,
    ZoomConfig,
    field_of,
    from_text,
    pipeline_from_toml,
    text_parser,
    value_text,
    with_overrides,
)
from dreamvideo.config.fields import parse_bool
from dreamvideo.errors import DreamvideoError

# A text each field's flag takes, for the fields whose form is not a plain number or choice.
WRITTEN = {
    ("source", "input"): "clip.mp4", ("source", "start"): "1:30.5", ("source", "end"): "00:02:00",
    ("model", "name"): "vgg16", ("model", "weights"): "none", ("dream", "layers"): "fire5=1,fire7:12-15=1.5",
    ("dream", "guide"): "guide.jpg", ("zoom", "pan"): "10,-5", ("zoom", "center"): "0.3,0.6",
    ("zoom", "size"): "320x180", ("zoom", "keyframes"): "1.5 steps=3 layers=fire3=1,fire5=0.5",
    ("temporal", "keyframes"): "1.5 steps=3 carry=0.5", ("temporal", "flow_size"): "none",
    ("color", "reference"): "input", ("audio", "file"): "beat.wav", ("render", "ray_address"): "ray://head:10001",
}


def _texts(section: str, f: dataclasses.Field) -> list[str]:
    """Texts the field's flag accepts: the written ones, every choice, a number in range."""
    meta = f.metadata
    if (section, f.name) in WRITTEN:
        return [WRITTEN[section, f.name]]
    if meta.get("choices"):
        return [str(c) for c in meta["choices"] if c is not None]
    if meta.get("kind") is int:
        return [str(int(meta["lo"] if meta["lo"] is not None else 0) + 1)]
    if meta.get("kind") is float:
        lo, hi = meta["lo"] or 0.0, meta["hi"] if meta["hi"] is not None else 10.0
        return [repr((lo + hi) / 2)]
    raise AssertionError(f"no sample text for {section}.{f.name}: add one to WRITTEN")


def _flagged() -> list[tuple[str, str, str, str, str]]:
    """(command, section, field, flag, text) for every field a command offers as a flag."""
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    out = []
    for command, sections in COMMAND_SECTIONS.items():
        actions = {a.dest: a for a in commands[command]._actions}
        for section in sections:
            for f in dataclasses.fields(SECTIONS[section]):
                action = actions.get(f"{section}.{f.name}")
                if action is None or action.nargs == 0:  # positional, -o, or a switch
                    continue
                out += [(command, section, f.name, action.option_strings[0], text)
                        for text in _texts(section, f)]
    return out


FLAGGED = _flagged()


def test_every_flag_is_walked():
    assert len({(c, s, n) for c, s, n, _, _ in FLAGGED}) > 60  # every section's fields, several commands


@pytest.mark.parametrize(("command", "section", "name", "flag", "text"), FLAGGED,
                         ids=[f"{c}-{s}.{n}={t}" for c, s, n, _, t in FLAGGED])
def test_set_takes_what_the_flag_takes(command, section, name, flag, text):
    args = [command, *(["in.mp4"] if command != "zoom" else []), "-o", "out.mp4", flag, text]
    by_flag = pipeline_of(build_parser().parse_args(args))
    by_set = with_overrides(Pipeline(command), ["source.input=in.mp4", "output.path=out.mp4",
                                                f"{section}.{name}={text}"])
    if command == "zoom":
        by_set = dataclasses.replace(by_set, source=dataclasses.replace(by_set.source, input=None))
    assert getattr(by_set, section) == getattr(by_flag, section)


def test_set_reads_the_flag_forms_the_newcomer_tried():
    pipeline = with_overrides(Pipeline("zoom"), ["zoom.size=320x180", "zoom.pan=10,5", "source.start=1:30",
                                                 "temporal.flow_size=none", "dream.steps=1e1",
                                                 'model.weights="my weights.h5"', "output.audio=false"])
    assert pipeline.zoom.size == (320, 180) and pipeline.zoom.pan == (10.0, 5.0)
    assert pipeline.source.start == 90.0 and pipeline.temporal.flow_size is None
    assert pipeline.dream.steps == 10 and pipeline.model.weights == "my weights.h5"
    assert pipeline.output.audio is False
    # TOML values still work
    assert with_overrides(Pipeline("zoom"), ["zoom.size=[320, 180]"]).zoom.size == (320, 180)


@pytest.mark.parametrize(("item", "message"), [
    ("zoom.size=abc", "zoom.size (--size): expected a size like 640x360, got 'abc'"),
    ("dream.steps=many", "dream.steps (--steps): expected an integer, got 'many'"),
    ("zoom.pan=1", "zoom.pan (--pan): expected two numbers like 1,2"),
    ("output.audio=maybe", "output.audio (--audio): expected true or false"),
    ("zoom.sizes=1x1", "unknown key zoom.sizes; valid keys in [zoom]:"),
])
def test_set_errors_name_the_key_its_flag_and_the_form(item, message):
    with pytest.raises(DreamvideoError, match="^" + message.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]")):
        with_overrides(Pipeline("zoom"), [item])


def test_a_repeated_key_adds_one_item_as_its_flag_does():
    pipeline = with_overrides(Pipeline("zoom"), ["zoom.keyframes=1 zoom=2", "zoom.keyframes=3 rotate=10"])
    assert [k.at for k in pipeline.zoom.keyframes] == [1.0, 3.0]


def test_presets_read_strings_with_the_flags_reader():
    pipeline = pipeline_from_toml('command = "zoom"\n[zoom]\nsize = "320x180"\npan = "4,2"\n'
                                  '[source]\nstart = "0:05"\n')
    assert pipeline.zoom.size == (320, 180) and pipeline.zoom.pan == (4.0, 2.0)
    assert pipeline.source.start == 5.0


@pytest.mark.parametrize(("command", "section", "name", "flag", "text"), FLAGGED,
                         ids=[f"{c}-{s}.{n}" for c, s, n, _, t in FLAGGED])
def test_value_text_reads_back_as_the_same_value(command, section, name, flag, text):
    cls = SECTIONS[section]
    f = field_of(cls, name)
    value = from_text(cls, name, text)
    if f.metadata.get("repeat"):
        return  # one keyframe; its own text is tested in test_keyframes
    assert from_text(cls, name, value_text(f, value)) == value


def test_text_parsers():
    assert text_parser(field_of(ZoomConfig, "size")) is not str
    assert text_parser(field_of(SECTIONS["source"], "input")) is str
    assert parse_bool("Yes") is True and parse_bool("off") is False
    with pytest.raises(DreamvideoError):
        parse_bool("2")
