"""The one thread-safe LRU of featviz: values built once per key, bounded by count or, with `getsizeof`,
by size (cachetools' LRUCache under a lock). Every store and shelf, the core's and the dashboard's, keeps
its values in one."""

from __future__ import annotations

import threading
from typing import Any, Callable, Hashable, TypeVar

from cachetools import LRUCache

T = TypeVar("T")


class Bounded:
    """At most `maxsize` values (or, with `getsizeof`, values whose sizes add up to at most `maxsize`), least
    recently used out first; a value larger than the whole bound is handed out but not kept.

    The cache's lock is held only to look up, keep and drop values, never while a value is built: each key
    has its own build lock, so a slow build of one key makes only callers of that key wait.
    """

    def __init__(self, maxsize: int, getsizeof: Callable[[Any], int] | None = None) -> None:
        self._items: LRUCache[Hashable, object] = LRUCache(maxsize, getsizeof=getsizeof)
        self._lock = threading.Lock()  # guards the cache and the build locks (cachetools' are not thread-safe)
        self._builds: dict[Hashable, threading.Lock] = {}

    @property
    def maxsize(self) -> int:
        return int(self._items.maxsize)

    @property
    def currsize(self) -> int:
        return int(self._items.currsize)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._items

    def keys(self) -> list[Hashable]:
        with self._lock:
            return list(self._items)

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

    def drop(self, keep: Callable[[Hashable], bool]) -> None:
        """Drop every value whose key `keep` rejects."""
        with self._lock:
            for key in [key for key in self._items if not keep(key)]:
                del self._items[key]

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        """The value of `key`, built by `build()` when it is not kept (once: a second caller of the same key
        waits for the first build, then finds its value)."""
        found = self.find(key)
        if found is not None:
            return found  # type: ignore[return-value]
        with self._lock:
            building = self._builds.setdefault(key, threading.Lock())
        try:
            with building:
                found = self.find(key)
                if found is not None:
                    return found  # type: ignore[return-value]
                value = build()
                self.put(key, value)
                return value
        finally:
            with self._lock:  # the build lock is kept only while builds of the key run, whether they succeed or fail
                if self._builds.get(key) is building:
                    del self._builds[key]
