"""What a first run prints before its first frame: one-line errors, a loading line on a
terminal, the libraries' own logs only with ``-v``. Real processes, as a newcomer runs them."""

import os
import pty
import subprocess
import sys

import pytest

from tests.conftest import ROOT, SAMPLES

CAT = str(SAMPLES / "chelsea.jpg")


def _dreamvideo(args, env, terminal=False, cwd=ROOT):
    """(exit code, stdout, stderr) of ``python -m dreamvideo ARGS``; ``terminal``: stderr is a
    pseudo-terminal, as in a shell."""
    command = [sys.executable, "-m", "dreamvideo", *args]
    if not terminal:
        proc = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)
        return proc.returncode, proc.stdout, proc.stderr
    master, slave = pty.openpty()
    proc = subprocess.Popen(command, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=slave)
    os.close(slave)
    err = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the process closed its end
            break
        if not chunk:
            break
        err += chunk
    out = proc.stdout.read().decode()
    proc.wait(timeout=300)
    os.close(master)
    return proc.returncode, out, err.decode(errors="replace")


@pytest.mark.slow
def test_first_run_offline_prints_the_error_alone(tmp_path):
    """No weights anywhere and no network: nothing but the one line that says what to do."""
    env = {k: v for k, v in os.environ.items() if k != "DREAMVIDEO_WEIGHTS_DIR"}
    env.update(KERAS_HOME=str(tmp_path / "keras"), HTTPS_PROXY="http://127.0.0.1:9",
               https_proxy="http://127.0.0.1:9")  # the download fails at once, online or not
    code, out, err = _dreamvideo(["still", CAT, "-o", str(tmp_path / "o.png")], env, cwd=tmp_path)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1, err
    assert err.startswith("dreamvideo: error: squeezenet_weights_tf_dim_ordering_tf_kernels_notop.h5 is "
                          "not in $DREAMVIDEO_WEIGHTS_DIR (unset)")
    assert list(tmp_path.iterdir()) == [tmp_path / "keras"] or list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_a_missing_weights_folder_is_named_from_any_folder(tmp_path):
    env = {**os.environ, "DREAMVIDEO_WEIGHTS_DIR": "../shared/models"}
    code, _, err = _dreamvideo(["still", CAT, "-o", str(tmp_path / "o.png")], env, cwd=tmp_path)
    assert code == 2 and len(err.splitlines()) == 1
    assert err.startswith("dreamvideo: error: $DREAMVIDEO_WEIGHTS_DIR names ../shared/models, which is not a "
                          f"folder, relative to the current folder {tmp_path}")


@pytest.mark.usefixtures("squeezenet_weights")
def test_a_terminal_is_told_what_the_first_seconds_load(tmp_path):
    env = dict(os.environ)
    small = ["--max-size", "128", "--layers", "fire3", "--steps", "1", "--octaves", "1"]
    code, _, err = _dreamvideo(["still", CAT, "-o", str(tmp_path / "a.png"), *small], env, terminal=True)
    assert code == 0, err
    assert "\r\x1b[Kdreamvideo: loading squeezenet (" in err
    assert err.rstrip().endswith(f"wrote {tmp_path / 'a.png'}")
    code, _, err = _dreamvideo(["still", CAT, "-o", str(tmp_path / "b.png"), *small, "--layers", "nope"], env,
                               terminal=True)
    # an error after it takes its line: on screen there is one line
    assert code == 2 and err.endswith("\r\x1b[Kdreamvideo: error: model squeezenet has no dreamable layer "
                                      "'nope'" + err.split("'nope'", 1)[1])
    assert err.count("\n") == 1



def test_the_studio_without_its_extra_is_one_line():
    code = ("import sys; sys.modules['fastapi'] = sys.modules['uvicorn'] = None  # as if not installed\n"
            "from dreamvideo.cli import main\n"
            "sys.exit(main(['studio', '--no-browser']))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ('dreamvideo: error: the studio needs FastAPI and uvicorn: '
                                   'pip install "dreamvideo[studio]"')


def test_quiet_shows_no_loading_line(tmp_path):
    import logging

    from dreamvideo.cli import main
    from dreamvideo.core.backends import STATUS_LOG

    assert main(["still", CAT, "-o", str(tmp_path / "o.png"), "--dry-run"]) == 0
    assert logging.getLogger(STATUS_LOG).handlers  # on a terminal it would show
    assert main(["still", CAT, "-o", str(tmp_path / "o.png"), "--dry-run", "-q"]) == 0
    assert logging.getLogger(STATUS_LOG).handlers == []
