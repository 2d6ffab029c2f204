"""The same dream computations on whichever backend this process runs, for
tests/test_backends.py to compare across backends:

    KERAS_BACKEND=jax python -m tests.core.backend_probe OUT.npz [--real]
"""

from __future__ import annotations

import sys

import numpy as np


def _noise(h: int, w: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (128 + rng.normal(0, 20, (h, w, 3))).clip(0, 255).astype(np.float32)


def probe(real: bool) -> dict[str, np.ndarray]:
    """Loss and gradient of the tiny network, an untiled and a tiled octave on it, and with
    ``real`` the loss curves of SqueezeNet on the cat."""
    from dreamvideo.core.backends import load_keras
    from dreamvideo.core.dream import Dreamer, dream
    from dreamvideo.core.plan import OctavePlan, splits
    from tests.conftest import SAMPLES, tiny_extractor_for

    ops = load_keras().ops
    out: dict[str, np.ndarray] = {}
    dreamer = Dreamer(tiny_extractor_for())
    image, weights = _noise(48, 64, 1), ops.convert_to_tensor(np.array([1.0, 0.5], np.float32))
    loss, grad = dreamer.gradient(ops.convert_to_tensor(image), weights)
    out["tiny_loss"], out["tiny_grad"] = np.float64(ops.convert_to_numpy(loss)), ops.convert_to_numpy(grad)
    shifts = np.array([[0, 0], [3, -5], [-7, 2]], np.int32)
    for name, tile in (("untiled", 4096), ("tiled", 20)):
        plan = OctavePlan((48, 64), splits(48, tile), splits(64, tile), shifts)
        img, losses, taken = dreamer.octave(ops.convert_to_tensor(image), weights, plan, 1.5, np.inf)
        out[f"tiny_{name}_image"] = ops.convert_to_numpy(img)
        out[f"tiny_{name}_losses"] = ops.convert_to_numpy(losses)[:int(taken)]
    # a guided dream on channel terms: the guide's match and the channel slices, on every backend
    from dreamvideo.core.guide import guided
    from dreamvideo.core.models import LoadedModel, dreamable_layers, make_extractor
    from tests.conftest import tiny_network

    net = tiny_network()
    terms = make_extractor(LoadedModel("tiny", net, "tf", dreamable_layers(net), ()), ["a:0-3", "b:5"])
    steered = Dreamer(guided(terms, _noise(40, 40, 7)))
    both = ops.convert_to_tensor(np.array([0.5, 0.5, 1.0, 2.0], np.float32))  # plain, then guided
    loss, grad = steered.gradient(ops.convert_to_tensor(image), both)
    out["guided_loss"] = np.float64(ops.convert_to_numpy(loss))
    out["guided_grad"] = ops.convert_to_numpy(grad)
    # the device flow both ways (temporal.deviceflow): a picture and itself moved by about 2 px
    from dreamvideo.temporal.deviceflow import both_ways

    picture = _noise(40, 64, 9).mean(axis=-1)
    picture = picture + 40 * np.sin(np.arange(64) / 5.0)[None, :] + 40 * np.cos(np.arange(40) / 4.0)[:, None]
    moved = np.roll(picture, (-1, 2), axis=(0, 1)) * 0.3 + np.roll(picture, (0, 1), axis=(0, 1)) * 0.7
    lum = [ops.convert_to_tensor(((p - p.mean()) / p.std())[..., None].astype(np.float32))
           for p in (picture, moved)]
    out["flow_both_ways"] = np.stack([ops.convert_to_numpy(f) for f in both_ways(*lum)])
    if real:
        import cv2
        import imageio.v3 as iio

        from dreamvideo.config import DreamConfig
        from dreamvideo.core.engine import Engine

        cat = cv2.resize(iio.imread(SAMPLES / "chelsea.jpg"), (240, 160), interpolation=cv2.INTER_AREA)
        squeeze = Engine().dreamer(("fire5", "fire7"))
        layers = {"fire5": 1.0, "fire7": 1.5}
        curve: list[float] = []
        result = dream(cat.astype(np.float32), squeeze, DreamConfig(octaves=2, steps=8, seed=1), layers,
                       on_octave=lambda i, n, losses, image: curve.extend(losses.tolist()))
        out["real_losses"] = np.array(curve)
        out["real_strength"] = np.float64(np.abs(result - cat).mean())
    return out


if __name__ == "__main__":
    np.savez(sys.argv[1], **probe("--real" in sys.argv))
