"""The choices a setting offers, each list written once: the config fields check them, the
command line offers them, and the modules that implement them are tested against them
(``tests/config/test_choices.py``)."""

BACKENDS = ("tensorflow", "jax", "torch")  # Keras backends (dreamvideo.core.backends.<name>)
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")  # Keras dtype policies
PREPROCESSING = ("caffe", "tf", "torch")  # input preprocessing of a .keras model (core.preprocess)
TEMPORAL_MODES = ("flow", "blend", "none")  # how a video frame reuses the last dream (temporal.carry)
HOST_FLOWS = ("dis", "farneback")  # host optical flow, OpenCV (temporal.flow); the judges of `score`
FLOWS = ("auto", "device", *HOST_FLOWS)  # a video's flow; device: keras.ops (temporal.deviceflow)
FLOW_PRESETS = ("ultrafast", "fast", "medium")  # OpenCV DIS presets
RESAMPLING = ("linear", "cubic")  # how the carried dream is resampled along the flow
FLOW_POOLS = ("threads", "processes")
CODECS = ("libx264", "libx265", "libaom-av1", "libvpx-vp9", "gif")  # encoders (media.writers)
COLOR_SPACES = ("lab", "rgb", "hsv", "none")  # colour coherence (temporal.coherence)
