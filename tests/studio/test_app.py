"""The studio's JSON API, driven as a script would drive it (FastAPI's TestClient, a real
app over a real workspace): controls from the config, uploads, previews streamed octave by
octave, export that re-renders the preview pixel for pixel, and the guards."""

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
    shown = iio.imread(io.BytesIO(__import__("base64").b64decode(events[-1]["image"].split(",", 1)[1])))
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
