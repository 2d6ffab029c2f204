"""The studio's page in a real headless Chromium (Playwright): upload, the preview
streaming to done, a bad upload's line, and every request going to the studio itself.

The browser: ``$DREAMVIDEO_CHROMIUM``, else Debian's ``/usr/bin/chromium`` (``apt-get
install -y chromium``), else Playwright's own (``playwright install chromium``); without
one the tests skip with a line saying so. ``DREAMVIDEO_SCREENSHOTS=DIR`` keeps the
screenshots (the README's come from here)."""

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason='the studio needs pip install "dreamvideo[studio]"')
playwright = pytest.importorskip("playwright.sync_api", reason="the page tests need pip install playwright")

import uvicorn  # noqa: E402

from dreamvideo.cli.commandline import command_line  # noqa: E402
from dreamvideo.cli.parser import build_parser  # noqa: E402
from dreamvideo.studio.app import create_app  # noqa: E402
from tests.conftest import SAMPLES  # noqa: E402

FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _chromium() -> str | None:
    """The browser to drive: the one named, Debian's, or None for Playwright's own."""
    named = os.environ.get("DREAMVIDEO_CHROMIUM")
    if named:
        return named
    return shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        try:
            launched = p.chromium.launch(executable_path=_chromium(), args=FLAGS)
        except Exception as e:  # no browser anywhere
            reason = str(e).splitlines()[0][:120]
            pytest.skip(f"no Chromium for the page tests ({reason}): apt-get install -y chromium, or "
                        "playwright install chromium")
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def studio(tmp_path_factory, squeezenet_weights):
    """A real studio on a free loopback port, in a thread of this process."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    parser = build_parser()
    app = create_app(tmp_path_factory.mktemp("studio"), command_line=lambda p: command_line(p, parser)[0])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def _shot(page, name: str) -> None:
    folder = os.environ.get("DREAMVIDEO_SCREENSHOTS")
    if folder:
        page.evaluate("document.activeElement.blur(); document.querySelector('#panel').scrollTop = 0")
        page.screenshot(path=str(Path(folder) / name))


def test_upload_preview_streams_to_done_and_every_request_stays_home(browser, studio):
    page = browser.new_page(viewport={"width": 1280, "height": 820})
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(studio)
    page.wait_for_selector("[data-testid=status]:has-text('ready')", timeout=60000)
    page.fill("input[name='dream.steps']", "6")
    page.fill("input[name='dream.seed']", "1")
    page.set_input_files("[data-testid=source]", str(SAMPLES / "chelsea.jpg"))
    page.wait_for_selector("[data-testid=result][data-state=working]", timeout=30000)
    page.wait_for_selector("[data-testid=result][data-state=done]", timeout=120000)
    result = page.get_attribute("[data-testid=result]", "src")
    original = page.get_attribute("#original", "src")
    assert result.startswith("data:image/png;base64,") and result != original
    assert "--steps 6" in page.inner_text("[data-testid=command]")
    assert page.locator("#history img").count() == 1
    _shot(page, "studio-still.png")
    assert requests and all(url.startswith(studio) or url.startswith("data:") for url in requests), requests
    page.close()


def test_a_bad_value_and_a_bad_upload_show_one_line(browser, studio, tmp_path):
    page = browser.new_page()
    page.goto(studio)
    page.set_input_files("[data-testid=source]", str(SAMPLES / "chelsea.jpg"))
    page.wait_for_selector("[data-testid=result][data-state=done]", timeout=120000)
    page.fill("input[name='dream.steps']", "many")
    page.dispatch_event("input[name='dream.steps']", "change")
    page.wait_for_selector("[data-testid=result][data-state=error]", timeout=30000)
    said = "dream.steps (--steps): expected an integer, got 'many'"
    assert page.inner_text("[data-testid=error]") == said
    assert page.inner_text(".control[data-name='dream.steps'] .problem") == said
    bad = tmp_path / "notes.png"
    bad.write_bytes(b"not a picture at all")
    page.set_input_files("[data-testid=source]", str(bad))
    page.wait_for_selector("[data-testid=error]:has-text('cannot read notes.png')", timeout=30000)
    assert "\n" not in page.inner_text("[data-testid=error]")
    page.close()
