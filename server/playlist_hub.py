"""The server process's live playlist state: a write lock per playlist, and the event feeds.

Pushes run on worker threads and event streams on the event loop; news crosses over through ``Feeds``.
A push holds only its own playlist's lock, so a slow push never delays another playlist's. On PostgreSQL the
news also reaches the other instances' streams (``server/playlist_fleet.py``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from server.catalog import Catalog
from server.playlist_feeds import AccessNews, Feeds, News, PlaylistNews
from server.playlist_fleet import FleetNews

__all__ = ["AccessNews", "PlaylistHub", "PlaylistNews"]


@dataclass(eq=False)
class _WriteLock:
    lock: threading.Lock = field(default_factory=threading.Lock)
    holders: int = 0  # threads holding or waiting for it; at zero it is dropped


class PlaylistHub:
    """Serialises writes to each playlist's log and fans new entries out to every open event stream: this
    process's, and with ``fleet`` those of every instance on the same database."""

    def __init__(self, fleet: FleetNews | None = None) -> None:
        self._write_locks: dict[str, _WriteLock] = {}
        self._write_locks_lock = threading.Lock()
        self.feeds = Feeds()
        self._fleet = fleet

    def start(self) -> None:
        """Hear the other instances' news (nothing to hear without a fleet)."""
        if self._fleet is not None:
            self._fleet.start(self.feeds)

    @contextmanager
    def writing(self, playlist_id: str) -> Iterator[None]:
        """Hold while reading a playlist's record, validating and appending, so its seqs never collide."""
        with self._write_locks_lock:
            entry = self._write_locks.setdefault(playlist_id, _WriteLock())
            entry.holders += 1
        try:
            with entry.lock:
                yield
        finally:
            with self._write_locks_lock:
                entry.holders -= 1
                if not entry.holders:
                    del self._write_locks[playlist_id]

    @contextmanager
    def telling(self, catalog: Catalog) -> Iterator[Callable[[News], None]]:
        """One write transaction and the news it makes: ``tell(news)`` inside, once the write is done. The other
        instances hear it exactly when the transaction commits; this process's streams once it has."""
        told: list[News] = []
        with catalog.transaction():
            yield told.append
            for news in told:
                self.announce_in(catalog, news)
        for news in told:
            self.publish(news)

    def announce_in(self, catalog: Catalog, news: News) -> None:
        """Tell the fleet's other instances of ``news`` inside the write transaction that makes it (nothing to
        tell without a fleet); ``publish`` it once that has committed."""
        if self._fleet is not None:
            self._fleet.announce_in(catalog, news)

    def publish(self, news: News) -> None:
        """Queue ``news`` on every open stream of this process it concerns; safe from any thread, once the write
        it tells of has committed (and was announced in it)."""
        self.feeds.publish(news)

    def close(self) -> None:
        """End every open stream, so a stopping server does not wait out its grace period for them, and stop
        hearing the fleet."""
        self.feeds.close()
        if self._fleet is not None:
            self._fleet.close()
