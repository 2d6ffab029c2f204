"""The one exception type the CLI turns into `dreamvideo: error: ...` and exit code 2."""


class DreamvideoError(Exception):
    """A problem the user can fix (bad input, bad option, missing weights).

    The message is shown as is, on one line, so it should say what to do.
    """


class RenderInterrupted(DreamvideoError):
    """Ctrl-C: the frames done so far are saved; the message says how to go on."""


class StreamBroken(DreamvideoError):
    """Decoding stopped half-way: the frames before it are good."""
