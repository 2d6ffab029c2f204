import dataclasses

import pytest

from dreamvideo.config import (
    DreamConfig,
    ModelConfig,
    Pipeline,
    SourceConfig,
    field_help,
    parse_layers,
    resolved,
    split_channels,
)
from dreamvideo.errors import DreamvideoError


def test_parse_layers_weights_and_bare_names():
    assert parse_layers("fire5=1.0, fire7=1.5") == (("fire5", 1.0), ("fire7", 1.5))
    assert parse_layers("fire5") == (("fire5", 1.0),)


@pytest.mark.parametrize("text, message", [
    ("fire5=x", "bad layer weight"), ("", "at least one layer"), ("a,a", "twice"), ("a=0", "non-zero"),
])
def test_parse_layers_rejects(text, message):
    with pytest.raises(DreamvideoError, match=message):
        parse_layers(text)


def test_layer_specs_may_name_channels():
    assert parse_layers("fire7:12=1,fire5:3-5=0.5") == (("fire7:12", 1.0), ("fire5:3-5", 0.5))
    assert split_channels("fire7") == ("fire7", None, None)
    assert split_channels("fire7:12") == ("fire7", 12, 13)
    assert split_channels("fire5:3-5") == ("fire5", 3, 6)  # both ends included
    for bad in ("fire7:x", "fire7:5-3", "fire7:-1", ":3"):
        with pytest.raises(DreamvideoError, match="channels"):
            parse_layers(bad)


def test_layers_from_dict_and_pairs_are_normalised():
    assert DreamConfig(layers={"fire5": 1, "fire7": 2}).layers == (("fire5", 1.0), ("fire7", 2.0))
    assert DreamConfig(layers="fire5=2").layers == (("fire5", 2.0),)


@pytest.mark.parametrize("kwargs, flag", [
    ({"steps": 0}, "--steps"), ({"octaves": -1}, "--octaves"), ({"octave_scale": 1.0}, "--octave-scale"),
    ({"step_size": 0}, "--step-size"), ({"max_loss": -2}, "--max-loss"), ({"jitter": -1}, "--jitter"),
    ({"tile_size": 8}, "--tile-size"), ({"seed": -1}, "--seed"), ({"steps": 2.5}, "--steps"),
    ({"steps": "3"}, "--steps"), ({"step_size": float("nan")}, "--step-size"),
])
def test_out_of_range_values_name_key_flag_and_range(kwargs, flag):
    with pytest.raises(DreamvideoError) as err:
        DreamConfig(**kwargs)
    key = next(iter(kwargs))
    assert f"dream.{key} ({flag}) must be" in str(err.value)


def test_integral_floats_become_ints_and_optional_may_be_unset():
    assert DreamConfig(steps=3.0).steps == 3 and isinstance(DreamConfig(steps=3.0).steps, int)
    assert DreamConfig(max_loss=None).max_loss is None
    with pytest.raises(DreamvideoError, match=r"source\.max_size"):
        SourceConfig(max_size=0)


def test_configs_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        DreamConfig().steps = 3  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        ModelConfig().name = "vgg16"  # type: ignore[misc]


def test_preview_is_smaller_with_same_total_ascent():
    made = resolved(Pipeline(source=SourceConfig("x.png", None), dream=DreamConfig(steps=10, step_size=0.006,
                                                                                    preview=True)))
    assert made.source.max_size == 384 and not made.dream.preview
    assert made.dream.steps == 5 and made.dream.step_size == pytest.approx(0.012)
    small = Pipeline(source=SourceConfig("x.png", 200), dream=DreamConfig(preview=True))
    assert resolved(small).source.max_size == 200
    plain = Pipeline(source=SourceConfig("x.png", None))
    assert resolved(plain) is plain  # without preview nothing changes


def test_field_help_has_default():
    assert field_help(DreamConfig, "steps").endswith("(default: 10)")
