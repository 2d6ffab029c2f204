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

import numpy as np
import pytest

pytest.importorskip("fastapi", reason='the studio needs pip install "dreamvideo[studio]"')
playwright = pytest.importorskip("playwright.sync_api", reason="the page tests need pip install playwright")

import uvicorn  # noqa: E402

from dreamvideo.cli.commandline import command_line  # noqa: E402
from dreamvideo.cli.parser import build_parser  # noqa: E402
from dreamvideo.studio.app import create_app  # noqa: E402
from tests.conftest import SAMPLES  # noqa: E402

STUDIO_WORKSPACE: dict[str, str] = {}  # address → workspace of the studios the tests started
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
    workspace = tmp_path_factory.mktemp("studio")
    app = create_app(workspace, command_line=lambda p: command_line(p, parser)[0])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    STUDIO_WORKSPACE[f"http://127.0.0.1:{port}"] = str(workspace)
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
    assert not page.is_visible("[data-testid=time]")  # a still has no time to pick
    assert page.locator("#history img").count() == 1
    _shot(page, "studio-still.png")
    assert requests and all(url.startswith(studio) or url.startswith("data:") for url in requests), requests
    page.close()


def test_a_file_chosen_while_the_page_still_loads_is_dreamt(browser, studio):
    page = browser.new_page()
    held = []
    page.route("**/api/presets", lambda route: held.append(route))  # its last start-up request: held
    page.goto(studio)
    page.set_input_files("[data-testid=source]", str(SAMPLES / "chelsea.jpg"))
    page.wait_for_selector("[data-testid=result][data-state=done]", timeout=120000)
    assert len(held) == 1
    held[0].continue_()
    page.wait_for_function("document.querySelector('#presets').options.length > 1")
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


def test_an_outputs_settings_restore_the_controls(browser, studio):
    page = browser.new_page()
    page.goto(studio)
    page.wait_for_selector("input[name='dream.seed']")
    assert page.input_value("select[name='model.backend']") == ""
    page.set_input_files("[data-testid=restore]", str(SAMPLES.parent / "outputs" / "chelsea-dream.jpg"))
    page.wait_for_function("document.querySelector(\"select[name='model.backend']\").value === 'tensorflow'")
    assert page.input_value("input[name='dream.seed']") == "0"
    page.close()


def test_a_grid_and_a_videos_frame_from_the_page(browser, studio, media):
    page = browser.new_page(viewport={"width": 1280, "height": 820})
    page.goto(studio)
    page.fill("input[name='dream.steps']", "2")
    page.set_input_files("[data-testid=source]", str(media.pan))
    page.wait_for_selector("[data-testid=result][data-state=done]", timeout=120000)
    assert page.is_visible("[data-testid=time]")
    page.evaluate("window.firstFrame = document.querySelector('#original').src")
    page.eval_on_selector("[data-testid=time]",
                          "e => { e.value = e.max / 2; e.dispatchEvent(new Event('change')) }")
    page.wait_for_function("document.querySelector('#original').src !== window.firstFrame", timeout=60000)
    page.wait_for_selector("[data-testid=result][data-state=done]", timeout=120000)
    page.select_option("[data-testid=grid-x]", "dream.step_size")
    page.fill("[data-testid=grid-x-values]", "0.004\n0.012")
    page.select_option("[data-testid=grid-y]", "dream.layers")
    page.fill("[data-testid=grid-y-values]", "fire3\nfire5")
    page.click("[data-testid=grid]")
    page.wait_for_selector("[data-testid=result][data-state=working]", timeout=30000)
    page.wait_for_selector("[data-testid=result][data-state=done]", timeout=120000)
    width = page.eval_on_selector("[data-testid=result]", "e => e.naturalWidth")
    columns = width / page.eval_on_selector("#original", "e => e.naturalWidth")
    assert columns > 2, page.inner_text("#caption")  # the sheet: two cells wide, and the gaps
    page.close()


def test_the_sample_videos_frame_picked_by_the_time_slider_is_dreamt(browser, studio):
    import base64
    import io

    import imageio.v3 as iio

    from dreamvideo.media.sources import read_frames

    page = browser.new_page(viewport={"width": 1280, "height": 820})
    page.goto(studio)
    page.fill("input[name='dream.seed']", "2")
    page.set_input_files("[data-testid=source]", str(SAMPLES / "coffee-pan.mp4"))
    page.wait_for_selector("[data-testid=result][data-state=done]", timeout=120000)
    page.evaluate("window.firstFrame = document.querySelector('#original').src")
    page.eval_on_selector("[data-testid=time]", "e => { e.value = 2; e.dispatchEvent(new Event('change')) }")
    page.wait_for_function("document.querySelector('#original').src !== window.firstFrame", timeout=60000)
    page.wait_for_selector("[data-testid=result][data-state=done]", timeout=120000)
    assert page.inner_text("#time-value") == "2.00 s"
    shown, dreamt = (iio.imread(io.BytesIO(base64.b64decode(page.get_attribute(shows, "src").split(",")[1])))
                     for shows in ("#original", "[data-testid=result]"))
    assert np.array_equal(shown, list(read_frames(SAMPLES / "coffee-pan.mp4"))[2 * 24])  # 2 s at 24 fps
    assert dreamt.shape == shown.shape and not np.array_equal(dreamt, shown)
    _shot(page, "studio-video.png")
    page.close()


def test_a_one_second_video_rendered_from_the_page(browser, studio, media):
    from dreamvideo.media.sources import count_frames, probe

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(studio)
    page.set_input_files("[data-testid=source]", str(media.pan))
    page.wait_for_selector("[data-testid=result][data-state=done]", timeout=120000)
    page.select_option("[data-testid=render-command]", "video")
    page.wait_for_selector("input[name='source.end']")
    fast = {"source.end": "1", "source.max_size": "128", "dream.layers": "fire3", "dream.steps": "2",
            "dream.octaves": "1", "temporal.later_steps": "1", "temporal.later_octaves": "1"}
    for name, value in fast.items():
        page.fill(f"input[name='{name}']", value)
    page.click("[data-testid=render]")
    page.wait_for_selector("#jobs li[data-state=done]", timeout=240000)
    assert page.eval_on_selector("[data-testid=progress]", "e => e.value === e.max && e.max > 1")
    link = page.wait_for_selector("[data-testid=gallery] a")
    assert page.locator("[data-testid=gallery] video").count() == 1
    output = Path(STUDIO_WORKSPACE[studio]) / "outputs" / link.inner_text()
    assert count_frames(output) == round(float(probe(output).fps))
    page.reload()  # the job stays listed
    page.wait_for_selector("#jobs li[data-state=done]", timeout=30000)
    page.close()



def test_two_tabs_previewing_at_once_each_get_their_own(browser, studio):
    context = browser.new_context()
    tabs = [context.new_page(), context.new_page()]
    for tab, steps in zip(tabs, ("1", "6"), strict=True):
        tab.goto(studio)
        tab.fill("input[name='dream.steps']", steps)
        tab.fill("input[name='source.max_size']", "200")
    for tab in tabs:  # both dream at once: neither cancels the other
        tab.set_input_files("[data-testid=source]", str(SAMPLES / "chelsea.jpg"))
    for tab in tabs:
        tab.wait_for_selector("[data-testid=result][data-state=done]", timeout=120000)
    one, six = (tab.get_attribute("[data-testid=result]", "src") for tab in tabs)
    assert one != six
    assert [tab.inner_text("[data-testid=command]").count("--steps") for tab in tabs] == [1, 1]
    assert "--steps 1" in tabs[0].inner_text("[data-testid=command]")
    assert "--steps 6" in tabs[1].inner_text("[data-testid=command]")
    context.close()
