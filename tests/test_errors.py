"""Telling an out-of-memory error of any backend without importing one."""

import pytest

from dreamvideo.errors import DreamvideoError, out_of_memory


class ResourceExhaustedError(RuntimeError):  # TensorFlow's, by its name
    pass


class OutOfMemoryError(RuntimeError):  # PyTorch's
    pass


class XlaRuntimeError(RuntimeError):  # JAX's, which says so in its message
    pass


@pytest.mark.parametrize(("error", "expected"), [
    (MemoryError(), True), (ResourceExhaustedError("OOM when allocating"), True),
    (OutOfMemoryError("CUDA out of memory"), True),
    (XlaRuntimeError("RESOURCE_EXHAUSTED: Out of memory while trying to allocate"), True),
    (XlaRuntimeError("INVALID_ARGUMENT: shapes"), False), (OSError(28, "No space left"), False),
    (DreamvideoError("bad flag"), False)])
def test_out_of_memory_is_told_from_other_errors(error, expected):
    assert out_of_memory(error) is expected
