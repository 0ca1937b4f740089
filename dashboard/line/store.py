"""The server's results: finished renders by settings, stopped ones by session.

Shared by every session (it lives in `server.py`), least recently used first out, bounded in bytes
(every image and snapshot counted), so more distinct renders never make the server grow further.
"""

from __future__ import annotations

from featviz_core.bounded import Bounded
from featviz_core.results import Result
from featviz_core.settings import RenderSettings

DEFAULT_MAX_BYTES = 96 * 2**20


def result_bytes(result: Result) -> int:
    """Memory a result holds: its picture, its losses and every snapshot."""
    return result.image.nbytes + result.losses.nbytes + sum(snapshot.image.nbytes for snapshot in result.snapshots)


class ResultStore:
    """Results by key, LRU, at most `max_bytes` in all (a single result larger than that is not kept)."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._items = Bounded(max_bytes, getsizeof=result_bytes)

    @property
    def max_bytes(self) -> int:
        return self._items.maxsize

    @property
    def nbytes(self) -> int:
        return self._items.currsize

    def __len__(self) -> int:
        return len(self._items)

    def finished(self, settings: RenderSettings) -> Result | None:
        """The finished render of these settings, by anyone."""
        return self._items.find(("finished", settings))  # type: ignore[return-value]

    def stopped(self, session: str, settings: RenderSettings) -> Result | None:
        """What this session's stopped render of these settings had reached."""
        return self._items.find(("stopped", session, settings))  # type: ignore[return-value]

    def keep(self, result: Result, stopped_by: str | None = None) -> None:
        """Keep a finished result for everyone, or a stopped one for the session that stopped it (a newer
        result of the same key replaces the older one, even one too large to keep)."""
        if result.cancelled:
            if stopped_by is not None:
                self._items.put(("stopped", stopped_by, result.settings), result)
            return
        self._items.put(("finished", result.settings), result)
