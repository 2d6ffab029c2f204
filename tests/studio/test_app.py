"""The studio's JSON API, driven as a script would drive it (FastAPI's TestClient, a real
app over a real workspace): controls from the config, uploads, previews streamed octave by
octave, export that re-renders the preview pixel for pixel, and the guards."""

import base64
import io
import json
import subprocess
import sys

import imageio.v3 as iio
import numpy as np
import pytest

pytest.importorskip("fastapi", reason='the studio needs pip install "dreamvideo[studio]"')
from fastapi.testclient import TestClient

from dreamvideo.cli.commandline import command_line
from dreamvideo.cli.parser import build_parser
from dreamvideo.config import SECTIONS
from dreamvideo.studio.app import create_app
from dreamvideo.studio.controls import controls
from tests.conftest import ROOT, SAMPLES

FAST = {"source.max_size": "160", "dream.steps": "3", "dream.seed": "2", "dream.layers": "fire4"}


def _client(tmp_path, **kwargs) -> TestClient:
    parser = build_parser()
    app = create_app(tmp_path / "workspace", command_line=lambda p: command_line(p, parser)[0], **kwargs)
    return TestClient(app)


def _upload(client, path=SAMPLES / "chelsea.jpg", name=None) -> dict:
    with open(path, "rb") as f:
        response = client.post("/api/source", files={"file": (name or path.name, f)})
    assert response.status_code == 200, response.text
    return response.json()


def _image(data_url: str) -> np.ndarray:
    """A ``data:image/png;base64,...`` URL's picture."""
    return iio.imread(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1])))


def _events(client, preview_id) -> list[dict]:
    with client.stream("GET", f"/api/preview/{preview_id}/events") as response:
        text = "".join(response.iter_text())
    return [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")]


def test_controls_are_the_config_fields():
    names = {c["name"] for c in controls()}
    assert {"model.name", "dream.layers", "dream.steps", "dream.step_size", "dream.octaves",
            "source.max_size"} <= names
    assert all(n.split(".")[1] in {f for f in SECTIONS[n.split(".")[0]].__dataclass_fields__} for n in names)
    steps = next(c for c in controls() if c["name"] == "dream.steps")
    assert steps["help"].startswith("gradient steps per octave") and steps["min"] == 1
    assert next(c for c in controls() if c["name"] == "source.max_size")["value"] == "480"  # the preview size


def test_bad_uploads_are_one_line_and_leave_nothing(tmp_path):
    client = _client(tmp_path, max_upload=1000)
    for name, content, status, said in (
            ("empty.png", b"", 400, "empty.png is empty"),
            ("corrupt.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, 400, "cannot read corrupt.png"),
            ("notes.txt", b"plain words, not a picture", 400, "cannot read notes.txt"),
            ("big.png", b"x" * 2000, 413, "big.png is over the studio's upload limit (1000 bytes)")):
        response = client.post("/api/source", files={"file": (name, io.BytesIO(content))})
        detail = response.json()["detail"]
        assert response.status_code == status and detail.startswith(said) and "\n" not in detail, detail
    assert list((tmp_path / "workspace" / "uploads").iterdir()) == []
    assert client.get("/api/status").status_code == 200  # still serving


def test_files_only_from_the_workspace(tmp_path):
    client = _client(tmp_path)
    for source in ("../../etc/passwd", "/etc/passwd", "..%2F..%2Fetc%2Fpasswd", "nothing.png"):
        response = client.post("/api/preview", json={"page": "p", "source": source})
        assert response.status_code == 404, source
    (tmp_path / "workspace" / "uploads" / "link.png").symlink_to("/etc/passwd")
    assert client.post("/api/preview", json={"page": "p", "source": "link.png"}).status_code == 404
    for path in ("/static/..%2F..%2Fapp.py", "/static/../app.py", "/static/nothing.js"):
        assert client.get(path).status_code == 404, path


def test_a_token_off_loopback_and_same_origin_writes(tmp_path):
    client = _client(tmp_path, token="s3cret")
    assert client.get("/api/status").status_code == 401
    assert client.get("/api/status?token=s3cret").status_code == 200
    assert client.get("/api/status", headers={"Authorization": "token s3cret"}).status_code == 200
    assert client.get("/").status_code == 200  # the page itself carries no data
    open_client = _client(tmp_path)
    response = open_client.post("/api/export", json={}, headers={"Origin": "http://evil.example"})
    assert response.status_code == 403
    own = open_client.post("/api/export", json={}, headers={"Origin": "http://testserver"})
    assert own.status_code == 200


def test_a_bad_setting_is_the_clis_line(tmp_path):
    client = _client(tmp_path)
    made = _upload(client)
    response = client.post("/api/preview", json={"page": "p", "source": made["id"],
                                                 "settings": {"dream.steps": "many"}})
    assert response.status_code == 400
    assert response.json()["detail"] == "dream.steps (--steps): expected an integer, got 'many'"


@pytest.mark.usefixtures("squeezenet_weights")
def test_a_preview_streams_its_octaves_and_exports_what_renders_it_again(tmp_path):
    client = _client(tmp_path)
    made = _upload(client)
    assert made["width"] == 451 and made["image"].startswith("data:image/png;base64,")
    preview = client.post("/api/preview", json={"page": "p", "source": made["id"], "settings": FAST}).json()
    events = _events(client, preview["id"])
    kinds = [e["event"] for e in events]
    assert kinds[-1] == "done" and kinds.count("octave") == events[0]["octaves"] >= 2
    shown = _image(events[-1]["image"])
    assert shown.shape == (106, 160, 3)
    exported = client.post("/api/export", json={"source": made["id"], "settings": FAST}).json()
    preset = tmp_path / "look.toml"
    preset.write_text(exported["toml"])
    assert "--max-size 160" in exported["command"] and "--steps 3" in exported["command"]
    out = tmp_path / "again.png"
    proc = subprocess.run([sys.executable, "-m", "dreamvideo", "run", str(preset), "-o", str(out), "-q"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert np.array_equal(iio.imread(out)[..., :3], shown)  # the preview, pixel for pixel
    plain = iio.imread(SAMPLES / "chelsea.jpg")
    assert not np.array_equal(shown, plain[:106, :160])


@pytest.mark.usefixtures("squeezenet_weights")
def test_a_newer_preview_cancels_the_older_and_two_pages_get_their_own(tmp_path):
    client = _client(tmp_path)
    made = _upload(client)
    slow = {**FAST, "dream.steps": "40", "source.max_size": "300"}
    first = client.post("/api/preview", json={"page": "a", "source": made["id"], "settings": slow}).json()
    second = client.post("/api/preview", json={"page": "a", "source": made["id"], "settings": FAST}).json()
    other = client.post("/api/preview", json={"page": "b", "source": made["id"], "settings": FAST}).json()
    assert _events(client, first["id"])[-1]["event"] == "cancelled"
    assert _events(client, second["id"])[-1]["event"] == "done"
    assert _events(client, other["id"])[-1]["event"] == "done"


def test_settings_come_back_from_an_output(tmp_path):
    client = _client(tmp_path)
    outputs = ROOT / "samples" / "outputs"
    with open(outputs / "chelsea-dream.jpg", "rb") as f:
        made = client.post("/api/restore", files={"file": ("chelsea-dream.jpg", f)}).json()
    values = {c["name"]: c["value"] for c in made["controls"]}
    assert made["command"] == "still"
    assert values["dream.seed"] == "0" and values["model.backend"] == "tensorflow"
    with open(outputs / "coffee-pan-dream.mp4", "rb") as f:
        assert client.post("/api/restore", files={"file": ("dream.mp4", f)}).json()["command"] == "video"
    with open(SAMPLES / "chelsea.jpg", "rb") as f:
        response = client.post("/api/restore", files={"file": ("chelsea.jpg", f)})
    assert response.status_code == 400
    assert response.json()["detail"] == ("chelsea.jpg carries no dreamvideo configuration (was it made by "
                                         "dreamvideo?)")
    assert list((tmp_path / "workspace" / "uploads").iterdir()) == []


def test_a_video_gives_its_frames_at_the_time_asked(tmp_path, media):
    from dreamvideo.media.sources import read_frames

    client = _client(tmp_path)
    made = _upload(client, media.pan)
    assert made["video"]["duration"] > 1 and made["video"]["fps"] > 0
    frames = list(read_frames(media.pan))
    later = client.post("/api/frame", json={"video": made["video"]["id"], "time": 1.0}).json()
    kept = iio.imread(tmp_path / "workspace" / "uploads" / later["id"])
    index = round(1.0 * made["video"]["fps"])
    assert np.array_equal(kept, frames[index]) and not np.array_equal(kept, frames[0])
    first = iio.imread(tmp_path / "workspace" / "uploads" / made["id"])
    assert np.array_equal(first, frames[0])
    assert client.post("/api/frame", json={"video": "../x.mp4", "time": 0}).status_code == 404


@pytest.mark.usefixtures("squeezenet_weights")
def test_an_x_y_grid_is_one_sheet_each_cell_labelled_with_its_own_values(tmp_path):
    from dreamvideo.render.gallery import LABEL_HEIGHT, label_cell

    client = _client(tmp_path)
    made = _upload(client)
    request = {"page": "p", "source": made["id"], "settings": {**FAST, "dream.steps": "2"},
               "x": {"name": "dream.step_size", "values": ["0.004", "0.012"]},
               "y": {"name": "dream.layers", "values": ["fire3", "fire5=1,fire7=1.5"]}}
    grid = client.post("/api/grid", json=request).json()
    events = _events(client, grid["id"])
    assert [e["event"] for e in events] == ["cell"] * 4 + ["done"]
    cells = [_image(e["image"]) for e in events[:4]]
    sheet = _image(events[-1]["image"])
    height, width = cells[0].shape[:2]
    assert sheet.shape[0] > 2 * height and sheet.shape[1] > 2 * width  # 2 x 2, with gaps
    assert all(not np.array_equal(a, b) for i, a in enumerate(cells) for b in cells[i + 1:])
    values = [(x, y) for y in ("fire3", "fire5=1,fire7=1.5") for x in ("0.004", "0.012")]  # row by row
    assert [e["label"] for e in events[:4]] == [f"step_size={x}, layers={y}" for x, y in values]
    strips = 2 * LABEL_HEIGHT  # under each dream: a strip with its X value, then one with its Y value
    for cell, (x, y) in zip(cells, values, strict=True):
        blank = np.zeros((height - strips, width, 3), np.uint8)
        drawn = label_cell(label_cell(blank, f"step_size={x}"), f"layers={y}")
        assert np.array_equal(cell[-strips:], drawn[-strips:]), (x, y)
    bad = client.post("/api/grid", json={**request, "x": {"name": "dream.steps", "values": ["0"]}})
    assert bad.status_code == 400 and bad.json()["detail"].startswith("dream.steps (--steps) must be")
    empty = client.post("/api/grid", json={**request, "x": {"name": "dream.steps", "values": []}})
    assert empty.status_code == 400


def _wait(client, job_id, states=("done", "failed", "interrupted"), timeout=240.0) -> dict:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = next(j for j in client.get("/api/jobs").json() if j["id"] == job_id)
        if job["state"] in states:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} is still {job['state']}")


VIDEO = {"source.max_size": "128", "source.end": "1", "dream.layers": "fire3", "dream.octaves": "1",
         "dream.steps": "2", "temporal.later_steps": "1", "temporal.later_octaves": "1", "dream.seed": "4"}


@pytest.mark.usefixtures("squeezenet_weights")
def test_renders_run_in_the_background_and_their_files_are_served(tmp_path, media):
    from dreamvideo.media.provenance import read_config
    from dreamvideo.media.sources import count_frames, probe

    client = _client(tmp_path)
    still = _upload(client)
    job = client.post("/api/render", json={"command": "still", "source": still["id"],
                                           "settings": FAST}).json()
    done = _wait(client, job["id"])
    assert done["state"] == "done", done
    served = client.get(f"/api/files/{done['output']}")
    assert served.status_code == 200 and iio.imread(io.BytesIO(served.content)).shape == (106, 160, 3)
    video = _upload(client, media.pan)
    job = client.post("/api/render", json={"command": "video", "source": video["video"]["id"],
                                           "settings": VIDEO}).json()
    done = _wait(client, job["id"])
    assert done["state"] == "done" and done["done"] == done["total"], done
    out = tmp_path / "workspace" / "outputs" / done["output"]
    info = probe(out)
    assert count_frames(out) == round(float(info.fps))
    assert 'command = "video"' in read_config(out)
    bad = client.post("/api/render", json={"command": "video", "source": video["video"]["id"],
                                           "settings": {"dream.steps": "many"}})
    assert bad.status_code == 400 and bad.json()["detail"].startswith("dream.steps (--steps)")
    assert client.get("/api/files/..%2Fjobs").status_code == 404
    assert client.get("/api/files/nothing.mp4").status_code == 404


@pytest.mark.usefixtures("squeezenet_weights")
def test_a_job_cut_short_by_a_restart_is_listed_interrupted_and_resumes(tmp_path, media):
    import time

    client = _client(tmp_path)
    video = _upload(client, media.pan)
    slow = {**VIDEO, "source.end": "3", "dream.steps": "6", "temporal.later_steps": "4"}
    job = client.post("/api/render", json={"command": "video", "source": video["video"]["id"],
                                           "settings": slow}).json()
    while next(j for j in client.get("/api/jobs").json() if j["id"] == job["id"])["done"] < 30:
        time.sleep(0.05)
    client.post(f"/api/jobs/{job['id']}/cancel")  # it stops at its next frame, its state saved
    _wait(client, job["id"], ("interrupted",))
    saved = tmp_path / "workspace" / "jobs" / f"{job['id']}.json"
    saved.write_text(saved.read_text().replace('"interrupted"', '"running"'))  # as a killed server leaves it
    again = _client(tmp_path)  # a new server over the same workspace
    listed = next(j for j in again.get("/api/jobs").json() if j["id"] == job["id"])
    assert listed["state"] == "interrupted"
    assert again.post(f"/api/jobs/{job['id']}/resume").json()["state"] == "queued"
    done = _wait(again, job["id"])
    assert done["state"] == "done" and done["done"] == done["total"], done


def test_the_page_starts_with_the_input_given(tmp_path, capsys):
    from dreamvideo.cli import main

    client = _client(tmp_path, source=str(SAMPLES / "chelsea.jpg"))
    start = client.get("/api/status").json()["source"]
    assert start["name"] == "chelsea.jpg" and (tmp_path / "workspace" / "uploads" / start["id"]).is_file()
    assert [p.name for p in (tmp_path / "workspace" / "uploads").iterdir()] == [start["id"]]
    assert main(["studio", str(tmp_path / "nothing.png"), "--no-browser", "--workspace", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == f"dreamvideo: error: {tmp_path / 'nothing.png'} does not exist"


@pytest.mark.usefixtures("squeezenet_weights")
def test_a_running_render_shows_its_latest_frame(tmp_path, media):
    client = _client(tmp_path)
    video = _upload(client, media.pan)
    job = client.post("/api/render", json={"command": "video", "source": video["video"]["id"],
                                           "settings": VIDEO}).json()
    assert client.get(f"/api/jobs/{job['id']}/latest").status_code in (200, 404)  # none yet, or one
    done = _wait(client, job["id"])
    assert done["state"] == "done" and done["shown"] >= 1
    frame = client.get(f"/api/jobs/{job['id']}/latest")
    assert frame.status_code == 200 and frame.headers["content-type"] == "image/png"
    assert iio.imread(io.BytesIO(frame.content)).shape[1] == 128  # a frame of the render (128 px wide)


class ResourceExhaustedError(Exception):
    """Named as TensorFlow's out-of-memory error is (the studio knows it by name)."""


def test_a_render_out_of_memory_or_out_of_disk_fails_in_one_line_and_leaves_nothing(tmp_path, monkeypatch):
    import errno
    import shutil
    from pathlib import Path

    from dreamvideo.studio import jobs

    client = _client(tmp_path)
    studio = client.app.state.studio
    monkeypatch.setattr(studio.engines, "get", lambda model: None)  # the network is not needed
    errors = iter([MemoryError(), ResourceExhaustedError("OOM when allocating tensor\nwith shape [1,64]"),
                   RuntimeError("XlaRuntimeError: RESOURCE_EXHAUSTED: out of memory allocating 2 GiB"),
                   OSError(errno.ENOSPC, "No space left on device"), None])

    def render(pipeline, run=None):
        """Halfway through, as a render is: its work folder of frames, its output's temporary file."""
        out = Path(pipeline.output.path)
        work = out.parent / f".{out.name}.dreamvideo-work"
        (work / "frames").mkdir(parents=True)
        (work / "frames" / "000001.png").write_bytes(b"a frame")
        partial = out.parent / f".{out.stem}.x1y2.partial{out.suffix}"
        partial.write_bytes(b"half a file")
        error = next(errors)
        if error is not None:
            raise error
        partial.rename(out)
        shutil.rmtree(work)
        return out

    monkeypatch.setattr(jobs, "render", render)
    source = _upload(client)["id"]
    outputs = tmp_path / "workspace" / "outputs"
    memory = ("out of memory: lower source.max_size (--max-size) or dream.tile_size (--tile-size), "
              "then try again")
    for said in (memory, memory, memory, f"the disk is full (writing {outputs}): free some space there, "
                                         "then try again"):
        job = client.post("/api/render", json={"command": "still", "source": source, "settings": FAST}).json()
        failed = _wait(client, job["id"], timeout=30)
        assert failed["state"] == "failed" and failed["error"] == said, failed
        assert list(outputs.iterdir()) == []  # nothing half-written is left
        saved = json.loads((tmp_path / "workspace" / "jobs" / f"{job['id']}.json").read_text())
        assert saved["state"] == "failed" and saved["error"] == said
    assert client.get("/api/status").status_code == 200  # the server goes on
    job = client.post("/api/render", json={"command": "still", "source": source, "settings": FAST}).json()
    assert _wait(client, job["id"], timeout=30)["state"] == "done"  # and so does the queue
    assert [p.name for p in outputs.iterdir()] == [job["output"]]


def test_a_job_whose_file_cannot_be_written_still_runs(tmp_path, monkeypatch):
    from dreamvideo.studio import jobs

    client = _client(tmp_path)
    studio = client.app.state.studio
    monkeypatch.setattr(studio.engines, "get", lambda model: None)
    monkeypatch.setattr(jobs, "render", lambda pipeline, run=None: None)
    (tmp_path / "full").write_bytes(b"")
    studio.jobs.folder = tmp_path / "full"  # writing a job's file there fails, as on a full disk
    source = _upload(client)["id"]
    job = client.post("/api/render", json={"command": "still", "source": source, "settings": FAST})
    assert job.status_code == 200, job.text
    assert _wait(client, job.json()["id"], timeout=30)["state"] == "done"
    assert list(tmp_path.glob("full*")) == [tmp_path / "full"]
