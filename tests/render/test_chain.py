"""The frame chain: its stages in order, the frames a range holds, closing stops them all."""

import threading
import time

import numpy as np

from dreamvideo.config import SourceConfig, TemporalConfig
from dreamvideo.render.chain import QUEUES, Footage, ahead, expected_frames, keep_indices, read


def test_expected_frames_of_a_range():
    source = SourceConfig("x.mp4", start=1.0, end=3.0, every=2)
    assert expected_frames(4.0, 25.0, source) == 25
    assert expected_frames(None, 25.0, source) is None
    assert expected_frames(2.5, 10.0, SourceConfig("x.mp4")) == 25


def test_keep_indices_closes_its_source():
    closed = []

    def frames():
        try:
            yield from range(10)
        finally:
            closed.append(True)

    assert list(keep_indices(frames(), lambda i: i % 3 == 0)) == [0, 3, 6, 9]
    assert closed == [True]


def test_the_chain_reads_moves_and_uploads_in_order_and_stops_when_closed(media):
    footage = Footage.open(SourceConfig(str(media.pan), max_size=96))
    frames = list(read(footage))
    assert len(frames) == footage.expected and frames[0].shape[1] == 96
    before = threading.active_count()
    motions = ahead(read(footage), TemporalConfig(flow_workers=1))
    first, second = next(motions), next(motions)
    assert first.backward is None and second.backward is not None
    assert len(second.uploaded) == 3  # frame, flow and mask on the device
    np.testing.assert_array_equal(np.asarray(second.frame), frames[1])
    motions.close()  # every stage's thread ends, and ffmpeg with them
    for _ in range(50):
        if threading.active_count() <= before:
            break
        time.sleep(0.05)
    assert threading.active_count() <= before
    assert set(QUEUES) == {"read", "motion", "upload"}


def test_the_dreams_of_a_size_and_settings_are_kept_in_the_engine(engine):
    """A second render of the same size and settings reuses the dreams, and with them
    their compiled frame steps; another size or other settings get their own."""
    from dreamvideo.config import DreamConfig, Pipeline
    from dreamvideo.render.chain import dreams

    pipeline = Pipeline("video", SourceConfig("clip.mp4"), dream=DreamConfig(octaves=1, steps=2))
    first = dreams(engine, pipeline, (128, 96))
    assert dreams(engine, pipeline, (128, 96)) is first
    assert dreams(engine, pipeline, (160, 96)) is not first
    other = Pipeline("video", SourceConfig("clip.mp4"), dream=DreamConfig(octaves=1, steps=3))
    assert dreams(engine, other, (128, 96)) is not first
