"""A small thread-safe LRU cache whose values are built once per key, bounded by count or, with
`getsizeof`, by size (cachetools' LRUCache). The server's shelves keep what every session shares in it."""

from __future__ import annotations

import threading
from typing import Any, Callable, Hashable, TypeVar

from cachetools import LRUCache

T = TypeVar("T")


class Bounded:
    """At most `maxsize` values (or, with `getsizeof`, values whose sizes add up to at most `maxsize`), least
    recently used out first; a value larger than the whole bound is handed out but not kept."""

    def __init__(self, maxsize: int, getsizeof: Callable[[Any], int] | None = None) -> None:
        self._items: LRUCache[Hashable, object] = LRUCache(maxsize, getsizeof=getsizeof)
        self._lock = threading.Lock()  # guards the cache (cachetools' are not thread-safe), held briefly
        self._building = threading.Lock()  # one build at a time

    def find(self, key: Hashable) -> object | None:
        """The value of `key` (now the most recently used), or None."""
        with self._lock:
            return self._items.get(key)

    def put(self, key: Hashable, value: object) -> None:
        """Keep `value` under `key` (replacing what was there), unless it alone is larger than the bound."""
        with self._lock:
            self._items.pop(key, None)
            if self._items.getsizeof(value) <= self._items.maxsize:
                self._items[key] = value

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        """The value of `key`, built by `build()` when it is not kept."""
        found = self.find(key)
        if found is not None:
            return found  # type: ignore[return-value]
        with self._building:  # a second session asking for the same key waits, then finds it
            found = self.find(key)
            if found is not None:
                return found  # type: ignore[return-value]
            value = build()
            self.put(key, value)
            return value
