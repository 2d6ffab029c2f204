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


def test_the_compile_cache_is_per_version_and_rebuilt_when_foreign_or_damaged(tmp_path, monkeypatch, caplog):
    """JAX keeps its programs in the folder named; a folder stamped by other versions, or
    whose stamp cannot be read, is emptied with one warning and begun again;
    ``--no-compile-cache`` turns it off; the other backends keep none."""
    import jax

    before = (jax.config.jax_compilation_cache_dir, jax.config.jax_enable_compilation_cache)
    folder = tmp_path / "jax"
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", str(folder))
    try:
        assert process.compile_cache("jax") == folder and jax.config.jax_compilation_cache_dir == str(folder)
        stamp = (folder / process.STAMP).read_text()
        assert "jax " + jax.__version__ in stamp and not caplog.records
        (folder / "program").write_bytes(b"compiled")
        assert process.compile_cache("jax") == folder and (folder / "program").exists()  # ours: kept
        for foreign in (b"dreamvideo 0.0.1; jax 0.1; jaxlib 0.1\n", b"\xff\xfe\x00 damaged"):
            (folder / process.STAMP).write_bytes(foreign)
            (folder / "program").write_bytes(b"compiled")
            caplog.clear()
            assert process.compile_cache("jax") == folder
            assert not (folder / "program").exists() and (folder / process.STAMP).read_text() == stamp
            assert [r.getMessage().split(";")[0] for r in caplog.records] == [
                f"the compile cache in {folder} was made by "
                + ("another version" if foreign.startswith(b"dream") else "an unknown or damaged writer")]
        assert process.compile_cache("jax", enabled=False) is None
        assert jax.config.jax_enable_compilation_cache is False
        assert process.compile_cache("tensorflow") is None and process.compile_cache("torch") is None
    finally:
        jax.config.update("jax_compilation_cache_dir", before[0])
        jax.config.update("jax_enable_compilation_cache", before[1])
