"""Catalog connections kept open across requests: a request borrows an idle one instead of opening SQLite anew
(opening costs ~1 ms, the request's own queries a tenth of that).

It never lends one connection to two requests at once, and never keeps one that a request left in a transaction.
"""

from __future__ import annotations

import threading
from pathlib import Path

from server.catalog import Catalog

DEFAULT_IDLE = 64  # about the worker threads that can hold one at once (anyio's pool has 40)


class CatalogPool:
    """Idle connections to one data dir's catalog. Thread-safe; each connection still serves one request at a
    time, and reads outside a transaction see every commit made before them (WAL), as a fresh one would."""

    def __init__(self, data_dir: Path, max_idle: int = DEFAULT_IDLE) -> None:
        self._data_dir = data_dir
        self._max_idle = max_idle
        self._idle: list[Catalog] = []
        self._lock = threading.Lock()
        self._closed = False

    def take_idle(self) -> Catalog | None:
        """An idle connection, or None when every one is lent (then ``open`` a new one, off the event loop)."""
        with self._lock:
            return self._idle.pop() if self._idle else None

    def open(self) -> Catalog:
        return Catalog.open(self._data_dir)

    def give_back(self, catalog: Catalog) -> None:
        """Keep ``catalog`` for the next request, or close it: when it is still inside a transaction (closing
        rolls that back, as it always did), when its connection broke (the database restarted), when enough are
        idle, or when the pool is closed."""
        with self._lock:
            keep = (not self._closed and len(self._idle) < self._max_idle and not catalog.in_transaction
                    and not catalog.broken)
            if keep:
                self._idle.append(catalog)
        if not keep:
            catalog.close()

    def close(self) -> None:
        """Close every idle connection; those still lent are closed when they come back."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for catalog in idle:
            catalog.close()
