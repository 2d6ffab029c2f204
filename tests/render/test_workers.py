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
    from dreamvideo.render.workers import gpus_hidden

    four = [set(s.split(",")) for s in cpu_slots(4, 4)]
    assert all(len(s) == min(4, len(cores)) for s in four)
    if len(cores) >= 16:
        assert set.union(*four) == {str(c) for c in cores[:16]}
    code = ("import os; from dreamvideo.render.workers import pin_cpus; pin_cpus(); "
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
