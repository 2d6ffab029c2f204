"""A worker's piece of a spread video: where an unfinished piece goes on from."""

import cv2
import numpy as np

from dreamvideo.media.writers import frame_file
from dreamvideo.render.pieces import restart_point


def test_an_unfinished_piece_goes_on_from_its_last_restart_at_a_cut(tmp_path):
    own = tmp_path / "0000000-0000040"
    own.mkdir()
    assert restart_point(own, 0) == 0  # nothing recorded: from its start
    for i in range(23):
        cv2.imwrite(str(own / frame_file(i)), np.zeros((2, 2, 3), np.uint8))
    (own / "restarts").write_text("10\n20\n30\n")  # 30 was recorded, but its frames 23-29 are not kept
    assert restart_point(own, 0) == 20
    (own / frame_file(15)).unlink()
    assert restart_point(own, 0) == 10
    (own / "done").write_text("40 3")
    assert restart_point(own, 0) == 0  # finished: nothing to go on from
