"""Where Ray workers run: each local one kept to cores of its own; no GPU reserved for a
backend kept off the GPUs."""

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def test_local_workers_keep_to_cores_of_their_own():
    from dreamvideo.render.workers import cpu_slots

    cores = sorted(os.sched_getaffinity(0))
    slots = cpu_slots(2, 1)
    assert slots == [str(cores[0]), str(cores[1 % len(cores)])]
    from dreamvideo.core.process import gpus_hidden

    four = [set(s.split(",")) for s in cpu_slots(4, 4)]
    assert all(len(s) == min(4, len(cores)) for s in four)
    if len(cores) >= 16:
        assert set.union(*four) == {str(c) for c in cores[:16]}
    code = ("import os; from dreamvideo.core.process import pin_cpus; pin_cpus(); "
            "print(sorted(os.sched_getaffinity(0)))")
    pinned = subprocess.run([sys.executable, "-c", code],
                            env={**os.environ, "DREAMVIDEO_CPUS": str(cores[-1])}, capture_output=True,
                            text=True, cwd=ROOT, timeout=60)
    assert pinned.stdout.strip() == f"[{cores[-1]}]", pinned.stderr[-500:]
    for hidden, env in ((True, {"JAX_PLATFORMS": "cpu"}), (True, {"CUDA_VISIBLE_DEVICES": ""}),
                        (False, {"JAX_PLATFORMS": "cuda"})):
        with pytest.MonkeyPatch.context() as patch:
            patch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
            for name, value in env.items():
                patch.setenv(name, value)
            assert gpus_hidden() is hidden, env


def _sysfs(root, siblings):
    """A fake /sys/devices/system/cpu: CPU c on physical core ``siblings[c]``."""
    for cpu, core in enumerate(siblings):
        topology = root / f"cpu{cpu}" / "topology"
        topology.mkdir(parents=True)
        (topology / "physical_package_id").write_text("0\n")
        (topology / "core_id").write_text(f"{core}\n")
    return root


def test_a_cores_hyperthreads_go_to_the_same_worker(tmp_path, monkeypatch):
    """16 CPUs on 8 cores, the second thread of core k numbered k + 8 (as Linux numbers
    them): each of 4 workers gets two whole cores, not four half cores shared with another."""
    from dreamvideo.core.process import physical_cores
    from dreamvideo.render.workers import cpu_slots

    sysfs = _sysfs(tmp_path, [c % 8 for c in range(16)])
    assert physical_cores(list(range(16)), sysfs) == [[c, c + 8] for c in range(8)]
    monkeypatch.setattr(os, "sched_getaffinity", lambda _: set(range(16)))
    assert cpu_slots(4, 4, sysfs) == ["0,8,1,9", "2,10,3,11", "4,12,5,13", "6,14,7,15"]
    assert cpu_slots(2, 1, tmp_path / "none") == ["0", "1"]  # no topology: a CPU each
    alone = _sysfs(tmp_path / "flat", list(range(4)))  # no hyperthreads
    monkeypatch.setattr(os, "sched_getaffinity", lambda _: {0, 1, 2, 3})
    assert cpu_slots(2, 2, alone) == ["0,1", "2,3"]


def test_a_cluster_that_cannot_be_joined_is_one_line_that_says_what_to_do(monkeypatch):
    from dreamvideo.errors import DreamvideoError
    from dreamvideo.render.workers import start_ray

    class Unreachable:
        @staticmethod
        def is_initialized():
            return False

        @staticmethod
        def init(**kwargs):
            raise ConnectionError("Failed to connect to Ray cluster at 10.0.0.9:6379\nmore")

    monkeypatch.delenv("RAY_AUTH_MODE", raising=False)
    with pytest.raises(DreamvideoError) as e:
        start_ray(Unreachable, "10.0.0.9:6379", 2)
    assert "\n" not in str(e.value) and str(e.value).startswith(
        "could not join the Ray cluster at 10.0.0.9:6379: Failed to connect to Ray cluster at 10.0.0.9:6379; "
        "is it running (`ray start --head` there)?")
    assert "RAY_AUTH_MODE=token" in str(e.value)
    monkeypatch.setenv("RAY_AUTH_MODE", "token")  # told already: no advice about it
    with pytest.raises(DreamvideoError, match=r"there\)\?$"):
        start_ray(Unreachable, "10.0.0.9:6379", 2)


def test_workers_get_the_backend_and_the_weights_folder_absolute(tmp_path, monkeypatch):
    """A worker on a cluster does not inherit this environment and runs in a folder of its own."""
    from dreamvideo.config import DreamConfig, OutputConfig, Pipeline, SourceConfig, absolute_paths
    from dreamvideo.render.workers import forwarded_environment

    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.mp4").write_bytes(b"")
    monkeypatch.setenv("DREAMVIDEO_WEIGHTS_DIR", "models")
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    monkeypatch.setenv("DREAMVIDEO_CPUS", "0,1")  # this process's own cores are not a worker's
    env = forwarded_environment()
    assert env["DREAMVIDEO_WEIGHTS_DIR"] == str(tmp_path / "models") and env["KERAS_BACKEND"] == "jax"
    assert "DREAMVIDEO_CPUS" not in env and "PATH" not in env
    (tmp_path / "squeezenet").mkdir()  # a folder named like a model of the registry
    p = absolute_paths(Pipeline("video", SourceConfig("in.mp4"), dream=DreamConfig(guide="missing.jpg"),
                                output=OutputConfig("out/frames")))
    assert p.model.name == "squeezenet"
    assert (p.source.input, p.output.path) == (str(tmp_path / "in.mp4"), str(tmp_path / "out" / "frames"))
    assert p.dream.guide == "missing.jpg"  # not a file here: left for the render's own error


def test_local_workers_run_at_normal_priority():
    """Ray nices its workers to 15; ours are the render (a niced one gave its cores away to
    the driver's encoder)."""
    code = ("import os, ray\n"
            "from dreamvideo.render.workers import start_ray\n"
            "start_ray(ray, None, 1)\n"
            "print(ray.get(ray.remote(lambda: os.nice(0)).options(num_cpus=1).remote()))\n")
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-1000:]
    assert proc.stdout.strip().splitlines()[-1] == str(os.nice(0))


def test_a_ray_session_stops_only_the_ray_it_started(monkeypatch):
    """Whoever starts Ray stops it: at the end, or early in a thread once the workers are
    done (its shutdown then overlaps the output's last frames); a Ray already running (a
    caller's own) is left as it is."""
    import threading

    import dreamvideo.render.workers as workers

    class FakeRay:
        def __init__(self, running):
            self.running, self.stopped_in = running, []

        def is_initialized(self):
            return self.running

        def init(self, **kwargs):
            self.running = True

        def shutdown(self):
            self.stopped_in.append(threading.current_thread().name)

    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    ours = FakeRay(False)
    with workers.ray_session(ours, None, 1):
        assert ours.running and not ours.stopped_in
    assert ours.stopped_in == [threading.current_thread().name]
    early = FakeRay(False)
    with workers.ray_session(early, None, 1) as done:
        done()
        done()  # once is enough
    assert early.stopped_in == ["dreamvideo-ray-stop"]
    theirs = FakeRay(True)
    with pytest.raises(KeyError), workers.ray_session(theirs, None, 1) as done:
        done()
        raise KeyError("the render failed")
    assert theirs.stopped_in == []
