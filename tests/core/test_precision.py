"""--precision: Keras dtype policies for the network; loss and normalisation in float32."""

import json

import cv2
import numpy as np
import pytest

from dreamvideo.cli import main
from dreamvideo.config import DreamConfig, ModelConfig
from dreamvideo.core.backends import load_keras
from dreamvideo.core.dream import dream
from dreamvideo.core.engine import Engine
from dreamvideo.errors import DreamvideoError

ops = load_keras().ops


@pytest.mark.parametrize("precision, dtype", [("mixed_bfloat16", "bfloat16"), ("mixed_float16", "float16")])
def test_network_computes_in_low_precision_and_the_dream_stays_float32(precision, dtype, engine,
                                                                       cat):
    dreamer = Engine(ModelConfig(precision=precision)).dreamer(("fire5",))
    convs = [layer for layer in dreamer.extractor.model.layers if layer.weights]
    assert {layer.compute_dtype for layer in convs} == {dtype}
    assert {w.dtype for layer in convs for w in layer.weights} == {"float32"}  # weights stay float32
    image = cv2.resize(cat, (180, 120), interpolation=cv2.INTER_AREA).astype(np.float32)
    loss, grad = dreamer.gradient(ops.convert_to_tensor(image), ops.convert_to_tensor(np.ones(1, np.float32)))
    loss, grad = ops.convert_to_numpy(loss), ops.convert_to_numpy(grad)
    assert loss.dtype == np.float32 and grad.dtype == np.float32
    assert np.isfinite(grad).all() and np.abs(grad).max() > 0
    low = dream(image, dreamer, DreamConfig(octaves=1, steps=4), {"fire5": 1.0})
    full = dream(image, engine.dreamer(("fire5",)), DreamConfig(octaves=1, steps=4),
                 {"fire5": 1.0})
    strength_low, strength_full = np.abs(low - image).mean(), np.abs(full - image).mean()
    assert strength_low == pytest.approx(strength_full, rel=0.15)  # the same dream, less exactly
    correlation = np.corrcoef((low - image).ravel(), (full - image).ravel())[0, 1]
    assert correlation > 0.6, correlation  # the same structures, grown from the same gradients


@pytest.mark.usefixtures("squeezenet_weights")
def test_precision_flag_is_checked_and_recorded(tmp_path, capsys):
    from dreamvideo.media.provenance import read_config

    out = tmp_path / "b.png"
    assert main(["still", "samples/inputs/chelsea.jpg", "-o", str(out), "--max-size", "128", "--octaves", "1",
                 "--steps", "1", "--layers", "fire3", "--precision", "mixed_bfloat16", "-q"]) == 0
    text = read_config(out)
    assert 'precision = "mixed_bfloat16"' in text and f'backend = "{load_keras().backend.backend()}"' in text
    with pytest.raises(DreamvideoError, match=r"model.precision \(--precision\) must be one of"):
        ModelConfig(precision="int8")
    assert main(["bench", "--size", "128x96", "--steps", "1", "--repeats", "1", "--layers", "fire3",
                 "--precision", "mixed_bfloat16", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["precision"] == "mixed_bfloat16" and result["backend"] == load_keras().backend.backend()
    assert result["device"]
