"""The facts about output formats, each written once in ``media.writers`` and used by the
recorder, the renders and the spread renders alike."""

from pathlib import Path

from dreamvideo.media.writers import STREAMS, VIDEO_EXTENSIONS, frame_file, is_stream


def test_streams_are_the_video_outputs_with_sound():
    assert STREAMS == (".mp4", ".webm")
    assert set(STREAMS) < set(VIDEO_EXTENSIONS)
    assert is_stream("a/b.MP4") and is_stream(Path("x.webm"))
    assert not is_stream("x.gif") and not is_stream("x")


def test_frame_files_sort_in_order_from_one():
    assert frame_file(0) == "000001.png"
    names = [frame_file(i) for i in (0, 9, 10, 99998)]
    assert names == sorted(names)


def test_no_module_writes_a_frame_name_or_the_stream_list_again():
    root = Path(__file__).resolve().parents[2] / "dreamvideo"
    for path in root.rglob("*.py"):
        text = path.read_text()
        if path.name != "writers.py":
            assert '".mp4", ".webm"' not in text, path
            assert ":06d}.png" not in text and ":07d}.png" not in text, path
