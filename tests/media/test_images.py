import imageio.v3 as iio
import numpy as np
import pytest
from PIL import Image

from dreamvideo.errors import DreamvideoError
from dreamvideo.media.images import Still, fit_max_size, read_still, to_still, to_uint8, write_still


def test_sixteen_bit_png(tmp_path):
    gray16 = np.linspace(0, 65535, 40 * 30).reshape(30, 40).astype(np.uint16)
    Image.fromarray(gray16).save(tmp_path / "g16.png")
    still = read_still(tmp_path / "g16.png")
    assert still.rgb.dtype == np.uint8 and still.rgb.shape == (30, 40, 3)
    assert still.rgb[0, 0, 0] == 0 and still.rgb[-1, -1, 0] == 255


def test_grayscale_rgba_and_webp(tmp_path):
    Image.fromarray(np.full((20, 30), 77, np.uint8)).save(tmp_path / "g.png")
    assert (read_still(tmp_path / "g.png").rgb == 77).all()
    rgba = np.zeros((20, 30, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 200, 0
    rgba[:, :15, 3] = 255
    Image.fromarray(rgba).save(tmp_path / "a.png")
    still = read_still(tmp_path / "a.png")
    assert still.alpha is not None and still.alpha[0, 0] == 255 and still.alpha[0, 29] == 0
    assert tuple(still.rgb[0, 0]) == (200, 0, 0) and tuple(still.rgb[0, 29]) == (255, 255, 255)
    Image.fromarray(np.full((20, 30, 3), 120, np.uint8)).save(tmp_path / "w.webp", lossless=True)
    assert (read_still(tmp_path / "w.webp").rgb == 120).all()


def test_exif_orientation_is_respected(tmp_path):
    pixels = np.zeros((20, 40, 3), np.uint8)
    pixels[:, :20] = 255  # left half white
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    Image.fromarray(pixels).save(tmp_path / "r.jpg", exif=exif, quality=95)
    rgb = read_still(tmp_path / "r.jpg").rgb
    assert rgb.shape == (40, 20, 3)  # upright: taller than wide
    assert rgb[:15].mean() > 200 and rgb[-15:].mean() < 50  # white half is now on top


def test_dtypes_and_channel_layouts():
    assert to_uint8(np.array([0.0, 0.5, 1.0])).tolist() == [0, 128, 255]
    assert to_uint8(np.array([True, False])).tolist() == [255, 0]
    assert to_still(np.zeros((4, 5, 2))).alpha is not None
    with pytest.raises(DreamvideoError, match="shape"):
        to_still(np.zeros((4, 5, 6)))


@pytest.mark.parametrize("make, message", [
    (lambda p: None, "does not exist"),
    (lambda p: p.mkdir(), "is a directory"),
    (lambda p: p.write_bytes(b""), "is empty"),
    (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 20), "cannot read"),
])
def test_bad_inputs(tmp_path, make, message):
    path = tmp_path / "in.png"
    make(path)
    with pytest.raises(DreamvideoError, match=message):
        read_still(path)


def test_max_size_only_shrinks():
    still = Still(np.zeros((300, 451, 3), np.uint8), np.zeros((300, 451), np.uint8))
    small = fit_max_size(still, 100)
    assert small.rgb.shape == (67, 100, 3) and small.alpha.shape == (67, 100)
    assert fit_max_size(still, 1000) is still


def test_write_keeps_alpha_where_the_format_can(tmp_path):
    still = Still(np.full((10, 12, 3), 50, np.uint8), np.full((10, 12), 128, np.uint8))
    write_still(tmp_path / "o.png", still)
    assert iio.imread(tmp_path / "o.png").shape == (10, 12, 4)
    write_still(tmp_path / "o.jpg", still)
    assert iio.imread(tmp_path / "o.jpg").shape == (10, 12, 3)
    write_still(tmp_path / "o.webp", Still(still.rgb))
    assert iio.imread(tmp_path / "o.webp").shape == (10, 12, 3)


def test_unreadable_input(tmp_path, monkeypatch):
    """Permissions cannot be taken from root, so the check's own view is patched."""
    import os

    path = tmp_path / "secret.png"
    path.write_bytes(b"x")
    monkeypatch.setattr(os, "access", lambda p, mode: False)
    with pytest.raises(DreamvideoError, match="not readable"):
        read_still(path)
