"""The user-facing lines: the ``wrote …`` summary of every kind of render."""

from pathlib import Path

from dreamvideo.cli.progress import summary
from dreamvideo.render.video import VideoReport
from dreamvideo.render.zoom import ZoomReport


def test_summary_of_a_still():
    assert summary(Path("a.png")) == "wrote a.png"


def test_summary_of_a_video_tells_restored_frames_from_dreamed_ones():
    report = VideoReport(Path("v.mp4"), 30, 10, 4.0, expected=30, scene_cuts=2)
    assert summary(report) == ("wrote v.mp4: 30 frames (10 restored, 20 dreamed in this run), "
                               "0.20 s/frame, 2 scene cuts")
    assert summary(VideoReport(Path("v.mp4"), 5, 0, 1.0)) == "wrote v.mp4: 5 frames, 0.20 s/frame"
    spread = VideoReport(Path("v.mp4"), 5, 0, 1.0, scene_cuts=2, workers=4, busy=0.784)
    assert summary(spread) == "wrote v.mp4: 5 frames, 0.20 s/frame, 2 scene cuts, 4 workers 78% busy"


def test_summary_of_a_zoom_counts_its_dream_calls():
    report = ZoomReport(Path("z.mp4"), 24, 0, 6.0, dream_calls=12)
    assert summary(report) == "wrote z.mp4: 24 frames, 12 dreamed, 0.25 s/frame"
    resumed = ZoomReport(Path("z.mp4"), 24, 8, 8.0, dream_calls=8)
    assert summary(resumed) == ("wrote z.mp4: 24 frames (8 restored, 16 made in this run), "
                                "8 dreamed, 0.50 s/frame")


def test_summary_counts_what_the_file_holds_and_the_full_dreams():
    retimed = VideoReport(Path("v.mp4"), 25, 0, 5.0, written=12)
    assert summary(retimed) == "wrote v.mp4: 12 frames (re-timed from 25), 0.20 s/frame"
    full = {"start": 1, "scene cut": 2, "fade-in": 0, "low mask coverage": 7}
    flow = VideoReport(Path("v.mp4"), 40, 0, 4.0, scene_cuts=2, full_dreams=full)
    assert summary(flow) == ("wrote v.mp4: 40 frames, 0.10 s/frame, 10 fully dreamed (1 start, 2 scene cut, "
                             "7 low mask coverage)")
