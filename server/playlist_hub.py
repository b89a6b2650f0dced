"""The server process's live playlist state: a write lock per playlist, and the event feeds.

Pushes run on worker threads and event streams on the event loop; news crosses over through ``Feeds``.
A push holds only its own playlist's lock, so a slow push never delays another playlist's.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from server.playlist_feeds import AccessNews, Feeds, PlaylistNews

__all__ = ["AccessNews", "PlaylistHub", "PlaylistNews"]


@dataclass(eq=False)
class _WriteLock:
    lock: threading.Lock = field(default_factory=threading.Lock)
    holders: int = 0  # threads holding or waiting for it; at zero it is dropped


class PlaylistHub:
    """Serialises writes to each playlist's log and fans new entries out to every open event stream."""

    def __init__(self) -> None:
        self._write_locks: dict[str, _WriteLock] = {}
        self._write_locks_lock = threading.Lock()
        self.feeds = Feeds()

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

    def publish(self, news: PlaylistNews | AccessNews) -> None:
        """Queue ``news`` on every open stream it concerns; safe from any thread."""
        self.feeds.publish(news)

    def close(self) -> None:
        """End every open stream, so a stopping server does not wait out its grace period for them."""
        self.feeds.close()
