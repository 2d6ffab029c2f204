"""Command line: argparse → config objects → the library. No dreaming logic here."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from collections.abc import Sequence

from dreamvideo import __version__, commands
from dreamvideo.backends import select
from dreamvideo.checkpoint import RenderInterrupted
from dreamvideo.commands import DREAM_FLAGS, TEMPORAL_FLAGS, ZOOM_FLAGS
from dreamvideo.config import (
    DreamConfig,
    ModelConfig,
    OutputConfig,
    SourceConfig,
    TemporalConfig,
    ZoomConfig,
    field_help,
    flag_of,
    parse_keyframe,
    parse_time,
)
from dreamvideo.errors import DreamvideoError
from dreamvideo.squeezenet import DEFAULT_LAYERS, min_input_size

_TYPES = {"octaves": int, "steps": int, "jitter": int, "tile_size": int, "seed": int}
_METAVARS = {"octaves": "N", "octave_scale": "S", "steps": "N", "step_size": "X", "max_loss": "X",
             "jitter": "PX", "tile_size": "PX", "seed": "N"}


class _Parser(argparse.ArgumentParser):
    """argparse with the project's one-line error format."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"dreamvideo: error: {message} (see {self.prog} --help)\n")
        sys.exit(2)


def _add_resume_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--resume", action="store_true",
                   help="go on with an interrupted render of the same output and settings")
    p.add_argument("--keep-frames", action="store_true",
                   help="keep the work folder of finished frames beside the output")


def _add_model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--preset", metavar="FILE", help="start from a TOML preset (a path, or a name from "
                                                      "`dreamvideo presets`); flags override it")
    g = p.add_argument_group("model")
    g.add_argument("--model", help=field_help(ModelConfig, "name"))
    g.add_argument("--weights", metavar="FILE", help=field_help(ModelConfig, "weights"))
    g.add_argument("--preprocess", choices=("caffe", "tf", "torch"),
                   help=field_help(ModelConfig, "preprocess"))
    g.add_argument("--backend", choices=("tensorflow", "jax", "torch"),
                   help=field_help(ModelConfig, "backend"))
    g.add_argument("--precision", choices=("float32", "mixed_bfloat16", "mixed_float16"),
                   help=field_help(ModelConfig, "precision"))


def _add_dream_options(p: argparse.ArgumentParser, layers: bool = True) -> None:
    g = p.add_argument_group("dream")
    if layers:
        g.add_argument("--layers", metavar="NAME=W,...", help=field_help(DreamConfig, "layers"))
    for name in DREAM_FLAGS:
        g.add_argument(f"--{name.replace('_', '-')}", type=_TYPES.get(name, float),
                       metavar=_METAVARS[name], help=field_help(DreamConfig, name))
    g.add_argument("--max-size", type=int, metavar="PX", help=f"{field_help(SourceConfig, 'max_size')}; "
                   f"{MIN_SIZE_NOTE}")
    g.add_argument("--preview", action="store_true",
                   help="fast low-resolution render with the same look (384 px, half the steps)")


def _min_size_note() -> str:
    names = tuple(name for name, _ in DEFAULT_LAYERS)
    return (f"the default layers ({', '.join(names)} of SqueezeNet) need at least "
            f"{min_input_size(names)} px per side")


MIN_SIZE_NOTE = _min_size_note()
QUALITY_HELP = "encoder CRF, lower is better (default: 18 for MP4, 32 for WebM)"
CODECS = ("libx264", "libx265", "libaom-av1", "libvpx-vp9", "gif")
VIDEO_OUTPUT = "output .mp4 (H.264), .webm (VP9), .gif, or a folder name for PNG frames"


def _add_output_options(p: argparse.ArgumentParser, what: str = "output image (.png, .jpg, .webp)") -> None:
    p.add_argument("-o", "--output", required=True, help=what)
    p.add_argument("--force", action="store_true", help="replace an existing output")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress bar (warnings and the final line still print)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="dreamvideo", description="DeepDream for stills, videos and zoom loops.")
    parser.add_argument("--version", action="version", version=f"dreamvideo {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("still", help="dream one image", description="Dream one image into another.")
    p.add_argument("input", help="input image (JPEG, PNG incl. 16-bit, grayscale, RGBA, WebP, ...)")
    _add_output_options(p)
    _add_model_options(p)
    _add_dream_options(p)
    p.set_defaults(run=commands.still)

    p = sub.add_parser("video", help="dream a video without flicker",
                       description="Dream a video frame by frame, carrying the dream along the "
                                   "optical flow so it does not flicker; the audio is kept.")
    p.add_argument("input", help="video file (anything ffmpeg decodes), a folder of images or a glob")
    _add_output_options(p, VIDEO_OUTPUT)
    g = p.add_argument_group("source")
    g.add_argument("--start", type=_time, metavar="T", help=field_help(SourceConfig, "start"))
    g.add_argument("--end", type=_time, metavar="T", help=field_help(SourceConfig, "end"))
    g.add_argument("--every", type=int, metavar="N", help=field_help(SourceConfig, "every"))
    g = p.add_argument_group("temporal")
    for name in TEMPORAL_FLAGS:
        flag = "--temporal" if name == "mode" else f"--{name.replace('_', '-')}"
        kind = {"later_steps": int, "later_octaves": int, "mode": str, "flow": str, "flow_size": int,
                "flow_workers": int, "flow_preset": str}.get(name, float)
        metavar = None if kind is str else ("N" if kind is int else "X")
        choices = next(f for f in dataclasses.fields(TemporalConfig) if f.name == name).metadata["choices"]
        g.add_argument(flag, dest=f"t_{name}", type=kind, metavar=metavar, choices=choices,
                       help=field_help(TemporalConfig, name))
    g = p.add_argument_group("output")
    g.add_argument("--quality", type=int, metavar="CRF", help=QUALITY_HELP)
    g.add_argument("--no-audio", action="store_true", help="leave the soundtrack out")
    g.add_argument("--codec", choices=CODECS, help=field_help(OutputConfig, "codec"))
    g.add_argument("--fps", type=float, metavar="F", help=field_help(OutputConfig, "fps"))
    _add_resume_options(p)
    _add_model_options(p)
    _add_dream_options(p)
    p.set_defaults(run=commands.video)

    p = sub.add_parser("zoom", help="an endless-zoom animation",
                       description="Zoom into a still (or seeded noise) forever: each frame is the "
                                   "last one moved and dreamed again.")
    p.add_argument("input", nargs="?", help="start image (default: seeded noise of --size)")
    _add_output_options(p, VIDEO_OUTPUT)
    g = p.add_argument_group("motion")
    for name, kind, metavar in ZOOM_FLAGS:
        f = next(f for f in dataclasses.fields(ZoomConfig) if f.name == name)
        g.add_argument(flag_of(f), dest=f"z_{name}", type=kind, metavar=metavar,
                       help=field_help(ZoomConfig, name))
    g.add_argument("--keyframe", action="append", type=_keyframe, metavar='"T KEY=V ..."',
                   help="settings from T seconds on, eased in: zoom=, rotate=, pan=DX,DY, steps=, "
                        "layers=a=1,b=0.5 (repeat for more)")
    g.add_argument("--quality", type=int, metavar="CRF", help=QUALITY_HELP)
    g.add_argument("--codec", choices=CODECS, help=field_help(OutputConfig, "codec"))
    _add_resume_options(p)
    _add_model_options(p)
    _add_dream_options(p)
    p.set_defaults(run=commands.zoom)

    p = sub.add_parser("run", help="render a TOML pipeline preset",
                       description="Render what a TOML preset describes; -i, -o and --set override it.")
    p.add_argument("preset", nargs="?", help="a .toml file, or a preset name (see `dreamvideo presets`)")
    p.add_argument("--from", dest="from_output", metavar="OUTPUT",
                   help="re-render what made this dreamvideo output (its configuration travels inside it)")
    p.add_argument("-i", "--input", help="input file (sets source.input)")
    p.add_argument("-o", "--output", help="output path (sets output.path)")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override one setting, e.g. dream.steps=8 or source.max_size=160 (repeatable)")
    p.add_argument("--force", action="store_true", help="replace an existing output")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress bar (warnings and the final line still print)")
    _add_resume_options(p)
    p.set_defaults(run=commands.run)

    p = sub.add_parser("presets", help="list the bundled presets",
                       description="List the presets in pipelines/ with what each is for.")
    p.set_defaults(run=commands.presets)

    p = sub.add_parser("layers", help="list a model's dreamable layers",
                       description="List the layers you can dream on, with output shapes.")
    _add_model_options(p)
    p.add_argument("--all", action="store_true", help="every layer with an image-shaped output")
    p.add_argument("--size", type=int, default=224, metavar="PX", help="input side for the shapes shown")
    p.set_defaults(run=commands.layers)

    p = sub.add_parser("gallery", help="one dream per layer on a labelled grid",
                       description="Dream the input once per layer and lay the results on a sheet.")
    p.add_argument("input", help="input image")
    _add_output_options(p)
    p.add_argument("--layers", metavar="A,B,...",
                   help="layers to show (default: the model's main layers, see `dreamvideo layers`)")
    _add_model_options(p)
    _add_dream_options(p, layers=False)
    p.set_defaults(run=commands.gallery)

    p = sub.add_parser("score", help="flicker and strength of a dreamed video against its input",
                       description="Warping error of OUTPUT and of INPUT over flow-consistent pixels "
                                   "(flow from the input frames), and dream strength mean |O-I|, "
                                   "all on the 0-255 scale.")
    p.add_argument("input", help="the original video")
    p.add_argument("output", help="the dreamed video (the input is scaled to its size)")
    p.add_argument("--start", type=_time, metavar="T", help="start of the input range the output was made "
                                                           "from (default: the range the output's own "
                                                           "configuration names, else 0)")
    p.add_argument("--end", type=_time, metavar="T", help="end of that range (default: as for --start, "
                                                         "else the input's end)")
    p.add_argument("--flow", choices=("dis", "farneback"), default="dis", help="flow method (default: dis)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=commands.score)

    p = sub.add_parser("bench", help="time the dream core, or the whole video pipeline",
                       description="core (default): one step of the compiled octave loop against a bare "
                                   "forward+backward pass of the truncated network, and a whole still. "
                                   "video: the real video pipeline, each stage alone (decode, flow, warp, "
                                   "dream, encode) and end to end, with the bottleneck.")
    p.add_argument("what", nargs="?", choices=("core", "video"), default="core", help="what to time")
    _add_model_options(p)
    p.add_argument("--layers", metavar="NAME=W,...", help=field_help(DreamConfig, "layers"))
    p.add_argument("--size", metavar="WxH", help="image or frame size (default: 600x400 for core; "
                                                 "the input's, or 1280x720, for video)")
    p.add_argument("--steps", type=int, default=20, help="core: steps per timing (default: 20)")
    p.add_argument("--repeats", type=int, default=3, help="core: timings to take the best of (default: 3)")
    p.add_argument("--frames", type=int, default=120, help="video: frames to render (default: 120)")
    p.add_argument("--input", metavar="CLIP", help="video: a clip to render (default: a generated camera "
                                                   "move over a texture, 30 fps)")
    p.add_argument("--flow-size", type=int, metavar="PX", help=field_help(TemporalConfig, "flow_size"))
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=commands.bench)
    return parser


def _time(text: str) -> float:
    try:
        return parse_time(text)
    except DreamvideoError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _keyframe(text: str):
    try:
        return parse_keyframe(text)
    except DreamvideoError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


class _WarningFormat(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"dreamvideo: {record.levelname.lower()}: {record.getMessage()}"


def _out_of_memory(error: Exception) -> bool:
    """TensorFlow's ResourceExhaustedError, PyTorch's OutOfMemoryError, XLA's RESOURCE_EXHAUSTED."""
    names = ("ResourceExhaustedError", "OutOfMemoryError")
    return (isinstance(error, MemoryError) or type(error).__name__ in names
            or "RESOURCE_EXHAUSTED" in str(error)[:300])


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``dreamvideo`` and ``python -m dreamvideo``; returns the exit code."""
    args = build_parser().parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_WarningFormat())
    log = logging.getLogger("dreamvideo")
    log.handlers[:] = [handler]
    log.setLevel(logging.WARNING)  # -q hides the progress bar only: warnings always show
    log.propagate = False
    try:
        select(getattr(args, "backend", None))  # before anything loads Keras
        args.run(args)
    except RenderInterrupted as e:
        print(f"dreamvideo: {e}", file=sys.stderr)
        return 130
    except DreamvideoError as e:
        print(f"dreamvideo: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dreamvideo: interrupted; nothing was written", file=sys.stderr)
        return 130
    except Exception as e:  # a backend's out-of-memory, without importing the backend here
        if not _out_of_memory(e):
            raise
        print("dreamvideo: error: out of memory; lower --tile-size or --max-size", file=sys.stderr)
        return 2
    return 0
