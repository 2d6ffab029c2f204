"""Interrupted renders go on with --resume and give the frames an uninterrupted run gives."""

import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from dreamvideo.cli import main
from tests.conftest import SAMPLES

KILL_SEED = 8  # the kill point is drawn from this, so a failure can be replayed
VIDEO = ["video", "{clip}", "--max-size", "170", "--end", "1.2", "--octaves", "1", "--steps", "2",
         "--later-steps", "1", "--later-octaves", "1", "-q"]
ZOOM = ["zoom", str(SAMPLES / "coffee.jpg"), "--max-size", "160", "--frames", "24", "--layers", "fire3",
        "--octaves", "1", "--steps", "2", "--frame-steps", "1", "--frame-octaves", "1", "--rotate", "20",
        "--interpolate", "2", "-q"]


def _cli(args, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "dreamvideo", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def _frames(folder: Path) -> list[np.ndarray]:
    import imageio.v3 as iio

    return [iio.imread(p) for p in sorted(folder.glob("*.png"))]


EVERY_FRAME = {**os.environ, "DREAMVIDEO_CHECKPOINT_SECONDS": "0"}  # a state (and segment) per frame


def _kept(out: Path) -> int:
    """Frames kept in the work folder: PNG frames, or closed segments of one frame each."""
    work = out.parent / f".{out.name}.dreamvideo-work"
    return max(len(list((work / "frames").glob("0*.png"))), len(list((work / "segments").glob("0*.mkv"))))


def _interrupt_when(out: Path, proc: subprocess.Popen, frames: int, sig: int) -> None:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if _kept(out) >= frames:
            proc.send_signal(sig)
            break
        time.sleep(0.01)
    proc.wait(timeout=240)


@pytest.fixture
def video(media) -> list[str]:
    return [str(media.pan) if a == "{clip}" else a for a in VIDEO]


@pytest.mark.parametrize("kind, frames", [("video", 30), ("video, flow on the device", 10), ("zoom", 24)])
@pytest.mark.usefixtures("squeezenet_weights")
def test_kill_9_then_resume_gives_identical_frames(tmp_path, kind, frames, video):
    """Only the killed render needs a process of its own: the reference and the resume run
    here (the resume knows nothing of the killed run but its work folder, as in a new process)."""
    device = [*video, "--end", "0.4", "--flow", "device"]  # the last --end counts
    command = {"video": video, "video, flow on the device": device, "zoom": ZOOM}[kind]
    reference = tmp_path / "reference"
    assert main([*command, "-o", str(reference)]) == 0
    out = tmp_path / "resumed"
    killed_at = random.Random(f"{KILL_SEED}-{kind}").randint(3, min(18, frames - 4))
    print(f"kill point: after {killed_at} frames (seed {KILL_SEED})")
    proc = _cli([*command, "-o", str(out)])
    _interrupt_when(out, proc, killed_at, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL and not out.exists(), proc.stderr.read()
    assert main([*command, "-o", str(out), "--resume"]) == 0
    a, b = _frames(reference), _frames(out)
    assert len(a) == len(b) == frames
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True)), f"killed after {killed_at} frames"
    assert not (tmp_path / ".resumed.dreamvideo-work").exists()  # removed after success


@pytest.mark.usefixtures("squeezenet_weights")
def test_kill_9_then_resume_an_mp4_made_in_segments(tmp_path, monkeypatch, video):
    """MP4s are encoded in segments that close at each saved state; a resume keeps the
    closed ones and the join loses no frame. The reference and the resume run here."""
    from dreamvideo.media.sources import read_frames

    monkeypatch.setenv("DREAMVIDEO_CHECKPOINT_SECONDS", "0")  # here, as EVERY_FRAME in the killed process
    reference = tmp_path / "reference.mp4"
    assert main([*video, "-o", str(reference)]) == 0
    out = tmp_path / "resumed.mp4"
    killed_at = random.Random(f"{KILL_SEED}-segments").randint(3, 18)
    print(f"kill point: after {killed_at} frames (seed {KILL_SEED})")
    proc = _cli([*video, "-o", str(out)], env=EVERY_FRAME)
    _interrupt_when(out, proc, killed_at, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL and not out.exists(), proc.stderr.read()
    assert main([*video, "-o", str(out), "--resume"]) == 0
    a, b = list(read_frames(reference)), list(read_frames(out))
    assert len(a) == len(b) == 30
    # one segment per frame in both renders: the same dreamed frames give the same bits
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True)), f"killed after {killed_at} frames"


@pytest.mark.usefixtures("squeezenet_weights")
def test_ctrl_c_leaves_a_resumable_state_and_says_how(tmp_path, capsys, video):
    from dreamvideo.media.sources import read_frames

    out = tmp_path / "v.mp4"
    proc = _cli([*video, "-o", str(out)], env=EVERY_FRAME)
    _interrupt_when(out, proc, 5, signal.SIGINT)
    assert proc.returncode == 130
    assert "--resume" in proc.stderr.read() and not out.exists()
    work = tmp_path / ".v.mp4.dreamvideo-work"
    saved = _kept(out)
    assert saved >= 5
    assert main([*video, "-o", str(out), "--resume", "--keep-frames"]) == 0
    segments = sorted((work / "segments").glob("0*.mkv"))  # --keep-frames: the work folder stays
    assert out.is_file() and sum(sum(1 for _ in read_frames(s)) for s in segments) == 30
    # the summary tells restored frames from those dreamed now (s/frame over the latter)
    line = capsys.readouterr().err.strip().splitlines()[-1]
    found = re.fullmatch(rf"wrote {re.escape(str(out))}: 30 frames \((\d+) restored, (\d+) dreamed in this "
                         r"run\), [0-9.]+ s/frame, 1 fully dreamed \(1 start\)", line)
    assert found, line
    restored, dreamed = map(int, found.groups())
    assert restored + dreamed == 30 and restored >= saved - 1


@pytest.mark.usefixtures("squeezenet_weights")
def test_work_folder_rules(tmp_path, capsys):
    out = tmp_path / "z.mp4"
    assert main([*ZOOM, "-o", str(out), "--resume"]) == 2
    assert "nothing to resume" in capsys.readouterr().err
    work = tmp_path / ".z.mp4.dreamvideo-work"
    work.mkdir()
    (work / "config.toml").write_text("command = \"zoom\"\n")
    assert main([*ZOOM, "-o", str(out)]) == 2
    assert "pass --resume to continue it, or --force" in capsys.readouterr().err
    assert main([*ZOOM, "-o", str(out), "--resume"]) == 2
    assert "made with other settings" in capsys.readouterr().err
    assert main([*ZOOM, "-o", str(out), "--force"]) == 0  # starts over
    assert out.is_file() and not work.exists()


@pytest.mark.usefixtures("squeezenet_weights")
def test_disk_full_is_one_line_and_leaves_no_output(tmp_path, capsys, monkeypatch, video):
    import errno

    import dreamvideo.media.recorder
    import dreamvideo.media.workfolder

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(dreamvideo.media.workfolder.iio, "imwrite", full)
    out = tmp_path / "v.gif"  # a GIF keeps its frames as PNGs while it renders
    assert main([*video, "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"dreamvideo: error: cannot save frame 1 in {tmp_path}/.v.gif.dreamvideo-work: "
                   "No space left on device"]
    assert not out.exists()


@pytest.mark.usefixtures("squeezenet_weights")
def test_disk_full_while_saving_the_state_of_an_mp4(tmp_path, capsys, monkeypatch, video):
    import errno

    import dreamvideo.media.recorder
    import dreamvideo.media.workfolder

    saved, real_savez = [], dreamvideo.media.workfolder.np.savez

    def fills_up(file, **arrays):
        if len(saved) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        saved.append(arrays)
        real_savez(file, **arrays)

    monkeypatch.setattr(dreamvideo.media.workfolder.np, "savez", fills_up)
    monkeypatch.setenv("DREAMVIDEO_CHECKPOINT_SECONDS", "0")
    out = tmp_path / "v.mp4"
    assert main([*video, "-o", str(out)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"dreamvideo: error: cannot save the render state in {tmp_path}/.v.mp4.dreamvideo-work: "
        "No space left on device"]
    assert not out.exists() and len(saved) == 2


@pytest.mark.usefixtures("squeezenet_weights")
def test_disk_full_half_way_fails_instead_of_keeping_a_short_video(tmp_path, capsys, monkeypatch, video):
    import errno

    import imageio.v3 as iio

    import dreamvideo.media.recorder
    import dreamvideo.media.workfolder

    written, real_imwrite = [], iio.imwrite

    def fills_up(path, frame, **kwargs):
        if len(written) == 6:
            raise OSError(errno.ENOSPC, "No space left on device")
        written.append(path)
        real_imwrite(path, frame, **kwargs)

    monkeypatch.setattr(dreamvideo.media.workfolder.iio, "imwrite", fills_up)
    out = tmp_path / "v.gif"
    assert main([*video, "-o", str(out)]) == 2
    assert "cannot save frame 7" in capsys.readouterr().err and not out.exists()
