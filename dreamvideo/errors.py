"""The one exception type the CLI turns into `dreamvideo: error: ...` and exit code 2, and
how an error of any backend that ran out of memory is told."""


class DreamvideoError(Exception):
    """A problem the user can fix (bad input, bad option, missing weights).

    The message is shown as is, on one line, so it should say what to do.
    """


class RenderInterrupted(DreamvideoError):
    """Ctrl-C: the frames done so far are saved; the message says how to go on."""


class StreamBroken(DreamvideoError):
    """Decoding stopped half-way: the frames before it are good."""


OOM_NAMES = ("ResourceExhaustedError", "OutOfMemoryError")  # TensorFlow's, PyTorch's


def out_of_memory(error: BaseException) -> bool:
    """MemoryError, TensorFlow's ResourceExhaustedError, PyTorch's OutOfMemoryError, XLA's
    RESOURCE_EXHAUSTED, without importing any backend."""
    return (isinstance(error, MemoryError) or type(error).__name__ in OOM_NAMES
            or "RESOURCE_EXHAUSTED" in str(error)[:300])
