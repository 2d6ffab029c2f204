"""The configuration every entry point shares: frozen dataclasses, one per section of a
render, gathered in a :class:`Pipeline` (the shape of the TOML presets)."""

from dreamvideo.config.fields import Layers, default_text, field_help, flag_of, option, pair_of, size_of
from dreamvideo.config.keyframes import Keyframe, check_keyframes, parse_keyframe
from dreamvideo.config.looks import AudioConfig, ColorConfig
from dreamvideo.config.parse import normalize_layers, parse_layers, parse_time, split_channels
from dreamvideo.config.pipeline import (
    COMMANDS,
    SECTIONS,
    Pipeline,
    absolute_paths,
    as_made,
    description_of,
    pipeline_from_dict,
    pipeline_from_toml,
    resolved,
    to_toml,
    with_overrides,
)
from dreamvideo.config.scale import RenderConfig
from dreamvideo.config.sections import (
    FLOW_SIZE,
    DreamConfig,
    ModelConfig,
    OutputConfig,
    SourceConfig,
    TemporalConfig,
    ZoomConfig,
)

__all__ = [
    "COMMANDS",
    "FLOW_SIZE",
    "SECTIONS",
    "AudioConfig",
    "ColorConfig",
    "DreamConfig",
    "Keyframe",
    "Layers",
    "ModelConfig",
    "OutputConfig",
    "Pipeline",
    "RenderConfig",
    "SourceConfig",
    "TemporalConfig",
    "ZoomConfig",
    "absolute_paths",
    "as_made",
    "check_keyframes",
    "default_text",
    "description_of",
    "field_help",
    "flag_of",
    "normalize_layers",
    "option",
    "pair_of",
    "parse_keyframe",
    "parse_layers",
    "parse_time",
    "pipeline_from_dict",
    "pipeline_from_toml",
    "resolved",
    "size_of",
    "split_channels",
    "to_toml",
    "with_overrides",
]
