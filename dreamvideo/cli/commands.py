"""What each command does with its parsed arguments: a :class:`Pipeline` from the preset
and the flags over it, rendered by the library. No dreaming logic here.

(Tests: tests/cli/test_cli.py, tests/cli/test_commandline.py.)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
from pathlib import Path

from dreamvideo.api import batch as batches
from dreamvideo.api.presets import list_presets, load_preset, planned, render
from dreamvideo.api.score import score_videos
from dreamvideo.cli.commandline import command_line
from dreamvideo.cli.flags import from_args
from dreamvideo.cli.progress import progress_bar, summary
from dreamvideo.config import (
    SECTIONS,
    DreamConfig,
    ModelConfig,
    OutputConfig,
    Pipeline,
    RenderConfig,
    SourceConfig,
    TemporalConfig,
    pipeline_from_toml,
    to_toml,
    with_overrides,
)
from dreamvideo.core.bench import as_dict
from dreamvideo.core.bench import bench as bench_core
from dreamvideo.core.engine import Engine
from dreamvideo.core.models import load_model, make_extractor
from dreamvideo.core.process import cache_home
from dreamvideo.errors import DreamvideoError
from dreamvideo.media.provenance import read_config
from dreamvideo.render.benchvideo import bench_video, make_clip, table
from dreamvideo.render.gallery import CHANNEL_DREAM, render_channels
from dreamvideo.render.loop import Run

UNITS = {"still": "step", "gallery": "layer", "video": "frame", "zoom": "frame"}
WHAT = {"still": "dreaming {}", "gallery": "gallery", "video": "dreaming {}", "zoom": "zooming"}


def pipeline_of(args: argparse.Namespace) -> Pipeline:
    """The render the arguments ask for: the preset (or the defaults), the flags over it."""
    base = load_preset(args.preset) if args.preset else Pipeline(command=args.command)
    sections = {name: from_args(cls, args, getattr(base, name)) for name, cls in SECTIONS.items()}
    if args.input is not None:
        sections["source"] = dataclasses.replace(sections["source"], input=args.input)
    sections["output"] = dataclasses.replace(sections["output"], path=args.output)
    return dataclasses.replace(base, command=args.command, **sections)


def describe(pipeline: Pipeline, parser: argparse.ArgumentParser, header: str = "") -> str:
    """The configuration of ``pipeline`` as TOML (the sections its command reads), then the
    command line that renders it."""
    line, unflagged = command_line(pipeline, parser)
    text = to_toml(pipeline, only_used=True, header=header)
    text += f"\n# renders it:\n#   {line}\n"
    if unflagged:
        text += (f"# ({', '.join(unflagged)} has no flag: `dreamvideo run` with this TOML as the preset "
                 "renders it all)\n")
    return text


def show(args: argparse.Namespace) -> None:
    """``dreamvideo show OUTPUT|PRESET``."""
    what = Path(args.what)
    if what.exists() and what.suffix.lower() != ".toml":
        pipeline, header = pipeline_from_toml(read_config(what), what), f"# {what} was made with:"
    else:
        pipeline = load_preset(args.what)
        header = f"# {pipeline.description}" if pipeline.description else ""
    print(describe(pipeline, args.parser, header), end="")


def studio(args: argparse.Namespace) -> None:
    """``dreamvideo studio``: the app on uvicorn, the address printed (with its token off
    loopback), the browser opened unless ``--no-browser``."""
    try:
        import uvicorn

        from dreamvideo.studio.app import create_app
    except ImportError:
        raise DreamvideoError('the studio needs FastAPI and uvicorn: pip install "dreamvideo[studio]"') \
            from None
    import secrets
    import webbrowser

    workspace = Path(args.workspace or cache_home() / "studio").expanduser()
    loopback = args.host in ("127.0.0.1", "localhost", "::1")
    token = None if loopback and not args.token else (args.token or secrets.token_urlsafe(24))
    if args.input is not None and not Path(args.input).is_file():
        raise DreamvideoError(f"{args.input} does not exist")
    app = create_app(workspace, token, args.max_upload,
                     lambda pipeline: command_line(pipeline, args.parser)[0], args.input)
    url = f"http://{'localhost' if loopback else args.host}:{args.port}/"
    url += f"?token={token}" if token else ""
    print(f"dreamvideo studio: {url}", file=sys.stderr, flush=True)
    if not args.no_browser:
        webbrowser.open(url)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


def _render(pipeline: Pipeline, args: argparse.Namespace) -> None:
    if args.dry_run:
        print(describe(pipeline, args.parser) + f"# makes: {planned(pipeline)}")
        return
    name = Path(pipeline.source.input).name if pipeline.source.input else "noise"
    what = WHAT[pipeline.command].format(name)
    with progress_bar(what, UNITS[pipeline.command], args.quiet) as update:
        made = render(pipeline, Run(force=args.force, resume=getattr(args, "resume", False),
                                    keep_frames=getattr(args, "keep_frames", False), progress=update))
    print(summary(made), file=sys.stderr)


def render_command(args: argparse.Namespace) -> None:
    """still, video, zoom and gallery: the same path, with their own flags."""
    _render(pipeline_of(args), args)


def run(args: argparse.Namespace) -> None:
    if bool(args.preset) == bool(args.from_output):
        raise DreamvideoError("give either a preset or --from OUTPUT")
    if args.from_output:
        pipeline = pipeline_from_toml(read_config(args.from_output), args.from_output)
    else:
        pipeline = load_preset(args.preset)
    sets = list(args.set)
    if args.input:
        sets.insert(0, f"source.input={json.dumps(args.input)}")
    if args.output:
        sets.insert(0, f"output.path={json.dumps(args.output)}")
    _render(with_overrides(pipeline, sets), args)


def batch(args: argparse.Namespace) -> int:
    render = from_args(RenderConfig, args)
    with progress_bar(f"batch of {len(args.inputs)}", "input", args.quiet) as bar:
        items = batches.run_batch(args.preset, args.inputs, args.output, sets=args.set, scale=render,
                                  run=Run(force=args.force, progress=bar))
    print(batches.table(items))
    return 1 if any(item.error for item in items) else 0


def presets(args: argparse.Namespace) -> None:
    found = list_presets()
    width = max((len(name) for name, _ in found), default=0)
    for name, description in found:
        print(f"{name:<{width}}  {description}")


def layers(args: argparse.Namespace) -> None:
    if args.channels:
        return _channel_sheet(args)
    if args.output:
        raise DreamvideoError("-o/--output writes a sheet of channels; name the layer with --channels")
    config = from_args(ModelConfig, args)
    if config.weights is None:  # shapes do not depend on weights: list without downloading
        config = dataclasses.replace(config, weights="none")
    Engine(config)  # the backend, before Keras loads
    loaded = load_model(config)
    names = loaded.dreamable if args.all or not loaded.recommended else loaded.recommended
    width, height = args.size
    shapes = make_extractor(loaded, names).model.compute_output_shape((1, height, width, 3))
    print(f"{loaded.name}: {len(names)} layers; output shapes (H x W x C) for a {width}x{height} input")
    column = max(map(len, names))
    for name in names:
        h, w, c = shapes[name][1:]
        print(f"  {name:<{column}}  {h} x {w} x {c}")
    if loaded.default_layers:
        print("default layers: " + ", ".join(f"{n}={w:g}" for n, w in loaded.default_layers))
    if not args.all and loaded.recommended and len(loaded.dreamable) > len(names):
        print(f"({len(loaded.dreamable)} in all: dreamvideo layers --all)")


def _channel_sheet(args: argparse.Namespace) -> None:
    if not args.output:
        raise DreamvideoError("--channels needs -o SHEET.png, the sheet to write")
    pipeline = Pipeline("gallery", SourceConfig(args.input, max_size=args.max_size),
                        from_args(ModelConfig, args), from_args(DreamConfig, args, CHANNEL_DREAM),
                        output=OutputConfig(args.output))
    with progress_bar(f"channels of {args.channels}", "channel", args.quiet) as bar:
        out = render_channels(args.channels, pipeline, Run(Engine(pipeline.model), args.force, progress=bar))
    print(f"wrote {out}")


def score(args: argparse.Namespace) -> None:
    result = score_videos(args.input, args.output, args.flow, args.start, args.end)
    if args.json:
        print(json.dumps({**dataclasses.asdict(result), "excess": result.excess}))
        return
    print(f"frames                        {result.frames}\n"
          f"warping error, output         {result.warp_error:8.3f}\n"
          f"warping error, input          {result.input_warp_error:8.3f}\n"
          f"excess (flicker added)        {result.excess:8.3f}\n"
          f"dream strength mean |O-I|     {result.strength:8.3f}\n"
          f"detail added (fine, O-I)      {result.detail:8.3f}   by quarter: "
          + " ".join(f"{q:.3f}" for q in result.detail_quarters))


def bench(args: argparse.Namespace) -> None:
    engine = Engine(from_args(ModelConfig, args))
    dream = from_args(DreamConfig, args)
    if args.what == "video":
        return _bench_video(args, engine, dream)
    width, height = args.size or (600, 400)
    if min(args.steps, args.repeats) < 1:
        raise DreamvideoError("--steps and --repeats must be positive")
    result = bench_core(engine, dream, (width, height), args.steps, args.repeats)
    if args.json:
        print(json.dumps(as_dict(result)))
        return
    print(f"{result.device} ({result.precision}); {width}x{height}, {args.steps} steps, "
          f"best of {args.repeats}:\n"
          f"  bare forward+backward  {result.bare_pass_s * 1000:8.1f} ms\n"
          f"  octave-loop step       {result.step_s * 1000:8.1f} ms   ratio {result.ratio:.3f}\n"
          f"  whole still            {result.still_s:8.2f} s")


def _bench_video(args: argparse.Namespace, engine: Engine, dream: DreamConfig) -> None:
    if args.frames < 2:
        raise DreamvideoError(f"--frames must be at least 2, got {args.frames}")
    temporal = from_args(TemporalConfig, args)
    with tempfile.TemporaryDirectory(prefix="dreamvideo-clip-") as tmp:
        clip, size = args.input, args.size
        if clip is None:
            clip, size = Path(tmp) / "clip.mp4", size or (1280, 720)
            make_clip(clip, size, args.frames)
        result = bench_video(clip, engine, dream, temporal, size, args.frames)
    if args.json:
        print(json.dumps({**dataclasses.asdict(result), "fps": result.fps, "bottleneck": result.bottleneck}))
        return
    print(table(result))

