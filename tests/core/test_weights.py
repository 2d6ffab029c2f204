import hashlib
from pathlib import Path

import pytest

from dreamvideo.core.weights import WeightsFile, resolve_weights
from dreamvideo.errors import DreamvideoError

SHA = "2d935d8c102ad1232484a77da8e6fbdf3ff4ab608974a0d8b6283115ffff204f"
NAME = "squeezenet_weights_tf_dim_ordering_tf_kernels_notop.h5"


def test_shared_weights_have_the_pinned_hash(squeezenet_weights):
    assert hashlib.sha256(squeezenet_weights.read_bytes()).hexdigest() == SHA


def test_explicit_file_then_none(tmp_path):
    f = tmp_path / "w.h5"
    f.write_bytes(b"x")
    assert resolve_weights(None, str(f)) == str(f)
    assert resolve_weights(None, "none") is None
    assert resolve_weights(None, "None") is None
    with pytest.raises(DreamvideoError, match="does not exist"):
        resolve_weights(None, str(tmp_path / "missing.h5"))


def test_env_dir_is_read_first(squeezenet_weights, tmp_path, monkeypatch):
    folder = tmp_path / "weights"
    folder.mkdir()
    (folder / NAME).symlink_to(squeezenet_weights)
    monkeypatch.setenv("DREAMVIDEO_WEIGHTS_DIR", str(folder))
    published = WeightsFile(NAME, "http://127.0.0.1:9/never-fetched.h5", SHA)
    assert Path(resolve_weights(published, None)) == folder / NAME


def test_keras_cache_is_found_by_hash_without_network(squeezenet_weights, tmp_path, monkeypatch):
    monkeypatch.delenv("DREAMVIDEO_WEIGHTS_DIR", raising=False)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / NAME).write_bytes(squeezenet_weights.read_bytes())
    published = WeightsFile(NAME, "http://127.0.0.1:9/never-fetched.h5", SHA)
    assert Path(resolve_weights(published, None, str(tmp_path))) == tmp_path / "models" / NAME


def test_download_path_verifies_hash_and_caches(squeezenet_weights, tmp_path, monkeypatch):
    """The real keras.utils.get_file path, fed from a file:// address (no network here)."""
    monkeypatch.setenv("DREAMVIDEO_WEIGHTS_DIR", str(tmp_path / "empty"))
    (tmp_path / "empty").mkdir()
    (tmp_path / "cache").mkdir()
    got = resolve_weights(WeightsFile(NAME, squeezenet_weights.as_uri(), SHA), None, str(tmp_path / "cache"))
    assert Path(got).parent == tmp_path / "cache" / "models"
    assert hashlib.sha256(Path(got).read_bytes()).hexdigest() == SHA


def test_hash_mismatch_is_an_error(squeezenet_weights, tmp_path):
    with pytest.raises(DreamvideoError, match="DREAMVIDEO_WEIGHTS_DIR"):
        resolve_weights(WeightsFile("other.h5", squeezenet_weights.as_uri(), "0" * 64), None, str(tmp_path))


def test_offline_error_names_url_and_env_var(tmp_path, monkeypatch):
    monkeypatch.setenv("DREAMVIDEO_WEIGHTS_DIR", str(tmp_path))
    url = "http://127.0.0.1:9/squeezenet.h5"  # discard port: connection refused at once
    with pytest.raises(DreamvideoError) as err:
        resolve_weights(WeightsFile("absent.h5", url, SHA), None, str(tmp_path))
    message = str(err.value)
    assert url in message and "--weights" in message and "\n" not in message
    # which folders were searched, and that the file was in neither
    assert message.startswith(f"absent.h5 is not in $DREAMVIDEO_WEIGHTS_DIR ({tmp_path}) nor the Keras "
                              f"cache ({tmp_path}/models)")
    monkeypatch.delenv("DREAMVIDEO_WEIGHTS_DIR")
    with pytest.raises(DreamvideoError, match=r"not in \$DREAMVIDEO_WEIGHTS_DIR \(unset\)"):
        resolve_weights(WeightsFile("absent.h5", url, SHA), None, str(tmp_path))


def test_a_weights_folder_that_does_not_exist_is_said_so(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DREAMVIDEO_WEIGHTS_DIR", "../nowhere")
    published = WeightsFile(NAME, "http://127.0.0.1:9/never-fetched.h5", SHA)
    with pytest.raises(DreamvideoError) as err:
        resolve_weights(published, None)
    assert str(err.value).startswith(f"$DREAMVIDEO_WEIGHTS_DIR names ../nowhere, which is not a folder, "
                                     f"relative to the current folder {tmp_path}; set it to the folder that "
                                     f"holds {NAME}")


def test_a_download_that_cannot_start_prints_nothing_but_the_error(tmp_path, monkeypatch, capsys):
    """Keras announces a download before it connects; the announcement waits for the first
    progress, so an offline first run shows the one-line error alone."""
    monkeypatch.setenv("DREAMVIDEO_WEIGHTS_DIR", str(tmp_path))
    with pytest.raises(DreamvideoError):
        resolve_weights(WeightsFile("absent.h5", "http://127.0.0.1:9/absent.h5", SHA), None, str(tmp_path))
    assert capsys.readouterr().out == ""


def test_a_download_that_starts_is_announced(squeezenet_weights, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DREAMVIDEO_WEIGHTS_DIR", str(tmp_path))
    resolve_weights(WeightsFile(NAME, squeezenet_weights.as_uri(), SHA), None, str(tmp_path))
    assert f"Downloading data from {squeezenet_weights.as_uri()}" in capsys.readouterr().out
