"""Make the sample video input: a slow camera move over the CC0 coffee photo.

We may not ship the film clips the tests use, so the video sample is generated:
3 seconds at 24 fps, 384x216, panning right and zooming in a little, so optical flow
has real motion to follow. Run from the repository root: python samples/make_inputs.py
"""

from pathlib import Path

import cv2
import imageio.v3 as iio
import numpy as np

from dreamvideo.media.writers import Encoding, open_writer

HERE = Path(__file__).parent
SIZE, FPS, SECONDS = (384, 216), 24, 3


def main() -> None:
    photo = iio.imread(HERE / "inputs" / "coffee.jpg")  # 600x400
    frames = FPS * SECONDS
    with open_writer(HERE / "inputs" / "coffee-pan.mp4", Encoding(SIZE, FPS, quality=16)) as writer:
        for i in range(frames):
            t = i / (frames - 1)
            scale = 0.7 + 0.25 * t  # output pixels per photo pixel: a slow zoom in
            x0, y0 = 40 + 140 * t, 60 + 20 * t  # top-left of the view, in photo pixels
            matrix = np.float32([[scale, 0, -x0 * scale], [0, scale, -y0 * scale]])
            frame = cv2.warpAffine(photo, matrix, SIZE, flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REFLECT)
            writer.write(frame)
    print("wrote", HERE / "inputs" / "coffee-pan.mp4")


if __name__ == "__main__":
    main()
