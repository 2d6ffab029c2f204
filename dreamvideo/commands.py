"""What each command does with its parsed arguments: build the config objects (a
--preset first, the flags over it) and call the library. No dreaming logic here."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys

from dreamvideo.config import DreamConfig, ModelConfig, SourceConfig, parse_layers
from dreamvideo.errors import DreamvideoError

ZOOM_FLAGS = (("duration", float, "S"), ("frames", int, "N"), ("fps", float, "F"),
              ("zoom", float, "Z"), ("rotate", float, "DEG"), ("pan", None, "DX,DY"),
              ("center", None, "X,Y"), ("size", None, "WxH"), ("steps", int, "N"),
              ("octaves", int, "N"), ("interpolate", int, "K"))
TEMPORAL_FLAGS = ("mode", "carry", "blend", "later_steps", "later_octaves", "later_step_scale", "flow",
                  "mask_softness", "scene_cut", "flow_size", "flow_workers", "flow_preset")
DREAM_FLAGS = ("octaves", "octave_scale", "steps", "step_size", "max_loss", "jitter", "tile_size", "seed")


def _base(args: argparse.Namespace):
    """The preset named by --preset (flags override it), or the defaults."""
    from dreamvideo.presets import Pipeline, load_preset

    return load_preset(args.preset) if getattr(args, "preset", None) else Pipeline()


def model_config(args: argparse.Namespace, base: ModelConfig | None = None) -> ModelConfig:
    keys = ("weights", "preprocess", "backend", "precision")
    given = {k: v for k in keys if (v := getattr(args, k, None)) is not None}
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


def still(args: argparse.Namespace) -> None:
    from dreamvideo.stills import render_still

    base = _base(args)
    config = dream_config(args, base.dream)
    _seeded(args)
    out = render_still(source_config(args, base.source), args.output, model=model_config(args, base.model),
                       dream=config, is_preview=args.preview, force=args.force, quiet=args.quiet)
    print(f"wrote {out}", file=sys.stderr)


def run(args: argparse.Namespace) -> None:
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
    print(f"wrote {out}", file=sys.stderr)


def presets(args: argparse.Namespace) -> None:
    from dreamvideo.presets import list_presets

    presets = list_presets()
    width = max((len(name) for name, _ in presets), default=0)
    for name, description in presets:
        print(f"{name:<{width}}  {description}")


def _pair(text: str, sep: str = ",", what: str = "") -> tuple[float, float]:
    try:
        a, b = (float(v) for v in text.lower().split(sep))
    except ValueError:
        raise DreamvideoError(f"{what or f'expected two numbers like 1{sep}2'}, got {text!r}") from None
    return a, b


def zoom(args: argparse.Namespace) -> None:
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
                         codec=args.codec or base.output.codec, fps=base.output.fps,
                         force=args.force, quiet=args.quiet, resume=args.resume, keep_frames=args.keep_frames)
    print(f"wrote {report.output}: {report.frames} frames"
          + (f" ({report.restored} restored, {report.made} made in this run)" if report.restored else "")
          + f", {report.dream_calls} dreamed, {report.seconds_per_frame:.2f} s/frame", file=sys.stderr)


def video(args: argparse.Namespace) -> None:
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
                          audio=base.output.audio and not args.no_audio,
                          codec=args.codec or base.output.codec, fps=args.fps or base.output.fps,
                          force=args.force, quiet=args.quiet,
                          resume=args.resume, keep_frames=args.keep_frames)
    print(f"wrote {report.output}: {report.frames} frames"
          + (f" ({report.restored} restored, {report.dreamed} dreamed in this run)"
             if report.restored else "")
          + f", {report.seconds_per_frame:.2f} s/frame"
          + (f", {report.scene_cuts} scene cuts" if report.scene_cuts else ""), file=sys.stderr)


def gallery(args: argparse.Namespace) -> None:
    from dreamvideo.gallery import render_gallery

    base = _base(args)
    config = dream_config(args, base.dream)
    layers = [name for name, _ in parse_layers(args.layers)] if args.layers else None
    _seeded(args)
    out = render_gallery(source_config(args, base.source), args.output, layers=layers,
                         model=model_config(args, base.model), dream=config, is_preview=args.preview,
                         force=args.force, quiet=args.quiet)
    print(f"wrote {out}", file=sys.stderr)


def layers(args: argparse.Namespace) -> None:
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


def score(args: argparse.Namespace) -> None:
    from dreamvideo.score import score_videos

    result = score_videos(args.input, args.output, args.flow, args.start, args.end)
    if args.json:
        print(json.dumps({**dataclasses.asdict(result), "excess": result.excess}))
        return
    print(f"frames                        {result.frames}\n"
          f"warping error, output         {result.warp_error:8.3f}\n"
          f"warping error, input          {result.input_warp_error:8.3f}\n"
          f"excess (flicker added)        {result.excess:8.3f}\n"
          f"dream strength mean |O-I|     {result.strength:8.3f}")


def _size(text: str) -> tuple[int, int]:
    size = _pair(text, "x", "--size must look like 600x400")
    if not all(v.is_integer() and v >= 1 for v in size):
        raise DreamvideoError(f"--size must look like 600x400, got {text!r}")
    return int(size[0]), int(size[1])


def bench(args: argparse.Namespace) -> None:
    if args.what == "video":
        return bench_video(args)
    from dreamvideo.bench import as_dict, bench

    width, height = _size(args.size or "600x400")
    if min(args.steps, args.repeats) < 1:
        raise DreamvideoError("--size, --steps and --repeats must be positive")
    config = DreamConfig(layers=parse_layers(args.layers)) if args.layers else DreamConfig()
    result = bench(model_config(args), config, width, height, args.steps, args.repeats)
    if args.json:
        print(json.dumps(as_dict(result)))
        return
    print(f"{result.device} ({result.precision}); {width}x{height}, {args.steps} steps, "
          f"best of {args.repeats}:\n"
          f"  bare forward+backward  {result.bare_pass_s * 1000:8.1f} ms\n"
          f"  octave-loop step       {result.step_s * 1000:8.1f} ms   ratio {result.ratio:.3f}\n"
          f"  whole still            {result.still_s:8.2f} s")


def bench_video(args: argparse.Namespace) -> None:
    import tempfile
    from pathlib import Path

    from dreamvideo.benchvideo import bench_video, make_clip, table
    from dreamvideo.config import TemporalConfig

    if args.frames < 2:
        raise DreamvideoError(f"--frames must be at least 2, got {args.frames}")
    size = _size(args.size) if args.size else None
    config = DreamConfig(layers=parse_layers(args.layers)) if args.layers else DreamConfig()
    temporal = TemporalConfig(**({} if args.flow_size is None else {"flow_size": args.flow_size}))
    with tempfile.TemporaryDirectory(prefix="dreamvideo-clip-") as tmp:
        clip = args.input
        if clip is None:
            clip = Path(tmp) / "clip.mp4"
            size = size or (1280, 720)
            make_clip(clip, size, args.frames)
        result = bench_video(clip, model_config(args), config, temporal, size, args.frames)
    if args.json:
        print(json.dumps({**dataclasses.asdict(result), "fps": result.fps, "bottleneck": result.bottleneck}))
        return
    print(table(result))
