"""The server process's live playlist state: a write lock per playlist, and the event subscribers.

Pushes run on worker threads and event streams on the event loop; news crosses over with call_soon_threadsafe.
A push holds only its own playlist's lock, so a slow push never delays another playlist's.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sync import PullResult


@dataclass(frozen=True)
class PlaylistNews:
    """What a stream tells its client: new log entries, or that the playlist is gone."""

    playlist_id: str
    pull: PullResult | None
    deleted: bool = False


@dataclass(eq=False)
class _WriteLock:
    lock: threading.Lock = field(default_factory=threading.Lock)
    holders: int = 0  # threads holding or waiting for it; at zero it is dropped


@dataclass(frozen=True, eq=False)
class _Subscriber:
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[PlaylistNews | None]  # None: the server is shutting down


class PlaylistHub:
    """Serialises writes to each playlist's log and fans new entries out to every open event stream."""

    def __init__(self) -> None:
        self._write_locks: dict[str, _WriteLock] = {}
        self._write_locks_lock = threading.Lock()
        self._subscribers: dict[str, set[_Subscriber]] = {}
        self._subscribers_lock = threading.Lock()

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

    def publish(self, news: PlaylistNews) -> None:
        """Queue ``news`` on every stream of its playlist; safe from any thread."""
        with self._subscribers_lock:
            subscribers = list(self._subscribers.get(news.playlist_id, ()))
        for subscriber in subscribers:
            try:
                subscriber.loop.call_soon_threadsafe(subscriber.queue.put_nowait, news)
            except RuntimeError:
                self._drop(news.playlist_id, subscriber)  # its event loop has closed

    def close(self) -> None:
        """End every open stream, so a stopping server does not wait out its grace period for them."""
        with self._subscribers_lock:
            subscribers = [s for group in self._subscribers.values() for s in group]
        for subscriber in subscribers:
            try:
                subscriber.loop.call_soon_threadsafe(subscriber.queue.put_nowait, None)
            except RuntimeError:
                pass  # its event loop has closed: the stream is over already

    @contextmanager
    def subscribe(self, playlist_id: str) -> Iterator[asyncio.Queue[PlaylistNews | None]]:
        """A queue of this playlist's news for the calling event loop, for as long as the block runs."""
        subscriber = _Subscriber(asyncio.get_running_loop(), asyncio.Queue())
        with self._subscribers_lock:
            self._subscribers.setdefault(playlist_id, set()).add(subscriber)
        try:
            yield subscriber.queue
        finally:
            self._drop(playlist_id, subscriber)

    def _drop(self, playlist_id: str, subscriber: _Subscriber) -> None:
        with self._subscribers_lock:
            subscribers = self._subscribers.get(playlist_id)
            if subscribers is not None:
                subscribers.discard(subscriber)
                if not subscribers:
                    del self._subscribers[playlist_id]
