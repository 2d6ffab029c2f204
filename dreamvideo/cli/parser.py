"""The command line's shape: one sub-command per job, its flags made from the config."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from dreamvideo import __version__
from dreamvideo.cli import commands
from dreamvideo.cli.flags import add_flags, argument_type
from dreamvideo.config import (
    AudioConfig,
    ColorConfig,
    DreamConfig,
    ModelConfig,
    OutputConfig,
    RenderConfig,
    SourceConfig,
    TemporalConfig,
    ZoomConfig,
    parse_time,
    size_of,
)
from dreamvideo.config.choices import HOST_FLOWS
from dreamvideo.core.squeezenet import DEFAULT_LAYERS, min_input_size

WORKERS_ON_CPU = ("on the CPU a worker computes with its share of the cores, so its float sums, and the "
                  "frames, differ slightly from a one-process render's")
VIDEO_OUTPUT = "output .mp4 (H.264), .webm (VP9), .gif, or a folder name for PNG frames"
STILL_OUTPUT = "output image (.png, .jpg, .webp)"


class _Parser(argparse.ArgumentParser):
    """argparse with the project's one-line error format."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"dreamvideo: error: {message} (see {self.prog} --help)\n")
        sys.exit(2)


def _min_size_note() -> str:
    names = tuple(name for name, _ in DEFAULT_LAYERS)
    return (f"the default layers ({', '.join(names)} of SqueezeNet) need at least "
            f"{min_input_size(names)} px per side")


def _verbose_flag(p: argparse.ArgumentParser, default: object) -> None:
    p.add_argument("-v", "--verbose", action="store_true", default=default,
                   help="also show the backends' and Ray's own start-up logs (or set DREAMVIDEO_VERBOSE=1)")


def _command(sub: Any, name: str, help: str, description: str) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=help, description=description)
    _verbose_flag(p, argparse.SUPPRESS)  # -v before or after the command
    return p


def _job(p: argparse.ArgumentParser, output_help: str, frames: bool = False) -> None:
    """What every render takes: -o, --force, -q, --preset, --dry-run, the model and the dream."""
    p.add_argument("-o", "--output", required=True, help=output_help)
    p.add_argument("--force", action="store_true", help="replace an existing output")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress bar (warnings and the final line still print)")
    p.add_argument("--preset", metavar="FILE", help="start from a TOML preset (a path, or a name from "
                                                      "`dreamvideo presets`); flags override it")
    _dry_run(p)
    if frames:
        _resume(p)
    add_flags(p.add_argument_group("model"), ModelConfig)
    dream = p.add_argument_group("dream")
    add_flags(dream, DreamConfig)
    add_flags(dream, SourceConfig, only=("max_size",), notes={"max_size": _min_size_note()})


def _dry_run(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dry-run", action="store_true",
                   help="print the configuration, the command line and the frame count; render nothing")


def _resume(p: argparse.ArgumentParser) -> None:
    p.add_argument("--resume", action="store_true",
                   help="go on with an interrupted render of the same output and settings")
    p.add_argument("--keep-frames", action="store_true",
                   help="keep the work folder (its frames or encoded segments) beside the output")


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: one sub-command per job, each added by its own function."""
    parser = _Parser(prog="dreamvideo", description="DeepDream for stills, videos and zoom loops.")
    parser.add_argument("--version", action="version", version=f"dreamvideo {__version__}")
    _verbose_flag(parser, False)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    parser.set_defaults(parser=parser)  # for the commands that print a command line
    for add in (_still, _video, _zoom, _gallery, _run, _show, _studio, _batch, _presets, _layers, _score,
                _bench):
        add(sub)
    return parser


def _still(sub: Any) -> None:
    p = _command(sub, "still", "dream one image", "Dream one image into another.")
    p.add_argument("input", help="input image (JPEG, PNG incl. 16-bit, grayscale, RGBA, WebP, ...)")
    _job(p, STILL_OUTPUT)
    p.set_defaults(run=commands.render_command)


def _video(sub: Any) -> None:
    p = _command(sub, "video", "dream a video without flicker",
                 "Dream a video frame by frame, carrying the dream along the optical flow so it does not "
                 "flicker; the audio is kept.")
    p.add_argument("input", help="video file (anything ffmpeg decodes), a folder of images or a glob")
    _job(p, VIDEO_OUTPUT, frames=True)
    add_flags(p.add_argument_group("source"), SourceConfig, only=("start", "end", "every"))
    add_flags(p.add_argument_group("temporal"), TemporalConfig)
    add_flags(p.add_argument_group("scale-out (Ray)"), RenderConfig, skip=("shots",),
              notes={"workers": WORKERS_ON_CPU})
    _looks_and_output(p, skip=("path",))


def _zoom(sub: Any) -> None:
    p = _command(sub, "zoom", "an endless-zoom animation",
                 "Zoom into a still (or seeded noise) forever: each frame is the last one moved and dreamed "
                 "again.")
    p.add_argument("input", nargs="?", help="start image (default: seeded noise of --size)")
    _job(p, VIDEO_OUTPUT, frames=True)
    add_flags(p.add_argument_group("motion"), ZoomConfig)
    _looks_and_output(p, skip=("path", "audio"))


def _looks_and_output(p: argparse.ArgumentParser, skip: tuple[str, ...]) -> None:
    """What a video and a zoom both take: colour coherence, the soundtrack, the output's
    encoding (less ``skip``)."""
    add_flags(p.add_argument_group("color"), ColorConfig)
    add_flags(p.add_argument_group("audio"), AudioConfig)
    add_flags(p.add_argument_group("output"), OutputConfig, skip=skip)
    p.set_defaults(run=commands.render_command)


def _gallery(sub: Any) -> None:
    p = _command(sub, "gallery", "one dream per layer on a labelled grid",
                 "Dream the input once per layer (--layers names them; default: the model's main layers) "
                 "and lay the results on a sheet.")
    p.add_argument("input", help="input image")
    _job(p, STILL_OUTPUT)
    p.set_defaults(run=commands.render_command)


def _set_flag(p: argparse.ArgumentParser, help: str) -> None:
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE", help=help)


def _run(sub: Any) -> None:
    p = _command(sub, "run", "render a TOML pipeline preset",
                 "Render what a TOML preset describes; -i, -o and --set override it.")
    p.add_argument("preset", nargs="?", help="a .toml file, or a preset name (see `dreamvideo presets`)")
    p.add_argument("--from", dest="from_output", metavar="OUTPUT",
                   help="re-render what made this dreamvideo output (its configuration travels inside it)")
    p.add_argument("-i", "--input", help="input file (sets source.input)")
    p.add_argument("-o", "--output", help="output path (sets output.path)")
    _set_flag(p, "override one setting, in any form its flag takes, e.g. dream.steps=8 or "
                 "zoom.size=320x180 (repeatable)")
    p.add_argument("--force", action="store_true", help="replace an existing output")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress bar (warnings and the final line still print)")
    _dry_run(p)
    _resume(p)
    p.set_defaults(run=commands.run)


def _show(sub: Any) -> None:
    p = _command(sub, "show", "print the configuration an output carries, or a preset",
                 "Print, as TOML, the configuration a dreamvideo output was made with (or a preset holds): "
                 "the sections its command reads, and the command line that renders it.")
    p.add_argument("what", metavar="OUTPUT|PRESET", help="a dreamvideo output (PNG, JPEG, MP4, WebM, PNG "
                                                         "folder), a .toml file or a preset name")
    p.set_defaults(run=commands.show)


def _studio(sub: Any) -> None:
    p = _command(sub, "studio", "a local web page to find a look, with a live preview",
                 "Serve the studio: choose an image (or a video's frame), set the controls, watch the "
                 "preview dream octave by octave; export the preset and the command line. Needs pip install "
                 '"dreamvideo[studio]".')
    p.add_argument("input", nargs="?", help="an image or a video to start with")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: 127.0.0.1; any other needs a token)")
    p.add_argument("--port", type=int, default=7860, help="port (default: 7860)")
    p.add_argument("--workspace", metavar="DIR", help="uploads and your presets (default: "
                                                       "~/.cache/dreamvideo/studio)")
    p.add_argument("--token", help="the token off loopback (default: a new one, printed in the address)")
    p.add_argument("--max-upload", type=int, default=2 * 2**30, metavar="BYTES",
                   help="largest upload (default: 2 GiB)")
    p.add_argument("--no-browser", action="store_true", help="print the address only")
    p.set_defaults(run=commands.studio)


def _batch(sub: Any) -> None:
    p = _command(sub, "batch", "render many inputs through one preset",
                 "Render every INPUT through PRESET into the folder -o, outputs named after the inputs; with "
                 "--workers as Ray tasks side by side. One failing input does not stop the others; a table "
                 "at the end says what became of each.")
    p.add_argument("preset", help="a .toml file, or a preset name (see `dreamvideo presets`)")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="the inputs (stills or videos, as the preset takes)")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="folder for the outputs")
    _set_flag(p, "override one setting of the preset for every input (repeatable)")
    add_flags(p, RenderConfig, only=("workers", "ray_address"), notes={"workers": WORKERS_ON_CPU})
    p.add_argument("--force", action="store_true", help="replace existing outputs")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=commands.batch)


def _presets(sub: Any) -> None:
    p = _command(sub, "presets", "list the bundled presets",
                 "List the bundled presets with what each is for.")
    p.set_defaults(run=commands.presets)


def _layers(sub: Any) -> None:
    p = _command(sub, "layers", "list a model's dreamable layers",
                 "List the layers you can dream on, with output shapes.")
    add_flags(p.add_argument_group("model"), ModelConfig)
    p.add_argument("--all", action="store_true", help="every layer with an image-shaped output")
    p.add_argument("--size", type=argument_type(size_of), default=(224, 224), metavar="WxH",
                   help="input size for the shapes shown (default: 224x224)")
    sheet = p.add_argument_group("channel sheet (--channels)")
    sheet.add_argument("--channels", metavar="LAYER[:A-B]",
                       help="dream each channel of LAYER alone (default: its first 32) and lay them on "
                            "a sheet, to pick one for --layers LAYER:N (30 steps of 0.02 unless "
                            "--steps, --step-size say otherwise)")
    sheet.add_argument("-o", "--output", help="the sheet to write (PNG or JPEG), with --channels")
    sheet.add_argument("-i", "--input", help="image to dream each channel on (default: seeded noise)")
    sheet.add_argument("--max-size", type=int, metavar="PX", help="longer side of each cell (default: 192)")
    sheet.add_argument("--force", action="store_true", help="overwrite the sheet")
    sheet.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    add_flags(sheet, DreamConfig, only=("steps", "octaves", "step_size", "seed"))
    p.set_defaults(run=commands.layers)


def _score(sub: Any) -> None:
    p = _command(sub, "score", "flicker and strength of a dreamed video against its input",
                 "Warping error of OUTPUT and of INPUT over flow-consistent pixels (flow from the input "
                 "frames), and dream strength mean |O-I|, all on the 0-255 scale.")
    p.add_argument("input", help="the original video")
    p.add_argument("output", help="the dreamed video (the input is scaled to its size)")
    p.add_argument("--start", type=argument_type(parse_time), metavar="T",
                   help="start of the input range the output was made from (default: the range the "
                        "output's own configuration names, else 0)")
    p.add_argument("--end", type=argument_type(parse_time), metavar="T",
                   help="end of that range (default: as for --start, else the input's end)")
    p.add_argument("--flow", choices=HOST_FLOWS, default=HOST_FLOWS[0],
                   help=f"the judge's flow method, on the input (default: {HOST_FLOWS[0]})")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=commands.score)


def _bench(sub: Any) -> None:
    p = _command(sub, "bench", "time the dream core, or the whole video pipeline",
                 "core (default): one step of the compiled octave loop against a bare forward+backward pass "
                 "of the truncated network, and a whole still. video: the real video pipeline, each stage "
                 "alone (decode, flow, warp, dream, encode) and end to end, with the bottleneck.")
    p.add_argument("what", nargs="?", choices=("core", "video"), default="core", help="what to time")
    add_flags(p.add_argument_group("model"), ModelConfig)
    add_flags(p.add_argument_group("dream"), DreamConfig, only=("layers",))
    p.add_argument("--size", type=argument_type(size_of), metavar="WxH",
                   help="image or frame size (default: 600x400 for core; the input's, or 1280x720, for "
                        "video)")
    p.add_argument("--steps", type=int, default=20, help="core: steps per timing (default: 20)")
    p.add_argument("--repeats", type=int, default=3, help="core: timings to take the best of (default: 3)")
    p.add_argument("--frames", type=int, default=120, help="video: frames to render (default: 120)")
    p.add_argument("--input", metavar="CLIP", help="video: a clip to render (default: a generated camera "
                                                   "move over a texture, 30 fps)")
    add_flags(p, TemporalConfig, only=("flow", "flow_size"))
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=commands.bench)
