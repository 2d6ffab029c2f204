"""Import TensorFlow and Keras once, without the C++ start-up chatter on the terminal.

TensorFlow prints CUDA probing lines on stderr before its logging is configured; they
alarm users of CPU machines. They are captured during the import and shown only if
the import fails or ``TF_CPP_MIN_LOG_LEVEL`` is set to 0 or 1 by the user.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile

_user_level = os.environ.get("TF_CPP_MIN_LOG_LEVEL")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def _import_quietly():
    if _user_level in ("0", "1"):
        import keras
        import tensorflow

        return tensorflow, keras
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            import keras
            import tensorflow
        except BaseException:
            os.dup2(saved, 2)
            capture.seek(0)
            sys.stderr.write(capture.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    return tensorflow, keras


class _ExpectedRetracing(logging.Filter):
    """Each Dreamer compiles its own graph once (one per model and layer set); TensorFlow
    counts those together and warns of "retracing". Real retracing is tested for."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


tf, keras = _import_quietly()
tf.get_logger().addFilter(_ExpectedRetracing())
