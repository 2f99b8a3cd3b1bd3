"""Fetch the next page while the current one is being written: overlap HTTP with dlt's extraction."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


def prefetched(
    *streams: Iterator[T], depth: int = 2, abort: Callable[[], BaseException | None] | None = None
) -> Iterator[T]:
    """Iterate `streams` in background threads, one each, at most `depth` items ahead per stream.

    Token-paged lists cannot be fetched in parallel (each page names the next), but fetching page n+1
    while dlt writes page n hides most of one behind the other, and independent streams (a list split
    by time windows) overlap each other's waits. Items come in arrival order. Errors are re-raised in
    the consumer; a consumer that stops early (an incremental cursor reached) stops the fetching too.
    `abort` is asked while waiting: an exception it returns is raised at once (the run is stopping, and
    dlt's worker thread that runs this consumer must end within dlt's 2 s shutdown wait).
    Written by hand because the standard library has no bounded, cancellable generator prefetch.
    """
    buffer: queue.Queue[object] = queue.Queue(maxsize=depth * max(1, len(streams)))
    stop = threading.Event()

    def produce(pages: Iterator[T]) -> None:
        try:
            for page in pages:
                while not stop.is_set():
                    try:
                        buffer.put(page, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            buffer.put(_DONE)
        except BaseException as error:  # handed to the consumer, which raises it
            buffer.put(error)
        finally:
            close = getattr(pages, "close", None)
            if close is not None:
                close()

    workers = [threading.Thread(target=produce, args=(s,), name="fleetlake-prefetch", daemon=True) for s in streams]
    for worker in workers:
        worker.start()
    try:
        running = len(workers)
        while running:
            try:
                item = buffer.get(timeout=0.1)
            except queue.Empty:
                stopped = abort() if abort is not None else None
                if stopped is not None:
                    raise stopped from None
                continue
            if item is _DONE:
                running -= 1
                continue
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        # unblock producers waiting on a full buffer, then let them finish their request
        while any(worker.is_alive() for worker in workers):
            try:
                buffer.get_nowait()
            except queue.Empty:
                for worker in workers:
                    worker.join(0.05)
