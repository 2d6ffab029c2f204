"""Scale-out on Ray (issue 12): shots as Ray tasks on a local 2-CPU Ray, the same frames
as one process, faults and Ctrl-C."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from dreamvideo.api.presets import render
from dreamvideo.config import DreamConfig, OutputConfig, Pipeline, RenderConfig, SourceConfig, TemporalConfig
from dreamvideo.errors import RenderInterrupted
from dreamvideo.media.sources import probe, read_frames
from dreamvideo.media.writers import frame_file
from dreamvideo.render.assembly import assembled
from dreamvideo.render.loop import Run
from dreamvideo.temporal.shots import Piece, blend_weight, find_shots, plan_pieces, shots_from_cuts
from tests.conftest import ROOT

FAST = ["--octaves", "1", "--steps", "2", "--later-steps", "1", "--later-octaves", "1", "--seed", "1", "-q"]
ONE_THREAD = {"OMP_NUM_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}


def test_shots_and_pieces():
    assert shots_from_cuts([10, 20, 20, 0, 45], 40) == ((0, 10), (10, 20), (20, 40))
    pieces = plan_pieces(((0, 10), (10, 60)), fps=10, chunk=2.0, overlap=4)
    assert pieces == [Piece(0, 10), Piece(10, 27), Piece(27, 43, 4), Piece(43, 60, 4)]
    assert pieces[2].first == 23 and blend_weight(0, 4) == 0.2 and blend_weight(3, 4) == 0.8
    assert plan_pieces(((0, 5),), 10, 2.0, 30) == [Piece(0, 5)]
    from dreamvideo.render.scaled import pieces_of

    shots = ((0, 10), (10, 60))  # one worker has nobody to share a long shot with: no chunks
    one = pieces_of(RenderConfig(workers=1, chunk=2.0, overlap=4), shots, 10)
    assert one == [Piece(0, 10), Piece(10, 60)]
    assert pieces_of(RenderConfig(workers=2, chunk=2.0, overlap=4), shots, 10) == pieces


def test_assembly_cross_fades_the_warm_frames(tmp_path):
    pieces = [Piece(0, 6), Piece(6, 10, 2)]
    for piece, value in zip(pieces, (100, 200), strict=True):
        (tmp_path / piece.name).mkdir()
        for i in range(piece.first, piece.end):
            cv2.imwrite(str(tmp_path / piece.name / frame_file(i)), np.full((4, 4, 3), value, np.uint8))
    frames = [int(f[0, 0, 0]) for f in assembled(pieces, tmp_path)]
    assert frames == [100, 100, 100, 100, round(100 + 100 / 3), round(100 + 200 / 3), 200, 200, 200, 200]


def test_shots_are_found_by_the_renders_own_rule(media):
    from dreamvideo.media.sources import read_frames as frames_of

    assert find_shots(frames_of(media.shots), TemporalConfig()) == ((0, 10), (10, 20), (20, 30), (30, 40))
    assert find_shots(frames_of(media.fade(True)), TemporalConfig()) == ((0, 72),)  # a fade is one shot


@pytest.fixture(scope="module")
def local_ray():
    import ray

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
             object_store_memory=100 * 2**20)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def single(tmp_path_factory, media, squeezenet_weights):
    """The one-process render of the 4-shot clip (PNG frames), made once for the module."""
    out = tmp_path_factory.mktemp("single") / "frames"
    _single(media.shots, out)
    return _pngs(out)


def _single(clip, out, *extra):
    """The same render in one process, with the threads a worker has (numerics on a CPU
    depend on the thread count)."""
    env = {**os.environ, **ONE_THREAD}
    proc = subprocess.run([sys.executable, "-m", "dreamvideo", "video", str(clip), "-o", str(out), *FAST,
                           "--flow-workers", "1", "--force", *extra], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]


def _pngs(folder):
    return [cv2.imread(str(p)) for p in sorted(Path(folder).glob("*.png"))]


def _pipeline(clip, out, **render):
    return Pipeline("video", SourceConfig(str(clip)), dream=DreamConfig(octaves=1, steps=2, seed=1),
                    temporal=TemporalConfig(later_steps=1, later_octaves=1),
                    render=RenderConfig(**{"workers": 2, **render}), output=OutputConfig(str(out)))


def test_two_workers_make_the_frames_of_one_process(tmp_path, media, local_ray, single, caplog):
    """An MP4 from two workers: every frame, the rate, the audio once and as long as the
    picture, the shots recorded, its frames decoded those of a one-process MP4; re-rendered
    from it (`run --from`, PNG frames): the frames of the one-process render, bit for bit."""
    from dreamvideo.cli import main
    from dreamvideo.media.provenance import read_config

    report = render(_pipeline(media.shots, tmp_path / "spread.mp4"))
    # each worker has 1 of the 2 cores: said once, as a plain render with all cores differs
    assert [r.getMessage() for r in caplog.records if "differ slightly" in r.getMessage()] == [
        "on the CPU each worker computes with 1 of the 2 cores, so its float sums, and the frames, differ "
        "slightly from a one-process render's"]
    info = probe(tmp_path / "spread.mp4")
    assert report.frames == 40 and report.scene_cuts == 3
    assert report.workers == 2 and 0.1 < report.busy <= 1  # the seconds the workers said they dreamed
    assert sum(1 for _ in read_frames(tmp_path / "spread.mp4")) == 40
    assert info.fps == 12 and info.has_audio and info.duration == pytest.approx(40 / 12, abs=0.1)
    assert "shots = [[0, 10], [10, 20], [20, 30], [30, 40]]" in read_config(tmp_path / "spread.mp4")
    _single(media.shots, tmp_path / "one.mp4")  # encoded in the same segments: the same decoded frames
    assert all(np.array_equal(a, b) for a, b in zip(read_frames(tmp_path / "one.mp4"),
                                                    read_frames(tmp_path / "spread.mp4"), strict=True))
    assert main(["run", "--from", str(tmp_path / "spread.mp4"), "-o", str(tmp_path / "again"), "-q"]) == 0
    spread = _pngs(tmp_path / "again")
    assert len(single) == len(spread) == 40
    assert all(np.array_equal(a, b) for a, b in zip(single, spread, strict=True))


def test_a_killed_worker_is_retried_and_the_output_is_the_same(tmp_path, media, local_ray, single):
    """kill -9 of a worker process in the middle of a shot: Ray runs the shot again."""
    out = tmp_path / "spread"
    work = out.parent / f".{out.name}.dreamvideo-work" / "shots"
    killed = []

    def killer():
        deadline = time.time() + 120
        while time.time() < deadline and not killed:
            for folder in sorted(work.glob("*")) if work.is_dir() else []:
                started = (folder / "pid").is_file() and any(folder.glob("*.png"))
                if started and not (folder / "done").exists():
                    pid = int((folder / "pid").read_text())
                    cores = os.sched_getaffinity(pid)
                    os.kill(pid, signal.SIGKILL)
                    killed.append((folder.name, pid, cores))
                    return
            time.sleep(0.02)

    thread = threading.Thread(target=killer)
    thread.start()
    render(_pipeline(media.shots, out, workers=2))
    thread.join()
    assert killed, "no worker was caught in the middle of a shot"
    assert len(killed[0][2]) == 1  # 2 workers on 2 CPUs: each kept to a core of its own
    assert len(_pngs(out)) == 40
    assert all(np.array_equal(a, b) for a, b in zip(single, _pngs(out), strict=True))


def test_ctrl_c_stops_and_resume_renders_only_the_rest(tmp_path, media, local_ray):
    out = tmp_path / "spread"
    work = out.parent / f".{out.name}.dreamvideo-work" / "shots"

    def stop_after_a_shot(done, total):
        if any(work.glob("*/done")):
            raise KeyboardInterrupt

    with pytest.raises(RenderInterrupted, match="--resume"):  # 2 workers: the 4 shots are 4 pieces
        render(_pipeline(media.shots, out, workers=2), Run(progress=stop_after_a_shot))
    finished = {p.parent.name: p.stat().st_mtime_ns for p in work.glob("*/done")}
    assert 1 <= len(finished) < 4 and not out.exists()
    report = render(_pipeline(media.shots, out, workers=2), Run(resume=True))
    assert report.frames == 40 and report.restored == sum(int(n[8:]) - int(n[:7]) for n in finished)
    assert len(_pngs(out)) == 40


@pytest.mark.usefixtures("squeezenet_weights")
def test_batch_reports_a_bad_input_and_renders_the_rest(tmp_path, local_ray):
    from dreamvideo.api.batch import run_batch
    from dreamvideo.config import RenderConfig
    from tests.conftest import SAMPLES

    bad = tmp_path / "broken.jpg"
    bad.write_text("not an image")
    items = run_batch("still-preview", [str(SAMPLES / "chelsea.jpg"), str(bad), str(SAMPLES / "coffee.jpg")],
                      tmp_path / "out", sets=["source.max_size=160", "dream.steps=2"],
                      scale=RenderConfig(workers=2))
    assert [i.error is None for i in items] == [True, False, True], items
    assert "broken.jpg" in items[1].error and (tmp_path / "out" / "coffee.png").is_file()
    assert not (tmp_path / "out" / "broken.png").exists()


@pytest.mark.parametrize("clip, every", [("shots", 1), ("shots", 2), ("odd_fps", 1)])
def test_a_piece_decodes_the_very_frames_of_the_whole(media, clip, every):
    """A worker seeks to its first frame: the frames must be those a render of the whole
    video has at those indices (H.264 at 12 fps, every other frame, 10.51 fps)."""
    from dreamvideo.render.chain import Footage, read

    path = getattr(media, clip)
    footage = Footage.open(SourceConfig(str(path), max_size=160, every=every))
    whole = list(read(footage))
    for first in (1, 5, len(whole) // 2, len(whole) - 2):
        part = list(read(footage, first))
        assert len(part) == len(whole) - first
        assert all(np.array_equal(a, b) for a, b in zip(part, whole[first:], strict=True)), first


def test_ray_only_when_asked_for_and_a_missing_ray_is_one_line(tmp_path):
    code = ("import sys; sys.modules['ray'] = None  # as if not installed\n"
            "from dreamvideo.cli import main\n"
            "import dreamvideo.api.presets, dreamvideo.api.batch\n"
            "assert 'ray' not in [m for m in sys.modules if sys.modules[m] is not None]\n"
            f"sys.exit(main(['video', {str(ROOT / 'samples/inputs/coffee-pan.mp4')!r}, '-o', "
            f"{str(tmp_path / 'x.mp4')!r}, '--workers', '2']))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("dreamvideo: error: --workers renders on Ray, which is not installed "
                                   'here: pip install "dreamvideo[ray]"')


@pytest.mark.usefixtures("squeezenet_weights")
def test_ray_keeps_its_own_notes_to_itself(tmp_path):
    """Ray warns about token authentication (a token in the environment) and more on its
    own loggers; the render shows its own lines only, unless -v."""
    env = {**os.environ, "RAY_AUTH_TOKEN": "0123456789abcdef0123456789abcdef"}
    clip = ROOT / "samples/inputs/coffee-pan.mp4"
    out = tmp_path / "w.mp4"
    args = ["video", str(clip), "-o", str(out), "--end", "0.3", "--max-size", "200", "--layers", "fire3",
            *FAST]
    proc = subprocess.run([sys.executable, "-m", "dreamvideo", *args, "--workers", "1"], env=env,
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"wrote {out}: "), proc.stderr


def test_a_cluster_is_joined_and_its_workers_find_the_files_named_here(tmp_path, media, squeezenet_weights,
                                                                        single):
    """`ray start --head` in a folder of its own, knowing nothing of the weights (another
    machine's workers would not either): `--ray-address` joins it; the input, the output and
    the weights' folder, given relative to the driver's folder, are found by its workers; the
    frames are those of one process."""
    import shutil
    import socket
    import tempfile

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (tmp_path / "head").mkdir()
    (tmp_path / "here").mkdir()
    shutil.copy(media.shots, tmp_path / "here" / "shots.mp4")
    elsewhere = {k: v for k, v in os.environ.items() if not k.startswith(("DREAMVIDEO_", "RAY_"))}
    elsewhere["KERAS_HOME"] = str(tmp_path / "head")  # no weights in its Keras cache either
    ray_cli = Path(sys.executable).parent / "ray"
    sessions = tempfile.mkdtemp(prefix="ray")  # short: Ray's socket paths must fit in 107 bytes
    head = subprocess.Popen([str(ray_cli), "start", "--head", "--block", f"--port={port}", "--num-cpus=2",
                             "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={sessions}"],
                            cwd=tmp_path / "head",
                            env=elsewhere, start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        started = time.monotonic()
        for line in head.stdout:
            if "Ray runtime started" in line or time.monotonic() - started > 60:
                break
        weights = os.path.relpath(squeezenet_weights.parent, tmp_path / "here")
        env = {**os.environ, **ONE_THREAD, "DREAMVIDEO_WEIGHTS_DIR": weights, "RAY_AUTH_MODE": "token"}
        env.pop("RAY_ADDRESS", None)
        proc = subprocess.run([sys.executable, "-m", "dreamvideo", "video", "shots.mp4", "-o", "out", *FAST,
                               "--flow-workers", "1", "--workers", "2", "--ray-address", f"127.0.0.1:{port}"],
                              cwd=tmp_path / "here", env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "2 workers" in proc.stderr
    finally:
        os.killpg(head.pid, signal.SIGKILL)  # the head and the processes it started, at once
        head.wait(timeout=30)
        shutil.rmtree(sessions, ignore_errors=True)
    spread = _pngs(tmp_path / "here" / "out")
    assert len(spread) == len(single) == 40
    assert all(np.array_equal(a, b) for a, b in zip(single, spread, strict=True))


def _affinity(config, force, threads):
    """A stand-in for a batch item's render: where it ran."""
    import os

    from dreamvideo.api.batch import BatchItem
    from dreamvideo.core.process import pin_cpus

    pin_cpus()
    return BatchItem(config, str(sorted(os.sched_getaffinity(0))), frames=threads)


def test_batch_items_run_one_per_worker_on_cores_of_their_own(local_ray):
    from dreamvideo.api.batch import Dispatch, _gather
    from dreamvideo.render.workers import slot_options

    threads, options = slot_options(local_ray, 2, None)
    configs = [f"item {i}" for i in range(5)]
    items = _gather(local_ray, Dispatch(local_ray.remote(_affinity), options, threads, False), configs,
                    [Pipeline("still", SourceConfig(c)) for c in configs], None)
    assert [i.input for i in items] == configs and {i.frames for i in items} == {1}
    assert {i.output for i in items} == {str([c]) for c in sorted(os.sched_getaffinity(0))[:2]}


@pytest.mark.usefixtures("squeezenet_weights")
def test_one_worker_stopped_mid_range_goes_on_from_its_last_cut(tmp_path, media, local_ray):
    """One worker dreams the whole range as one piece (no pre-pass over the flow: its chain
    restarts at the cuts itself, and counts them); stopped after a cut, --resume keeps the
    frames before it and the output is that of a render never stopped."""
    from dreamvideo.media.provenance import read_config

    whole = render(_pipeline(media.shots, tmp_path / "whole", workers=1))
    assert whole.frames == 40 and whole.scene_cuts == 3
    assert "shots = [[0, 40]]" in read_config(tmp_path / "whole")
    out = tmp_path / "stopped"
    piece = out.parent / f".{out.name}.dreamvideo-work" / "shots" / "0000000-0000040"

    def stop_after_a_cut(done, total):
        if (piece / "restarts").is_file() and (piece / "restarts").read_text().strip():
            raise KeyboardInterrupt

    with pytest.raises(RenderInterrupted, match="--resume"):
        render(_pipeline(media.shots, out, workers=1), Run(progress=stop_after_a_cut))
    assert not (piece / "done").exists(), "the piece finished before it could be stopped"
    report = render(_pipeline(media.shots, out, workers=1), Run(resume=True))
    assert report.restored in (10, 20, 30) and report.frames == 40 and report.scene_cuts == 3
    assert all(np.array_equal(a, b) for a, b in zip(_pngs(tmp_path / "whole"), _pngs(out), strict=True))
