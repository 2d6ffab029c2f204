import math

import cv2
import numpy as np
import pytest

from dreamvideo.cli import main
from dreamvideo.config import DreamConfig, ZoomConfig
from dreamvideo.media.sources import probe, read_frames
from dreamvideo.render.keyframes import moment
from dreamvideo.render.zoom import apply, frame_dream_config, frame_transform, start_image, zoom_frames
from tests.conftest import SAMPLES

FAST = ["--size", "128x96", "--layers", "fire3", "--octaves", "1", "--steps", "2", "--frame-steps", "1",
        "--frame-octaves", "1", "-q"]


def _similarity(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Scale and rotation (degrees, counter-clockwise) taking picture a to picture b."""
    ga, gb = (cv2.cvtColor(np.clip(x, 0, 255).astype(np.uint8), cv2.COLOR_RGB2GRAY) for x in (a, b))
    pts = cv2.goodFeaturesToTrack(ga, 300, 0.01, 5)
    moved, ok, _ = cv2.calcOpticalFlowPyrLK(ga, gb, pts, None)
    matrix, _ = cv2.estimateAffinePartial2D(pts[ok == 1], moved[ok == 1], method=cv2.RANSAC)
    return math.hypot(matrix[0, 0], matrix[1, 0]), -math.degrees(math.atan2(matrix[1, 0], matrix[0, 0]))


def _photo(width=320, height=240):
    image = cv2.imread(str(SAMPLES / "coffee.jpg"))[:, :, ::-1]
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA).astype(np.float32)


def test_frame_transform_is_the_requested_motion_per_frame():
    config = ZoomConfig(zoom=2.0, rotate=20.0, fps=10)
    m = moment(config, {"a": 1.0}, 0.0)
    photo = _photo()
    scale, angle = _similarity(photo, apply(photo, frame_transform(m, 10, (320, 240), (0.5, 0.5))))
    assert scale == pytest.approx(2.0 ** 0.1, abs=0.005) and angle == pytest.approx(2.0, abs=0.2)


def test_borders_are_never_black():  # zooming out, rotating and panning
    photo = _photo()
    m = moment(ZoomConfig(zoom=0.3, rotate=45, pan=(40, 0)), {"a": 1.0}, 0.0)
    moved = apply(photo, np.linalg.matrix_power(frame_transform(m, 2, (320, 240), (0.5, 0.5)), 3))
    for edge in (moved[0], moved[-1], moved[:, 0], moved[:, -1]):
        assert edge.mean() > 40 and (edge.max(axis=-1) > 10).mean() > 0.98


def _run(config, dream=lambda img, m, n: img):
    calls = []

    def counted(img, m, n):
        calls.append(n)
        return dream(img, m, n)

    return [frame for _, frame, _ in zoom_frames(_photo(), config, counted, {"a": 1.0})], calls


def test_frame_count_and_consecutive_frames_follow_the_transform():
    config = ZoomConfig(duration=1.5, fps=8, zoom=1.5, rotate=-16)
    frames, calls = _run(config)
    assert len(frames) == 12 and len(calls) == 11
    step = frame_transform(moment(config, {"a": 1}, 0), 8, (320, 240), (0.5, 0.5))
    np.testing.assert_allclose(frames[5], apply(frames[4], step), atol=1e-3)
    scale, angle = _similarity(frames[3], frames[4])
    assert scale == pytest.approx(1.5 ** (1 / 8), abs=0.005) and angle == pytest.approx(-2.0, abs=0.2)


def test_same_motion_per_second_at_any_frame_rate():
    slow, _ = _run(ZoomConfig(duration=1.0, fps=6, zoom=1.6, rotate=12))
    fast, _ = _run(ZoomConfig(duration=1.0, fps=24, zoom=1.6, rotate=12))
    assert len(slow) == 6 and len(fast) == 24
    scale_slow, angle_slow = _similarity(slow[0], slow[3])  # both half a second in
    scale_fast, angle_fast = _similarity(fast[0], fast[12])
    assert scale_slow == pytest.approx(scale_fast, abs=0.01) == pytest.approx(1.6**0.5, abs=0.02)
    assert angle_slow == pytest.approx(angle_fast, abs=0.3)
    per = {fps: frame_dream_config(DreamConfig(step_size=0.006), ZoomConfig(fps=fps)).step_size
           for fps in (12, 24, 60)}
    assert per[12] * 12 == pytest.approx(per[24] * 24) == pytest.approx(per[60] * 60)  # dream per second


def test_interpolate_dreams_k_times_less_and_stays_on_the_motion():
    config = ZoomConfig(frames=13, fps=12, zoom=1.5, rotate=10)
    plain, plain_calls = _run(config)
    k4, k4_calls = _run(ZoomConfig(frames=13, fps=12, zoom=1.5, rotate=10, interpolate=4))
    assert len(plain) == len(k4) == 13
    assert (len(plain_calls), len(k4_calls)) == (12, 3) and k4_calls == [4, 8, 12]
    inner = (slice(40, -40), slice(40, -40))  # away from reflected borders
    assert np.abs(plain[6][inner] - k4[6][inner]).mean() < 3  # between dreamed frames: same motion

    def brighten(img, m, n):
        return np.clip(img + 8, 0, 255)

    k4, _ = _run(ZoomConfig(frames=9, fps=12, zoom=1.0, interpolate=4), brighten)
    means = [f.mean() for f in k4]
    assert np.all(np.diff(means[:5]) > 1)  # the dream fades in over the K frames, no jump


def test_start_image_is_seeded():
    a, b = start_image((64, 48), 1), start_image((64, 48), 2)
    assert a.shape == (48, 64, 3) and np.array_equal(a, start_image((64, 48), 1)) and not np.array_equal(a, b)
    assert 60 < a.mean() < 200 and a.std() > 10


@pytest.mark.usefixtures("squeezenet_weights")
def test_cli_zoom_from_noise_is_deterministic(tmp_path):
    for name in ("a", "b"):
        assert main(["zoom", "-o", str(tmp_path / name), "--duration", "0.5", "--fps", "12", "--seed", "3",
                     "--rotate", "20", *FAST]) == 0
    a, b = sorted((tmp_path / "a").glob("*.png")), sorted((tmp_path / "b").glob("*.png"))
    assert len(a) == 6
    assert all(np.array_equal(cv2.imread(str(x)), cv2.imread(str(y))) for x, y in zip(a, b, strict=True))
    assert main(["zoom", "-o", str(tmp_path / "c"), "--duration", "0.5", "--fps", "12", "--seed", "4",
                 "--rotate", "20", *FAST]) == 0
    c = sorted((tmp_path / "c").glob("*.png"))
    assert not np.array_equal(cv2.imread(str(a[-1])), cv2.imread(str(c[-1])))


@pytest.mark.usefixtures("squeezenet_weights")
def test_cli_zoom_from_input_to_mp4_with_keyframes(tmp_path):
    out = tmp_path / "z.mp4"
    assert main(["zoom", str(SAMPLES / "coffee.jpg"), "-o", str(out), "--max-size", "160", "--frames", "8",
                 "--fps", "8", "--keyframe", "0.5 zoom=3 layers=fire2=1", "--interpolate", "2",
                 *FAST[2:]]) == 0
    info = probe(out)
    assert (info.width, info.height, info.fps) == (160, 106, 8)
    assert sum(1 for _ in read_frames(out)) == 8


@pytest.mark.parametrize("argv, message", [
    (["--zoom", "0"], "zoom.zoom (--zoom) must be a number > 0"),
    (["--duration", "0"], "zoom.duration (--duration) must be"),
    (["--fps", "-5"], "zoom.fps (--fps) must be"),
    (["--size", "40x30"], "need at least"),
    (["--size", "big"], "expected a size like 640x360"),
    (["--keyframe", "2 spin=1"], "unknown keyframe key"),
    (["{tmp}/missing.png"], "does not exist"),
])
@pytest.mark.usefixtures("squeezenet_weights")
def test_bad_zoom_input(tmp_path, capsys, argv, message):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    try:
        code = main(["zoom", *argv, "-o", str(tmp_path / "z.mp4"), "--layers", "fire5", "-q"])
    except SystemExit as e:
        code = e.code
    assert code == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and err[0].startswith("dreamvideo: error: ") and message in err[0], err
    assert list(tmp_path.iterdir()) == []


def test_sub_percent_zoom_per_frame():
    config = ZoomConfig(zoom=1.2, fps=60)  # 0.3 % per frame
    step = frame_transform(moment(config, {"a": 1}, 0), 60, (320, 240), (0.5, 0.5))
    photo = _photo()
    scale, _ = _similarity(photo, apply(photo, np.linalg.matrix_power(step, 10)))
    assert scale == pytest.approx(1.2 ** (10 / 60), abs=0.003)
    assert 1.002 < math.hypot(step[0, 0], step[1, 0]) < 1.004


@pytest.mark.usefixtures("squeezenet_weights")
def test_pan_and_center_flags(tmp_path):
    from dreamvideo.media.provenance import read_config

    out = tmp_path / "p"
    assert main(["zoom", "-o", str(out), "--frames", "2", "--pan", "10,5", "--center", "0.3,0.6", *FAST]) == 0
    text = read_config(out)
    assert "pan = [10.0, 5.0]" in text and "center = [0.3, 0.6]" in text


@pytest.mark.usefixtures("squeezenet_weights")
def test_zoom_with_a_soundtrack_follows_it_and_keeps_it(tmp_path, media):
    out = tmp_path / "z.mp4"
    assert main(["zoom", str(SAMPLES / "coffee.jpg"), "-o", str(out), "--max-size", "160", "--duration",
                 "1.5", "--fps", "8", "--audio", str(media.beat), "--audio-react", "0.8", *FAST[2:]]) == 0
    info = probe(out)
    assert info.has_audio and sum(1 for _ in read_frames(out)) == 12
    assert info.duration == pytest.approx(1.5, abs=0.1)  # the sound is cut to the picture


@pytest.mark.usefixtures("squeezenet_weights")
def test_audio_react_without_a_soundtrack_is_refused(tmp_path, capsys):
    assert main(["zoom", "-o", str(tmp_path / "z.mp4"), "--audio-react", "0.5", *FAST]) == 2
    assert "--audio FILE" in capsys.readouterr().err


@pytest.mark.usefixtures("squeezenet_weights")
def test_coherence_keeps_a_zoom_from_burning_out(tmp_path):
    """Two seconds of feedback at 12 fps: without coherence the colours run away."""
    from dreamvideo.temporal.look import colourfulness

    ratios = {}
    for mode in ("none", "lab"):
        out = tmp_path / mode
        assert main(["zoom", str(SAMPLES / "chelsea.jpg"), "-o", str(out), "--max-size", "160", "--duration",
                     "2", "--fps", "12", "--seed", "1", "--color-coherence", mode, "-q", "--octaves",
                     "2"]) == 0
        frames = [cv2.imread(str(p))[..., ::-1] for p in sorted(out.glob("*.png"))]
        ratios[mode] = colourfulness(frames[-1]) / colourfulness(frames[0])
    assert ratios["none"] > 1.4
    assert 0.75 < ratios["lab"] < 1.33


def _streaks(frame: np.ndarray, band: float = 0.06, lag: int = 3) -> float:
    """How streaky the borders are: in the outer band of each side, how much more alike
    pixels ``lag`` apart across the edge are than pixels ``lag`` apart along it (streaks
    run across the edge: rows repeat at the left and right, columns at top and bottom).
    About 0 for a texture, towards 1 for smeared rows."""
    gray = frame.astype(np.float32).mean(axis=-1)
    height, width = gray.shape
    bw, bh = max(lag + 2, int(width * band)), max(lag + 2, int(height * band))

    def alike(a, b):
        return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])

    sides = []
    for strip in (gray[:, :bw], gray[:, -bw:]):
        sides.append(alike(strip[:, :-lag], strip[:, lag:]) - alike(strip[:-lag], strip[lag:]))
    for strip in (gray[:bh], gray[-bh:]):
        sides.append(alike(strip[:-lag], strip[lag:]) - alike(strip[:, :-lag], strip[:, lag:]))
    return max(sides)


@pytest.mark.usefixtures("squeezenet_weights")
def test_zooming_out_fills_the_borders_without_streaks(tmp_path):
    """Zooming out reveals a band at every edge each frame; a mirrored copy of the edge
    stacked frame after frame into streaks (0.20-0.32 after 1.5 s at 0.7x/s); the revealed
    band is now the picture's colours blurred, with grain the dream grows into."""
    out = tmp_path / "out"
    assert main(["zoom", "-o", str(out), "--size", "192x128", "--duration", "3", "--fps", "12", "--zoom",
                 "0.7", "--seed", "1", "-q"]) == 0
    frames = [cv2.imread(str(p))[..., ::-1] for p in sorted(out.glob("*.png"))]
    assert len(frames) == 36
    assert max(_streaks(f) for f in frames[18:]) < 0.1
    # the filled borders are dreamed like the rest, not flat: their detail is near the middle's
    last = frames[-1].astype(np.float32).mean(axis=-1)
    detail = np.abs(np.diff(last, axis=1))
    assert detail[:, :10].mean() > 0.4 * detail[:, 86:106].mean()


def test_revealed_borders_are_filled_the_same_way_each_time():
    photo = _photo()
    step = frame_transform(moment(ZoomConfig(zoom=0.5), {"a": 1.0}, 0.0), 2, (320, 240), (0.5, 0.5))
    assert np.array_equal(apply(photo, step, 7), apply(photo, step, 7))
    assert not np.array_equal(apply(photo, step, 7), apply(photo, step, 8))  # grain of its own per frame
    inside = apply(photo, step, 7)[90:150, 120:200]
    assert np.array_equal(inside, apply(photo, step, 8)[90:150, 120:200])  # the picture itself: no grain
