"""Where the Ray workers of a render run, and with how many threads: Ray started (local
and embedded, or joined), each local worker kept to cores of its own, GPUs handed out only
to a backend that will use them. Ray is imported here only when workers are asked for.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from dreamvideo.core.backends import verbose
from dreamvideo.core.process import CPUS_VARIABLE, SYSFS_CPUS, gpus_hidden, physical_cores, usable_cpus
from dreamvideo.errors import DreamvideoError


def import_ray() -> Any:
    """Ray, or the one-line error that says how to get it."""
    try:
        import ray
    except ImportError:
        raise DreamvideoError('--workers renders on Ray, which is not installed here: '
                              'pip install "dreamvideo[ray]"') from None
    return ray


def cpu_slots(workers: int, threads: int, sysfs: Path = SYSFS_CPUS) -> list[str | None]:
    """The cores of each of ``workers`` local workers, ``threads`` each, as ``$DREAMVIDEO_CPUS``
    values (None where this system cannot pin threads). A core's hyperthreads go to the same
    worker: two workers on one core's two threads would fight over its caches and units."""
    if not hasattr(os, "sched_getaffinity"):
        return [None] * workers
    cores = [cpu for core in physical_cores(sorted(os.sched_getaffinity(0)), sysfs) for cpu in core]
    return [",".join(str(cores[(slot * threads + i) % len(cores)]) for i in range(threads))
            for slot in range(workers)]


def start_ray(ray: Any, address: str | None, workers: int) -> bool:
    """Join the cluster at ``address`` (or ``$RAY_ADDRESS``), else start Ray on this
    machine, embedded, with this machine's cores (or ``workers`` CPUs when more). True when
    this call connected Ray: whoever did so calls ``ray.shutdown()`` when done with it."""
    if ray.is_initialized():
        return False
    if not verbose():  # Ray's own notes (token authentication, the local instance): with -v only
        logging.getLogger("ray").setLevel(logging.ERROR)
    address = address or os.environ.get("RAY_ADDRESS")
    if address:
        try:
            ray.init(address=address, log_to_driver=False)
        except Exception as e:  # ConnectionError, Ray's AuthenticationError, RuntimeError
            reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            # Ray (2.59 on) never sends its token to an address it was given unless told to
            token = "" if os.environ.get("RAY_AUTH_MODE") else (
                " A cluster started by `ray start` checks a token: run with RAY_AUTH_MODE=token and its "
                "token in RAY_AUTH_TOKEN or ~/.ray/auth_token.")
            raise DreamvideoError(f"could not join the Ray cluster at {address}: {reason[:300]}; is it "
                                  f"running (`ray start --head` there)?{token}") from None
        return True
    # "local": a Ray of its own, even where `ray start` left one running (or a dead one's address)
    ray.init(address="local", num_cpus=max(usable_cpus(), workers), num_gpus=0 if gpus_hidden() else None,
             include_dashboard=False, log_to_driver=False, object_store_memory=200 * 2**20,
             configure_logging=False,
             # Ray runs workers at nice 15 to keep its daemons responsive; here the workers are
             # the render, and a niced worker yields its cores to the driver and its encoder
             # (2 cores, 482 frames at 320 px: the worker dreamed 57 s at nice 15, 52 s at 0)
             _system_config={"worker_niceness": 0})
    return True


FORWARDED = ("KERAS_BACKEND", "KERAS_HOME", "JAX_PLATFORMS", "TF_CPP_MIN_LOG_LEVEL")
PATHS = ("DREAMVIDEO_WEIGHTS_DIR", "KERAS_HOME")  # made absolute: a worker runs in a folder of its own


def forwarded_environment() -> dict[str, str]:
    """What a worker needs of this driver's environment: the backend and where the weights
    are (on a cluster a worker does not inherit it; paths must be on shared storage)."""
    env = {name: value for name, value in os.environ.items()
           if (name in FORWARDED or name.startswith("DREAMVIDEO_")) and name != CPUS_VARIABLE}
    for name in PATHS:
        if env.get(name):
            env[name] = str(Path(env[name]).expanduser().absolute())
    return env


def worker_threads(ray: Any, workers: int) -> tuple[int, int, dict[str, str]]:
    """(GPUs, threads per worker, the environment that holds a worker to them): a GPU each
    where there are GPUs, else a fair share of the CPUs, so N workers do not oversubscribe."""
    resources = ray.cluster_resources()
    gpus, cpus = int(resources.get("GPU", 0)), int(resources.get("CPU", 1))
    threads = max(1, cpus // (min(workers, gpus) if gpus else workers))
    env = {name: str(threads) for name in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "MKL_NUM_THREADS",
                                           "OPENBLAS_NUM_THREADS")}
    env["TF_NUM_INTEROP_THREADS"] = str(threads)
    return gpus, threads, env


def slot_options(ray: Any, workers: int, address: str | None) -> tuple[int, list[dict[str, Any]]]:
    """(threads per worker, the Ray task options of each of ``workers`` slots): a GPU each
    where there are GPUs, else a share of the CPUs; on this machine each slot keeps to cores
    of its own (``$DREAMVIDEO_CPUS``). A task sent with a slot's options runs in a worker
    process of that slot, which Ray reuses from one task to the next."""
    gpus, threads, limits = worker_threads(ray, workers)
    env = {**forwarded_environment(), **limits}
    resources = {"num_gpus": 1 if gpus else 0, "num_cpus": 0 if gpus else threads}
    local = not gpus and not (address or os.environ.get("RAY_ADDRESS"))
    cores = cpu_slots(workers, threads) if local else [None] * workers
    return threads, [{**resources, "runtime_env": {"env_vars": {**env, CPUS_VARIABLE: c} if c else env}}
                     for c in cores]


class SlotQueue:
    """Jobs on Ray, at most one per worker slot at a time: each is sent (``send(job, slot)``
    gives its ref) as a slot frees up, with that slot's options, so a slot's jobs keep to
    its cores. Whoever stops early (Ctrl-C) calls :meth:`cancel`."""

    def __init__(self, ray: Any, jobs: list[Any], slots: int, send: Callable[[Any, int], Any]) -> None:
        self.ray, self._send = ray, send
        self._todo, self._free = list(jobs), list(range(slots))
        self._running: dict[Any, tuple[Any, int]] = {}

    def finished(self, timeout: float | None = None) -> Iterator[list[tuple[Any, Any]]]:
        """The (job, ref) pairs as they finish, a list each time Ray is waited on (empty when
        ``timeout`` seconds passed without one), until every job is done."""
        while self._todo or self._running:
            while self._todo and self._free:
                job, slot = self._todo.pop(0), self._free.pop(0)
                self._running[self._send(job, slot)] = job, slot
            done, _ = self.ray.wait(list(self._running), num_returns=1, timeout=timeout)
            finished = []
            for ref in done:
                job, slot = self._running.pop(ref)
                self._free.append(slot)
                finished.append((job, ref))
            yield finished

    def cancel(self) -> None:
        """Stop the jobs that are running."""
        for ref in self._running:
            self.ray.cancel(ref, force=True)


@contextlib.contextmanager
def ray_session(ray: Any, address: str | None, workers: int) -> Iterator[Callable[[], None]]:
    """Ray for one render: started (or joined) here, and stopped at the end if it was this
    that started it (whoever opens it closes it). The ``done()`` it gives stops it early, in
    a thread, once the workers are no longer needed: Ray's shutdown (1.1-1.3 s on 2 cores)
    then runs while the output is finished instead of after it."""
    owned = start_ray(ray, address, workers)
    stopping: list[threading.Thread] = []

    def done() -> None:
        if owned and not stopping:
            stopping.append(threading.Thread(target=ray.shutdown, name="dreamvideo-ray-stop", daemon=True))
            stopping[0].start()

    try:
        yield done
    finally:
        if stopping:
            stopping[0].join()
        elif owned:
            ray.shutdown()
