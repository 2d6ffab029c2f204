"""The studio's speed, as a user meets it: a real ``dreamvideo studio`` process, driven over
HTTP. Prints one JSON line of figures (seconds, bytes, MB).

    python -m tests.benchmarks.studio_speed [--previews 100] [--size 480]

- served: from the command's start until the page answers;
- ready: until the network is loaded (the page says "loading" meanwhile);
- first octave / done: from the preview's request to its first octave's picture and to the
  end, against ``dream_array`` on a warm engine in this process at the same size and settings
  (the best of five);
- restart: from a changed setting's request until the new preview's first octave (the older
  one gives way within a few steps);
- page bytes: the page's own files;
- memory: the server's resident memory before and after ``--previews`` previews in a row.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CAT = ROOT / "samples" / "inputs" / "chelsea.jpg"
REPEATS = 5  # previews and dreams timed; the best of each is reported (other work only adds time)


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=120) as response:
        return response.read()


def _post(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def _upload(url: str, path: Path) -> dict:
    boundary = "dreamvideo-benchmark"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{path.name}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode() + path.read_bytes() + \
        f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(url, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def _events(url: str) -> list[tuple[float, dict]]:
    """(seconds since the call, event) of a preview's stream, to its end."""
    started, out = time.perf_counter(), []
    with urllib.request.urlopen(url, timeout=300) as response:
        for raw in response:
            line = raw.decode().strip()
            if line.startswith("data: "):
                event = json.loads(line[6:])
                out.append((time.perf_counter() - started, event))
                if event["event"] in ("done", "error", "cancelled"):
                    return out
    return out


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _preview(base: str, source: str, settings: dict, page: str = "bench") -> tuple[float, list]:
    asked = time.perf_counter()
    made = _post(f"{base}/api/preview", {"page": page, "source": source, "settings": settings})
    events = _events(f"{base}/api/preview/{made['id']}/events")
    return time.perf_counter() - asked - events[-1][0], events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--previews", type=int, default=100)
    parser.add_argument("--size", type=int, default=480)
    parser.add_argument("--port", type=int, default=7871)
    args = parser.parse_args()
    base = f"http://127.0.0.1:{args.port}"
    settings = {"source.max_size": str(args.size), "dream.seed": "1"}
    with tempfile.TemporaryDirectory() as workspace:
        began = time.perf_counter()
        server = subprocess.Popen([sys.executable, "-m", "dreamvideo", "studio", "--no-browser", "--port",
                                   str(args.port), "--workspace", workspace], cwd=ROOT, env=os.environ,
                                  stderr=subprocess.DEVNULL)
        try:
            figures = _measure(base, server.pid, began, settings, args)
        finally:
            server.terminate()
            server.wait(30)
    # after the server has gone: two processes' threads on two cores would time each other
    figures["dream_array s"] = round(_warm_dream(settings), 3)
    figures["preview / dream_array"] = round(figures["preview s"] / figures["dream_array s"], 3)
    static = ROOT / "dreamvideo" / "studio" / "static"
    figures["page bytes"] = sum(p.stat().st_size for p in static.iterdir())
    print(json.dumps(figures))


def _measure(base: str, pid: int, began: float, settings: dict, args: argparse.Namespace) -> dict:
    while True:
        try:
            _get(base + "/")
            break
        except OSError:
            time.sleep(0.05)
    figures = {"served s": round(time.perf_counter() - began, 2)}
    while not json.loads(_get(base + "/api/status"))["ready"]:
        time.sleep(0.1)
    figures["ready s"] = round(time.perf_counter() - began, 2)
    source = _upload(base + "/api/source", CAT)["id"]
    _preview(base, source, settings)  # the first compiles
    runs = [_preview(base, source, settings) for _ in range(REPEATS)]
    figures["first octave s"] = round(min(waited + events[0][0] for waited, events in runs), 3)
    figures["preview s"] = round(min(waited + events[-1][0] for waited, events in runs), 3)
    slow = {**settings, "dream.steps": "30"}
    first = _post(f"{base}/api/preview", {"page": "bench", "source": source, "settings": slow})
    time.sleep(0.3)  # it is dreaming now
    asked = time.perf_counter()
    second = _post(f"{base}/api/preview", {"page": "bench", "source": source, "settings": settings})
    later = _events(f"{base}/api/preview/{second['id']}/events")  # read as they come
    figures["new preview's first octave after the change s"] = round(
        time.perf_counter() - asked - later[-1][0] + later[0][0], 3)
    figures["older preview ended"] = _events(f"{base}/api/preview/{first['id']}/events")[-1][1]["event"]
    before = _rss_mb(pid)
    for i in range(args.previews):
        _preview(base, source, {**settings, "dream.seed": str(i)})
    figures["memory MB before, after"] = [round(before), round(_rss_mb(pid))]
    figures["previews"] = args.previews
    return figures


def _warm_dream(settings: dict) -> float:
    """``dream_array`` on a warm engine here, the preview's settings and size (the best of
    :data:`REPEATS`)."""
    from dreamvideo.core.engine import Engine
    from dreamvideo.media.images import fit_max_size, read_still
    from dreamvideo.render.stills import dream_array
    from dreamvideo.studio.controls import pipeline_of

    pipeline = pipeline_of({**settings, "source.input": str(CAT)})
    engine = Engine(pipeline.model)
    rgb = fit_max_size(read_still(str(CAT)), pipeline.source.max_size).rgb
    dream_array(rgb, engine, pipeline.dream, warn=False)  # compiled
    seconds = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        dream_array(rgb, engine, pipeline.dream, warn=False)
        seconds.append(time.perf_counter() - started)
    return min(seconds)


if __name__ == "__main__":
    main()
