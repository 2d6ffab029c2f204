import threading
import time

import pytest

from dreamvideo.media.threads import Behind, prefetch


def test_prefetch_keeps_order_and_runs_ahead_in_another_thread():
    seen_threads = set()

    def items():
        for i in range(20):
            seen_threads.add(threading.current_thread().name)
            yield i

    assert list(prefetch(items(), depth=3)) == list(range(20))
    assert seen_threads == {"dreamvideo-prefetch"}


def test_prefetch_is_bounded_and_closes_the_source():
    produced, closed = [], []

    def items():
        try:
            for i in range(1000):
                produced.append(i)
                yield i
        finally:
            closed.append(True)

    gen = prefetch(items(), depth=2)
    assert next(gen) == 0
    time.sleep(0.2)
    assert len(produced) <= 4  # one consumed, two queued, one waiting to be queued
    gen.close()
    assert closed == [True]


def test_prefetch_raises_worker_errors_in_order():
    def items():
        yield 1
        raise ValueError("corrupt")

    gen = prefetch(items())
    assert next(gen) == 1
    with pytest.raises(ValueError, match="corrupt"):
        next(gen)


def test_behind_consumes_in_order_and_reports_errors():
    out = []
    behind = Behind(out.append, depth=2)
    for i in range(10):
        behind.submit(i)
    behind.close()
    assert out == list(range(10))

    def fail(item):
        raise OSError("disk full")

    behind = Behind(fail)
    behind.submit(1)
    with pytest.raises(OSError, match="disk full"):
        behind.close()
