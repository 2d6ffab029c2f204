import numpy as np
import pytest

from dreamvideo.render.gallery import GAP, LABEL_HEIGHT, contact_sheet, label_cell


def test_label_cell_adds_a_strip_with_text():
    cell = label_cell(np.full((50, 80, 3), 200, np.uint8), "fire5")
    assert cell.shape == (50 + LABEL_HEIGHT, 80, 3)
    assert (cell[:50] == 200).all()
    strip = cell[50:]
    assert strip.max() > 150 and np.median(strip) < 50  # light text on a dark strip


def test_long_labels_are_shrunk_to_fit():
    cell = label_cell(np.zeros((20, 40, 3), np.uint8), "a_very_long_layer_name_indeed")
    assert cell.shape == (20 + LABEL_HEIGHT, 40, 3)


def test_contact_sheet_grid():
    cells = [np.full((10, 20, 3), i * 40, np.uint8) for i in range(5)]
    sheet = contact_sheet(cells)
    assert sheet.shape == (2 * (10 + GAP) + GAP, 3 * (20 + GAP) + GAP, 3)
    assert (sheet[GAP:GAP + 10, GAP:GAP + 20] == 0).all()
    assert (sheet[2 * GAP + 10:2 * GAP + 20, 2 * GAP + 20:2 * GAP + 40] == 160).all()  # row 2, col 2
    with pytest.raises(ValueError, match="at least one"):
        contact_sheet([])
    with pytest.raises(ValueError, match="shape"):
        contact_sheet([np.zeros((2, 2, 3), np.uint8), np.zeros((3, 2, 3), np.uint8)])
