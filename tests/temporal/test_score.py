import json

import cv2
import imageio_ffmpeg
import numpy as np
import pytest

from dreamvideo.api.score import score_videos
from dreamvideo.cli import main
from dreamvideo.temporal.score import score_frames


def _moving_texture(n=8, h=96, w=128):
    rng = np.random.default_rng(0)
    big = cv2.GaussianBlur(rng.uniform(0, 255, (h, w + 3 * n)).astype(np.float32), (0, 0), 2)
    big = ((big - big.min()) / (big.max() - big.min()) * 200 + 20).astype(np.uint8)
    return [np.dstack([big[:, 3 * t:3 * t + w]] * 3) for t in range(n)]  # pans 3 px per frame


def test_stable_dream_scores_below_flickering_dream_of_equal_strength():
    inputs = _moving_texture()
    rng = np.random.default_rng(1)
    pattern = rng.normal(0, 12, (96, 128 + 3 * 8, 3))
    stable = [np.clip(f + pattern[:, 3 * t:3 * t + 128], 0, 255).astype(np.uint8)
              for t, f in enumerate(inputs)]  # the "dream" moves with the content
    flicker = [np.clip(f + rng.normal(0, 12, f.shape), 0, 255).astype(np.uint8) for f in inputs]
    s, f = score_frames(inputs, stable), score_frames(inputs, flicker)
    assert s.frames == f.frames == 8
    assert s.strength == pytest.approx(f.strength, rel=0.1) and s.strength > 5
    assert s.excess < 0.3 * f.excess
    assert s.input_warp_error == pytest.approx(f.input_warp_error)
    same = score_frames(inputs, inputs)
    assert same.strength == 0 and same.excess == 0


def test_score_command_on_a_clip(tmp_path, capsys, media):
    """A re-encoded half-size copy of a clip's first second: no dream, so no excess to speak of."""
    from dreamvideo.media.sources import read_frames

    out = tmp_path / "copy.mp4"
    writer = imageio_ffmpeg.write_frames(str(out), (160, 90), fps=25, quality=8, macro_block_size=1)
    writer.send(None)
    for i, frame in enumerate(read_frames(media.pan, size=(160, 90))):
        if i == 25:
            break
        writer.send(np.ascontiguousarray(frame))
    writer.close()
    result = score_videos(media.pan, out, end=1.0)
    assert result.frames == 25
    assert result.strength < 3 and abs(result.excess) < 1
    assert main(["score", str(media.pan), str(out), "--end", "1", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["frames"] == 25 and printed["excess"] == pytest.approx(result.excess)
    assert main(["score", str(media.pan), str(tmp_path / "missing.mp4")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_misaligned_frame_counts_are_an_error(tmp_path, capsys, media):
    """25 frames against the whole 100-frame input: no silent comparison of a prefix."""
    from dreamvideo.errors import DreamvideoError
    from dreamvideo.media.sources import read_frames

    inputs = list(read_frames(media.pan, size=(160, 90), end=1.0))
    with pytest.raises(DreamvideoError, match="the input gives 100 frames and the output 25"):
        score_frames(read_frames(media.pan, size=(160, 90)), inputs)
    with pytest.raises(DreamvideoError, match="the input gives 25 frames and the output 26"):
        score_frames(inputs, [*inputs, inputs[-1]])
    out = tmp_path / "copy.mp4"
    writer = imageio_ffmpeg.write_frames(str(out), (160, 90), fps=25, quality=8, macro_block_size=1)
    writer.send(None)
    for frame in inputs:
        writer.send(np.ascontiguousarray(frame))
    writer.close()
    assert main(["score", str(media.pan), str(out)]) == 2  # no configuration inside: the whole input
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "the input gives 100 frames and the output 25" in err[0]


@pytest.mark.usefixtures("squeezenet_weights")
def test_score_takes_the_range_from_the_outputs_configuration(tmp_path, capsys, media):
    out = tmp_path / "d.mp4"
    assert main(["video", str(media.pan), "-o", str(out), "--max-size", "170", "--start", "1", "--end", "1.8",
                 "--every", "2", "--octaves", "1", "--steps", "1", "--later-steps", "1",
                 "--later-octaves", "1", "-q"]) == 0
    capsys.readouterr()
    assert main(["score", str(media.pan), str(out), "--json"]) == 0
    aligned = json.loads(capsys.readouterr().out)
    assert aligned["frames"] == 10 and aligned["strength"] < 20
    # a range given by hand wins (the output's --every still applies): here, the wrong one
    assert main(["score", str(media.pan), str(out), "--start", "0", "--end", "1.6", "--json"]) == 2
    assert "the input gives 20 frames and the output 10" in capsys.readouterr().err
