"""Fetch the next page while the current one is being written: overlap HTTP with dlt's extraction."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


def prefetched(pages: Iterator[T], depth: int = 2) -> Iterator[T]:
    """Iterate `pages` in a background thread, at most `depth` pages ahead of the consumer.

    Token-paged lists cannot be fetched in parallel (each page names the next), but fetching page n+1
    while dlt writes page n hides most of one behind the other. Errors are re-raised in the consumer;
    a consumer that stops early (an incremental cursor reached) stops the fetching too. Written by hand
    because the standard library has no bounded, cancellable generator prefetch.
    """
    buffer: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
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

    worker = threading.Thread(target=produce, name="fleetlake-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = buffer.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        # unblock a producer waiting on a full buffer, then let it finish its request
        while worker.is_alive():
            try:
                buffer.get_nowait()
            except queue.Empty:
                worker.join(0.1)
