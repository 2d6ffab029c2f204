"""Process-wide settings: each reads or changes something of this whole process (the C
heap, the cores it may use, the environment, a backend's compile cache), and each is
applied by a call whose docstring says why; importing this module changes nothing.
(Tests: tests/core/test_process.py.)"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import importlib.metadata
import logging
import os
import shutil
from pathlib import Path
from typing import Any

CPUS_VARIABLE = "DREAMVIDEO_CPUS"  # the cores a local Ray worker keeps to, e.g. "4,5,6,7"
CHECKPOINT_VARIABLE = "DREAMVIDEO_CHECKPOINT_SECONDS"  # seconds of work between a render's saved states
SYSFS_CPUS = Path("/sys/devices/system/cpu")
STEADY_HEAP = True  # False: leave the C heap as it is (tests/benchmarks/flow_pool.py compares)


@functools.cache
def steady_heap() -> bool:
    """Keep freed memory in the C heap instead of handing it back to the system.

    Each flow pair allocates and frees some twenty frame-sized arrays; with glibc's
    defaults every thread's arena gives them back and takes them again (page faults, and
    TLB shoot-downs across the threads), so a pool's throughput stops growing after a few
    threads (the README's video section has the measurement). glibc only (``mallopt``);
    elsewhere nothing changes. Called where the flow's pool starts."""
    if not STEADY_HEAP:
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    trim, mmap = -1, -3  # M_TRIM_THRESHOLD, M_MMAP_THRESHOLD (at most 32 MiB on 64-bit)
    return bool(mallopt(trim, 1 << 30)) and bool(mallopt(mmap, 1 << 25))


def checkpoint_seconds() -> float:
    """Seconds of work between a render's saved states (``$DREAMVIDEO_CHECKPOINT_SECONDS``,
    1 by default; 0 saves one after every frame, as the resume tests do). Read when a
    render starts, so a test or a caller may change it between renders."""
    return float(os.environ.get(CHECKPOINT_VARIABLE, "1.0"))


def pin_cpus(threads: int | None = None) -> None:
    """Keep this process (a Ray worker) to its own cores (``$DREAMVIDEO_CPUS``), before any
    backend starts its thread pools: JAX, TensorFlow and OpenCV size them by the cores a
    process may use, so N workers share the machine without oversubscribing it, whatever
    the backend. ``threads``: OpenCV's threads, set too (a worker's share)."""
    cpus = os.environ.get(CPUS_VARIABLE)
    if cpus and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {int(c) for c in cpus.split(",")})
    if threads:
        import cv2

        cv2.setNumThreads(threads)


def usable_cpus() -> int:
    """The cores this process may run on: its affinity, capped by a container's CPU quota
    (cgroup v2 ``cpu.max``), which ``os.cpu_count()`` does not see."""
    count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            count = min(count, max(1, int(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return count


def physical_cores(cpus: list[int], sysfs: Path = SYSFS_CPUS) -> list[list[int]]:
    """``cpus`` grouped by the physical core they run on (a core's hyperthreads together),
    from sysfs; each CPU a core of its own where the topology cannot be read."""
    groups: dict[tuple[str, str], list[int]] = {}
    for cpu in cpus:
        topology = sysfs / f"cpu{cpu}" / "topology"
        try:
            key = ((topology / "physical_package_id").read_text().strip(),
                   (topology / "core_id").read_text().strip())
        except OSError:
            key = ("", str(cpu))
        groups.setdefault(key, []).append(cpu)
    return sorted(sorted(group) for group in groups.values())


def gpus_hidden() -> bool:
    """The backend is told to keep off the GPUs (``JAX_PLATFORMS=cpu``, an empty
    ``CUDA_VISIBLE_DEVICES``): Ray must not hand each worker a GPU it will not use (one
    GPU would then run the workers one after another, on the CPU)."""
    return (os.environ.get("JAX_PLATFORMS", "").strip().lower() == "cpu"
            or os.environ.get("CUDA_VISIBLE_DEVICES", "unset").strip() in ("", "-1"))


STAMP = "made-by.txt"  # in the cache folder: the versions that wrote it


def cache_home() -> Path:
    """``~/.cache/dreamvideo``: the compile cache (``jax/``) and the studio's default
    workspace (``studio/``); read when asked, not at import."""
    return Path.home() / ".cache" / "dreamvideo"


def _stamp(jax: Any) -> str:
    try:
        ours = importlib.metadata.version("dreamvideo")
    except importlib.metadata.PackageNotFoundError:
        ours = "unknown"
    return f"dreamvideo {ours}; jax {jax.__version__}; jaxlib {jax.lib.__version__}\n"


def _fresh_cache(folder: Path, stamp: str) -> None:
    """``folder`` as a cache these versions wrote: one from other versions, or one that
    cannot be read, is emptied with one warning line and begun again."""
    marker = folder / STAMP
    try:
        found = marker.read_text() if marker.exists() else None
    except (OSError, UnicodeDecodeError):
        found = "unreadable"
    if found == stamp:
        return
    if found is not None or (folder.is_dir() and any(folder.iterdir())):
        logging.getLogger("dreamvideo").warning(
            "the compile cache in %s was made by %s; rebuilding it (the first frames compile again)",
            folder, "another version" if found and found != "unreadable" else "an unknown or damaged writer")
        shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    marker.write_text(stamp)


def compile_cache(backend: str, enabled: bool = True) -> Path | None:
    """Keep the backend's compiled programs on disk, so a second render of the same sizes
    starts at once: JAX's persistent compilation cache in ``~/.cache/dreamvideo/jax`` (or
    ``$JAX_COMPILATION_CACHE_DIR``; set but empty: off). ``enabled`` False
    (``--no-compile-cache``) compiles afresh. TensorFlow and PyTorch keep none here (their
    graphs are traced per process). Called when an engine starts, before anything
    compiles; returns the folder in use."""
    if backend != "jax":
        return None
    import jax

    if not enabled:
        jax.config.update("jax_enable_compilation_cache", False)
        return None
    jax.config.update("jax_enable_compilation_cache", True)
    named = os.environ.get("JAX_COMPILATION_CACHE_DIR")
    if named == "":
        return None
    folder = Path(named) if named else cache_home() / "jax"
    try:
        _fresh_cache(folder, _stamp(jax))
    except OSError as e:  # a read-only home: compile in memory only
        logging.getLogger("dreamvideo").warning("no compile cache: %s", e)
        return None
    if jax.config.jax_compilation_cache_dir != str(folder):
        jax.config.update("jax_compilation_cache_dir", str(folder))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
    return folder
