"""Process-wide settings: nothing happens on import; each call does its one thing.
(``pin_cpus``, ``physical_cores`` and ``gpus_hidden`` are exercised by the worker placement
tests in tests/render/test_workers.py.)"""

import subprocess
import sys

from dreamvideo.core import process
from tests.conftest import ROOT


def test_importing_the_package_changes_no_process_setting():
    code = ("import dreamvideo.core.process, dreamvideo.cli, dreamvideo.media.recorder, "
            "dreamvideo.temporal.motion, dreamvideo.render.workers\n"
            "import sys; from dreamvideo.core.process import steady_heap\n"
            "print('jax' in sys.modules, steady_heap.cache_info().currsize)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.stdout.split() == ["False", "0"], out.stderr[-1000:]


def test_checkpoint_seconds_is_read_when_asked(monkeypatch):
    monkeypatch.delenv(process.CHECKPOINT_VARIABLE, raising=False)
    assert process.checkpoint_seconds() == 1.0
    monkeypatch.setenv(process.CHECKPOINT_VARIABLE, "0")
    assert process.checkpoint_seconds() == 0.0


def test_steady_heap_on_glibc():
    assert process.steady_heap() is (sys.platform == "linux")


def test_usable_cpus_are_this_process_cores():
    import os

    assert 1 <= process.usable_cpus() <= len(os.sched_getaffinity(0))
