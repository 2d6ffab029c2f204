"""Command line: argparse → config objects → the library. No dreaming logic here."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from collections.abc import Sequence

from dreamvideo import __version__
from dreamvideo.checkpoint import RenderInterrupted
from dreamvideo.config import (
    DreamConfig,
    ModelConfig,
    SourceConfig,
    TemporalConfig,
    ZoomConfig,
    field_help,
    flag_of,
    parse_keyframe,
    parse_layers,
    parse_time,
)
from dreamvideo.errors import DreamvideoError

ZOOM_FLAGS = (("duration", float, "S"), ("frames", int, "N"), ("fps", float, "F"),
              ("zoom", float, "Z"), ("rotate", float, "DEG"), ("pan", None, "DX,DY"),
              ("center", None, "X,Y"), ("size", None, "WxH"), ("steps", int, "N"),
              ("octaves", int, "N"), ("interpolate", int, "K"))
TEMPORAL_FLAGS = ("mode", "carry", "blend", "later_steps", "later_octaves", "later_step_scale", "flow",
                  "mask_softness", "scene_cut")
DREAM_FLAGS = ("octaves", "octave_scale", "steps", "step_size", "max_loss", "jitter", "tile_size", "seed")
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


def _add_dream_options(p: argparse.ArgumentParser, layers: bool = True) -> None:
    g = p.add_argument_group("dream")
    if layers:
        g.add_argument("--layers", metavar="NAME=W,...", help=field_help(DreamConfig, "layers"))
    for name in DREAM_FLAGS:
        g.add_argument(f"--{name.replace('_', '-')}", type=_TYPES.get(name, float),
                       metavar=_METAVARS[name], help=field_help(DreamConfig, name))
    g.add_argument("--max-size", type=int, metavar="PX", help=field_help(SourceConfig, "max_size"))
    g.add_argument("--preview", action="store_true",
                   help="fast low-resolution render with the same look (384 px, half the steps)")


VIDEO_OUTPUT = "output .mp4 (H.264), .webm (VP9), .gif, or a folder name for PNG frames"


def _add_output_options(p: argparse.ArgumentParser, what: str = "output image (.png, .jpg, .webp)") -> None:
    p.add_argument("-o", "--output", required=True, help=what)
    p.add_argument("--force", action="store_true", help="replace an existing output")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="dreamvideo", description="DeepDream for stills, videos and zoom loops.")
    parser.add_argument("--version", action="version", version=f"dreamvideo {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("still", help="dream one image", description="Dream one image into another.")
    p.add_argument("input", help="input image (JPEG, PNG incl. 16-bit, grayscale, RGBA, WebP, ...)")
    _add_output_options(p)
    _add_model_options(p)
    _add_dream_options(p)
    p.set_defaults(run=_still)

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
        kind = {"later_steps": int, "later_octaves": int, "mode": str, "flow": str}.get(name, float)
        metavar = None if kind is str else ("N" if kind is int else "X")
        choices = next(f for f in dataclasses.fields(TemporalConfig) if f.name == name).metadata["choices"]
        g.add_argument(flag, dest=f"t_{name}", type=kind, metavar=metavar, choices=choices,
                       help=field_help(TemporalConfig, name))
    g = p.add_argument_group("output")
    g.add_argument("--quality", type=int, metavar="CRF",
                   help="encoder CRF, lower is better (default: 18 for MP4, 32 for WebM)")
    g.add_argument("--no-audio", action="store_true", help="leave the soundtrack out")
    _add_resume_options(p)
    _add_model_options(p)
    _add_dream_options(p)
    p.set_defaults(run=_video)

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
    g.add_argument("--quality", type=int, metavar="CRF", help="encoder CRF, lower is better")
    _add_resume_options(p)
    _add_model_options(p)
    _add_dream_options(p)
    p.set_defaults(run=_zoom)

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
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    _add_resume_options(p)
    p.set_defaults(run=_run)

    p = sub.add_parser("presets", help="list the bundled presets",
                       description="List the presets in pipelines/ with what each is for.")
    p.set_defaults(run=_presets)

    p = sub.add_parser("layers", help="list a model's dreamable layers",
                       description="List the layers you can dream on, with output shapes.")
    _add_model_options(p)
    p.add_argument("--all", action="store_true", help="every layer with an image-shaped output")
    p.add_argument("--size", type=int, default=224, metavar="PX", help="input side for the shapes shown")
    p.set_defaults(run=_layers)

    p = sub.add_parser("gallery", help="one dream per layer on a labelled grid",
                       description="Dream the input once per layer and lay the results on a sheet.")
    p.add_argument("input", help="input image")
    _add_output_options(p)
    p.add_argument("--layers", metavar="A,B,...",
                   help="layers to show (default: the model's main layers, see `dreamvideo layers`)")
    _add_model_options(p)
    _add_dream_options(p, layers=False)
    p.set_defaults(run=_gallery)

    p = sub.add_parser("score", help="flicker and strength of a dreamed video against its input",
                       description="Warping error of OUTPUT and of INPUT over flow-consistent pixels "
                                   "(flow from the input frames), and dream strength mean |O-I|, "
                                   "all on the 0-255 scale.")
    p.add_argument("input", help="the original video")
    p.add_argument("output", help="the dreamed video (the input is scaled to its size)")
    p.add_argument("--flow", choices=("dis", "farneback"), default="dis", help="flow method (default: dis)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=_score)

    p = sub.add_parser("bench", help="time the dream core against a bare forward+backward pass",
                       description="Time one step of the compiled octave loop, a bare forward+"
                                   "backward pass of the truncated network, and a whole still.")
    _add_model_options(p)
    p.add_argument("--layers", metavar="NAME=W,...", help=field_help(DreamConfig, "layers"))
    p.add_argument("--size", default="600x400", metavar="WxH", help="image size (default: 600x400)")
    p.add_argument("--steps", type=int, default=20, help="steps per timing (default: 20)")
    p.add_argument("--repeats", type=int, default=3, help="timings to take the best of (default: 3)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=_bench)
    return parser


def _base(args: argparse.Namespace):
    """The preset named by --preset (flags override it), or the defaults."""
    from dreamvideo.presets import Pipeline, load_preset

    return load_preset(args.preset) if getattr(args, "preset", None) else Pipeline()


def model_config(args: argparse.Namespace, base: ModelConfig | None = None) -> ModelConfig:
    given = {k: v for k in ("weights", "preprocess") if (v := getattr(args, k)) is not None}
    if args.model:
        given["name"] = args.model
    return dataclasses.replace(base or ModelConfig(), **given)


def dream_config(args: argparse.Namespace, base: DreamConfig | None = None) -> DreamConfig:
    given = {k: v for k in DREAM_FLAGS if (v := getattr(args, k, None)) is not None}
    if getattr(args, "layers", None) and args.command != "gallery":
        given["layers"] = parse_layers(args.layers)
    return dataclasses.replace(base or DreamConfig(), **given)


def source_config(args: argparse.Namespace, base: SourceConfig | None = None) -> SourceConfig:
    keys = ("input", "max_size", "start", "end", "every")
    given = {k: v for k in keys if (v := getattr(args, k, None)) is not None}
    return dataclasses.replace(base or SourceConfig(), **given)


def _seeded(args: argparse.Namespace) -> None:
    if args.seed is not None:
        from dreamvideo.dream import enable_determinism

        enable_determinism()


def _still(args: argparse.Namespace) -> None:
    from dreamvideo.stills import render_still

    base = _base(args)
    config = dream_config(args, base.dream)
    _seeded(args)
    out = render_still(source_config(args, base.source), args.output, model=model_config(args, base.model),
                       dream=config, is_preview=args.preview, force=args.force, quiet=args.quiet)
    if not args.quiet:
        print(f"wrote {out}", file=sys.stderr)


def _time(text: str) -> float:
    try:
        return parse_time(text)
    except DreamvideoError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _run(args: argparse.Namespace) -> None:
    from dreamvideo.presets import load_preset, pipeline_from_toml, run_pipeline, with_overrides

    if bool(args.preset) == bool(args.from_output):
        raise DreamvideoError("give either a preset or --from OUTPUT")
    if args.from_output:
        from dreamvideo.provenance import read_config

        pipeline = pipeline_from_toml(read_config(args.from_output), args.from_output)
    else:
        pipeline = load_preset(args.preset)
    sets = list(args.set)
    if args.input:
        sets.insert(0, f"source.input={json.dumps(args.input)}")
    if args.output:
        sets.insert(0, f"output.path={json.dumps(args.output)}")
    out = run_pipeline(with_overrides(pipeline, sets), force=args.force, quiet=args.quiet,
                       resume=args.resume, keep_frames=args.keep_frames)
    if not args.quiet:
        print(f"wrote {out}", file=sys.stderr)


def _presets(args: argparse.Namespace) -> None:
    from dreamvideo.presets import list_presets

    presets = list_presets()
    width = max((len(name) for name, _ in presets), default=0)
    for name, description in presets:
        print(f"{name:<{width}}  {description}")


def _keyframe(text: str):
    try:
        return parse_keyframe(text)
    except DreamvideoError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _pair(text: str, sep: str = ",") -> tuple[float, float]:
    try:
        a, b = (float(v) for v in text.lower().split(sep))
    except ValueError:
        raise DreamvideoError(f"expected two numbers like 1{sep}2, got {text!r}") from None
    return a, b


def _zoom(args: argparse.Namespace) -> None:
    from dreamvideo.zoomloop import render_zoom

    given = {name: v for name, _, _ in ZOOM_FLAGS if (v := getattr(args, f"z_{name}")) is not None}
    for name in ("pan", "center"):
        if name in given:
            given[name] = _pair(given[name])
    if "size" in given:
        given["size"] = tuple(int(v) for v in _pair(given["size"], "x"))
    base = _base(args)
    zoom = dataclasses.replace(base.zoom, **given, keyframes=base.zoom.keyframes + tuple(args.keyframe or ()))
    config = dream_config(args, base.dream)
    source = source_config(args, base.source)
    if args.preview:
        from dreamvideo.config import preview

        source, config = preview(source, config)
    _seeded(args)
    report = render_zoom(source, args.output, zoom=zoom, model=model_config(args, base.model), dream=config,
                         quality=args.quality if args.quality is not None else base.output.quality,
                         force=args.force, quiet=args.quiet, resume=args.resume, keep_frames=args.keep_frames)
    if not args.quiet:
        print(f"wrote {report.output}: {report.frames} frames, {report.dream_calls} dreamed, "
              f"{report.seconds / report.frames:.2f} s/frame", file=sys.stderr)


def _video(args: argparse.Namespace) -> None:
    from dreamvideo.video import render_video

    base = _base(args)
    source = source_config(args, base.source)
    given = {k: v for k in TEMPORAL_FLAGS if (v := getattr(args, f"t_{k}")) is not None}
    temporal = dataclasses.replace(base.temporal, **given)
    config = dream_config(args, base.dream)
    if args.preview:
        from dreamvideo.config import preview

        source, config = preview(source, config)
    _seeded(args)
    report = render_video(source, args.output, model=model_config(args, base.model), dream=config,
                          temporal=temporal,
                          quality=args.quality if args.quality is not None else base.output.quality,
                          audio=base.output.audio and not args.no_audio, force=args.force, quiet=args.quiet,
                          resume=args.resume, keep_frames=args.keep_frames)
    if not args.quiet:
        print(f"wrote {report.output}: {report.frames} frames, {report.seconds_per_frame:.2f} s/frame"
              + (f", {report.scene_cuts} scene cuts" if report.scene_cuts else ""), file=sys.stderr)


def _gallery(args: argparse.Namespace) -> None:
    from dreamvideo.gallery import render_gallery

    base = _base(args)
    config = dream_config(args, base.dream)
    layers = [name for name, _ in parse_layers(args.layers)] if args.layers else None
    _seeded(args)
    out = render_gallery(source_config(args, base.source), args.output, layers=layers,
                         model=model_config(args, base.model), dream=config, is_preview=args.preview,
                         force=args.force, quiet=args.quiet)
    if not args.quiet:
        print(f"wrote {out}", file=sys.stderr)


def _layers(args: argparse.Namespace) -> None:
    from dreamvideo.models import load_model, make_extractor

    if args.size < 1:
        raise DreamvideoError(f"--size must be a positive number of pixels, got {args.size}")
    config = model_config(args)
    if config.weights is None:  # shapes do not depend on weights: list without downloading
        config = dataclasses.replace(config, weights="none")
    loaded = load_model(config)
    names = loaded.dreamable if args.all or not loaded.recommended else loaded.recommended
    shapes = make_extractor(loaded, names).model.compute_output_shape((1, args.size, args.size, 3))
    print(f"{loaded.name}: {len(names)} layers; output shapes (H x W x C) for a "
          f"{args.size}x{args.size} input")
    width = max(map(len, names))
    for name in names:
        h, w, c = shapes[name][1:]
        print(f"  {name:<{width}}  {h} x {w} x {c}")
    if loaded.default_layers:
        print("default layers: " + ", ".join(f"{n}={w:g}" for n, w in loaded.default_layers))
    if not args.all and loaded.recommended and len(loaded.dreamable) > len(names):
        print(f"({len(loaded.dreamable)} in all: dreamvideo layers --all)")


def _score(args: argparse.Namespace) -> None:
    from dreamvideo.score import score_videos

    result = score_videos(args.input, args.output, args.flow)
    if args.json:
        print(json.dumps({**dataclasses.asdict(result), "excess": result.excess}))
        return
    print(f"frames                        {result.frames}\n"
          f"warping error, output         {result.warp_error:8.3f}\n"
          f"warping error, input          {result.input_warp_error:8.3f}\n"
          f"excess (flicker added)        {result.excess:8.3f}\n"
          f"dream strength mean |O-I|     {result.strength:8.3f}")


def _bench(args: argparse.Namespace) -> None:
    from dreamvideo.bench import bench

    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        raise DreamvideoError(f"--size must look like 600x400, got {args.size!r}") from None
    if min(width, height, args.steps, args.repeats) < 1:
        raise DreamvideoError("--size, --steps and --repeats must be positive")
    config = DreamConfig(layers=parse_layers(args.layers)) if args.layers else DreamConfig()
    result = bench(model_config(args), config, width, height, args.steps, args.repeats)
    if args.json:
        print(json.dumps({**dataclasses.asdict(result), "ratio": result.ratio}))
        return
    print(f"{width}x{height}, {args.steps} steps, best of {args.repeats}:\n"
          f"  bare forward+backward  {result.bare_pass_s * 1000:8.1f} ms\n"
          f"  octave-loop step       {result.step_s * 1000:8.1f} ms   ratio {result.ratio:.3f}\n"
          f"  whole still            {result.still_s:8.2f} s")


class _WarningFormat(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"dreamvideo: {record.levelname.lower()}: {record.getMessage()}"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``dreamvideo`` and ``python -m dreamvideo``; returns the exit code."""
    args = build_parser().parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_WarningFormat())
    log = logging.getLogger("dreamvideo")
    log.handlers[:] = [handler]
    log.setLevel(logging.ERROR if getattr(args, "quiet", False) else logging.WARNING)
    log.propagate = False
    try:
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
    except Exception as e:  # TensorFlow's out-of-memory, without importing TensorFlow here
        if not isinstance(e, MemoryError) and type(e).__name__ != "ResourceExhaustedError":
            raise
        print("dreamvideo: error: out of memory; lower --tile-size or --max-size", file=sys.stderr)
        return 2
    return 0
