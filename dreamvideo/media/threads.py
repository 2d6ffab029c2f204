"""Run a stage in a background thread behind a bounded queue.

Frame n depends on output n-1, so the dream itself is strictly sequential; what can
run beside it is decoding and optical flow (ahead of it) and encoding (behind it).
The queues are bounded, so memory does not grow with the video's length.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
_DONE = object()


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


Clock = Callable[[str, float], None]  # (stage, seconds): busy or waiting time, for `bench video`


def prefetch(items: Iterable[T], depth: int = 4, clock: Clock | None = None, name: str = "") -> Iterator[T]:
    """Iterate ``items`` in a worker thread, at most ``depth`` ahead of the consumer.

    Exceptions in the worker are raised in the consumer, in order. Closing the returned
    generator stops the worker and closes ``items`` (so ffmpeg processes end). ``clock``
    hears how long the consumer waited on this hand-off, as ``wait <name>``.
    """
    q: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def work() -> None:
        iterator = iter(items)
        try:
            for item in iterator:
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(_DONE)
        except BaseException as e:  # handed to the consumer
            q.put(_Failure(e))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=work, name="dreamvideo-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            begun = time.perf_counter()
            item = q.get()
            if clock is not None:
                clock(f"wait {name}", time.perf_counter() - begun)
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stop.set()
        while worker.is_alive():
            try:
                q.get_nowait()
            except queue.Empty:
                worker.join(0.05)


class Behind:
    """Call ``consume(item)`` for each submitted item in a worker thread, in order.

    ``submit`` blocks when ``depth`` items are waiting (``clock`` hears how long, as
    ``wait <name>``); ``close`` waits for the rest and raises the worker's error, if any.
    """

    def __init__(self, consume: Callable[[Any], None], depth: int = 4, clock: Clock | None = None,
                 name: str = "") -> None:
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._clock, self._name = clock, name
        self._error: BaseException | None = None
        self._consume = consume
        self._thread = threading.Thread(target=self._work, name="dreamvideo-behind", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while (item := self._queue.get()) is not _DONE:
            if self._error is None:
                try:
                    self._consume(item)
                except BaseException as e:
                    self._error = e

    def submit(self, item: Any) -> None:
        if self._error is not None:
            raise self._error
        begun = time.perf_counter()
        self._queue.put(item)
        if self._clock is not None:  # how long the producer waited on this hand-off
            self._clock(f"wait {self._name}", time.perf_counter() - begun)

    def close(self) -> None:
        self._queue.put(_DONE)
        self._thread.join()
        if self._error is not None:
            raise self._error


class StageClock:
    """Busy seconds per stage, added from any thread."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._lock = threading.Lock()

    def __call__(self, stage: str, seconds: float) -> None:
        with self._lock:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds


def timed(items: Iterator, clock: StageClock | None, stage: str) -> Iterator:
    """``items``, with the time spent producing each one added to ``stage``."""
    try:
        while True:
            start = time.perf_counter()
            try:
                item = next(items)
            except StopIteration:
                return
            if clock is not None:
                clock(stage, time.perf_counter() - start)
            yield item
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            close()
