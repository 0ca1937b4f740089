"""One bounded store for the server's results: finished renders by settings, stopped ones by session.

Shared by every session (it lives in `server.py`), least recently used first out, bounded in bytes
(every image and snapshot counted), so more distinct renders never make the server grow further.
"""

from __future__ import annotations

import threading
from typing import Hashable

from cachetools import LRUCache

from featviz_core.results import Result
from featviz_core.settings import RenderSettings

DEFAULT_MAX_BYTES = 96 * 2**20


def result_bytes(result: Result) -> int:
    """Memory a result holds: its picture, its losses and every snapshot."""
    return result.image.nbytes + result.losses.nbytes + sum(snapshot.image.nbytes for snapshot in result.snapshots)


class ResultStore:
    """Results by key, LRU, at most `max_bytes` in all (a single result larger than that is not kept)."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._items: LRUCache[Hashable, Result] = LRUCache(max_bytes, getsizeof=result_bytes)
        self._lock = threading.Lock()  # cachetools' caches are not thread-safe

    @property
    def max_bytes(self) -> int:
        return int(self._items.maxsize)

    @property
    def nbytes(self) -> int:
        return int(self._items.currsize)

    def __len__(self) -> int:
        return len(self._items)

    def finished(self, settings: RenderSettings) -> Result | None:
        """The finished render of these settings, by anyone."""
        return self._get(("finished", settings))

    def stopped(self, session: str, settings: RenderSettings) -> Result | None:
        """What this session's stopped render of these settings had reached."""
        return self._get(("stopped", session, settings))

    def keep(self, result: Result, stopped_by: str | None = None) -> None:
        """Keep a finished result for everyone, or a stopped one for the session that stopped it."""
        if result.cancelled:
            if stopped_by is not None:
                self._put(("stopped", stopped_by, result.settings), result)
            return
        self._put(("finished", result.settings), result)

    def _get(self, key: Hashable) -> Result | None:
        with self._lock:
            return self._items.get(key)

    def _put(self, key: Hashable, result: Result) -> None:
        with self._lock:
            self._items.pop(key, None)  # a newer result of the same key replaces it, even one too large to keep
            if result_bytes(result) <= self._items.maxsize:
                self._items[key] = result


class FigureStore:
    """Measured quality figures by (settings, steps run): small, so bounded by count."""

    def __init__(self, size: int = 512) -> None:
        self._items: LRUCache[Hashable, object] = LRUCache(size)
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> object | None:
        with self._lock:
            return self._items.get(key)

    def put(self, key: Hashable, figures: object) -> None:
        with self._lock:
            self._items[key] = figures
