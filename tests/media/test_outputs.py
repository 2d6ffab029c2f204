import os

import pytest

from dreamvideo.errors import DreamvideoError
from dreamvideo.media.outputs import atomic_output, check_output


def test_accepts_a_new_image_path(tmp_path):
    assert check_output(tmp_path / "out.PNG") == tmp_path / "out.PNG"
    assert os.listdir(tmp_path) == []  # the writability probe leaves nothing


@pytest.mark.parametrize("name, message", [
    ("out.bmp", "extension '.bmp'; use one of .png"), ("out", "no extension"),
])
def test_unknown_extension(tmp_path, name, message):
    with pytest.raises(DreamvideoError, match=message):
        check_output(tmp_path / name)


def test_same_as_input_even_through_a_symlink(tmp_path):
    src = tmp_path / "in.png"
    src.write_bytes(b"x")
    (tmp_path / "link.png").symlink_to(src)
    for out in (src, tmp_path / "link.png", tmp_path / "." / "in.png"):
        with pytest.raises(DreamvideoError, match="is the input file"):
            check_output(out, inputs=[src], force=True)


def test_existing_output_needs_force(tmp_path):
    out = tmp_path / "out.png"
    out.write_bytes(b"x")
    with pytest.raises(DreamvideoError, match="--force"):
        check_output(out)
    assert check_output(out, force=True) == out


def test_directory_missing_folder_and_unwritable_folder(tmp_path):
    (tmp_path / "d.png").mkdir()
    with pytest.raises(DreamvideoError, match="is a directory"):
        check_output(tmp_path / "d.png", force=True)
    with pytest.raises(DreamvideoError, match=r"folder .* does not exist"):
        check_output(tmp_path / "nope" / "out.png")
    with pytest.raises(DreamvideoError, match="cannot write to folder /proc"):
        check_output("/proc/dreamvideo-out.png")  # unwritable even for root


def test_atomic_output_renames_on_success_and_cleans_up_on_failure(tmp_path):
    out = tmp_path / "out.png"
    with atomic_output(out) as tmp:
        assert tmp.parent == tmp_path and tmp != out
        tmp.write_bytes(b"done")
    assert out.read_bytes() == b"done" and os.listdir(tmp_path) == ["out.png"]
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600
    with pytest.raises(RuntimeError), atomic_output(tmp_path / "bad.png") as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("encoder died")
    assert os.listdir(tmp_path) == ["out.png"]


def test_frame_folder_outputs(tmp_path):
    frames = tmp_path / "frames"
    assert check_output(frames, folder_ok=True, extensions=(".mp4",)) == frames
    frames.mkdir()
    (frames / "000001.png").write_bytes(b"x")
    with pytest.raises(DreamvideoError, match="--force"):
        check_output(frames, folder_ok=True, extensions=(".mp4",))
    assert check_output(frames, folder_ok=True, extensions=(".mp4",), force=True) == frames
    (frames / "notes.txt").write_bytes(b"mine")
    with pytest.raises(DreamvideoError, match=r"holds other files \(notes\.txt\)"):
        check_output(frames, folder_ok=True, extensions=(".mp4",), force=True)
    with pytest.raises(DreamvideoError, match="or a folder name"):
        check_output(tmp_path / "x.avi", folder_ok=True, extensions=(".mp4",))
