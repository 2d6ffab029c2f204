"""Previews give way within an octave: a newer preview of the page stops the older one
between two steps, and running an octave's steps a few at a time leaves the pixels as they
were (max_loss's early stop included)."""

import dataclasses
import threading

import numpy as np
import pytest

pytest.importorskip("fastapi", reason='the studio needs pip install "dreamvideo[studio]"')

from dreamvideo.config import resolved
from dreamvideo.core.dream import Dreamer, dream
from dreamvideo.core.engine import Engine
from dreamvideo.media.images import Still, fit_max_size
from dreamvideo.render.stills import dream_array
from dreamvideo.studio.controls import pipeline_of
from dreamvideo.studio.engines import Engines
from dreamvideo.studio.previews import Previews, Stoppable
from tests.conftest import SAMPLES

CAT = str(SAMPLES / "chelsea.jpg")


def _pipeline(**settings):
    return pipeline_of({"source.input": CAT, "dream.seed": "3", "dream.layers": "fire4", **settings})


def _last(preview, timeout=300.0):
    while True:
        event = preview.events.get(timeout=timeout)
        if event["event"] in ("done", "error", "cancelled"):
            return event


@pytest.mark.usefixtures("squeezenet_weights")
def test_a_newer_preview_stops_the_older_within_its_octave(monkeypatch):
    ran: list[tuple[tuple[int, int], int]] = []  # (octave size, steps) of each run of the core's octave
    started = threading.Event()
    octave = Dreamer.octave

    def counted(self, image, weights, plan, step, max_loss):
        ran.append((plan.shape, len(plan.shifts)))
        started.set()
        return octave(self, image, weights, plan, step, max_loss)

    monkeypatch.setattr(Dreamer, "octave", counted)
    previews = Previews(Engines())
    long = previews.start("page", _pipeline(**{"source.max_size": "300", "dream.octaves": "1",
                                                "dream.steps": "400"}))
    assert started.wait(120)
    short = previews.start("page", _pipeline(**{"source.max_size": "120", "dream.octaves": "1",
                                                 "dream.steps": "2"}))
    assert _last(long)["event"] == "cancelled"
    assert _last(short)["event"] == "done"
    steps_of_long = sum(steps for shape, steps in ran if max(shape) == 300)
    assert 1 <= steps_of_long < 40, ran  # stopped within its one octave of 400 steps


@pytest.mark.usefixtures("squeezenet_weights")
def test_steps_run_a_few_at_a_time_make_the_same_pixels(cat):
    pipeline = resolved(_pipeline(**{"source.max_size": "200", "dream.steps": "6", "dream.octaves": "3"}))
    engine = Engine(pipeline.model)
    engine.repeatable()
    rgb = fit_max_size(Still(cat), 200).rgb
    plain = dream_array(rgb, engine, pipeline.dream, warn=False)
    going_on = Stoppable(engine, lambda: None)  # never stopped: runs each octave a step at a time
    assert np.array_equal(dream_array(rgb, going_on, pipeline.dream, warn=False), plain)
    dreamer, layers = engine.prepare(pipeline.dream, *rgb.shape[:2])
    stoppable, _ = going_on.prepare(pipeline.dream, *rgb.shape[:2])

    def dreamt(how, config):
        """The picture and each octave's losses (one per step taken)."""
        losses: list[np.ndarray] = []
        image = dream(rgb.astype(np.float32), how, config, layers,
                      lambda index, octaves, steps, image: losses.append(steps), warn=False)
        return image, losses

    _, losses = dreamt(dreamer, pipeline.dream)
    capped = dataclasses.replace(pipeline.dream, max_loss=float(np.sort(losses[-1])[2]))  # passed mid-octave
    image, losses = dreamt(dreamer, capped)
    assert min(len(steps) for steps in losses) < 6  # it did stop early
    again, losses_again = dreamt(stoppable, capped)
    assert np.array_equal(again, image)
    assert [s.tolist() for s in losses_again] == [s.tolist() for s in losses]


def test_a_preview_out_of_memory_says_what_to_do_and_the_next_one_runs():
    from dreamvideo.studio.failures import OUT_OF_MEMORY

    engines = Engines()
    errors = iter([MemoryError(), RuntimeError("first line\nsecond line")])

    def get(model):
        raise next(errors)

    engines.get = get
    previews = Previews(engines)
    failed = _last(previews.start("page", _pipeline()), timeout=30)
    assert failed == {"event": "error", "message": OUT_OF_MEMORY}
    assert _last(previews.start("page", _pipeline()), timeout=30) == {"event": "error",
                                                                     "message": "RuntimeError: first line"}
