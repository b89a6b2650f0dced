"""The server process's live playlist state: one write lock, recently used docs, and the event subscribers.

Pushes run on worker threads and event streams on the event loop; news crosses over with call_soon_threadsafe.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sync import PlaylistDoc, PullResult

_CACHED_DOCS = 32


@dataclass(frozen=True)
class PlaylistNews:
    """What a stream tells its client: new log entries, or that the playlist is gone."""

    playlist_id: str
    pull: PullResult | None
    deleted: bool = False


@dataclass(frozen=True, eq=False)
class _Subscriber:
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[PlaylistNews | None]  # None: the server is shutting down


class PlaylistHub:
    """Serialises writes to the logs and fans new entries out to every open event stream."""

    def __init__(self) -> None:
        self._write_lock = threading.Lock()
        self._docs: OrderedDict[str, tuple[int, PlaylistDoc]] = OrderedDict()
        self._subscribers: dict[str, set[_Subscriber]] = {}
        self._subscribers_lock = threading.Lock()

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold while reading a playlist's record, validating and appending, so seqs never collide."""
        with self._write_lock:
            yield

    def doc(self, playlist_id: str, last_seq: int, load: Callable[[], PlaylistDoc]) -> PlaylistDoc:
        """The playlist's doc at ``last_seq``, from memory when it is current; call under ``writing()``."""
        cached = self._docs.get(playlist_id)
        if cached is not None and cached[0] == last_seq:
            self._docs.move_to_end(playlist_id)
            return cached[1]
        doc = load()
        self.keep(playlist_id, last_seq, doc)
        return doc

    def keep(self, playlist_id: str, last_seq: int, doc: PlaylistDoc) -> None:
        self._docs[playlist_id] = (last_seq, doc)
        self._docs.move_to_end(playlist_id)
        while len(self._docs) > _CACHED_DOCS:
            self._docs.popitem(last=False)

    def forget(self, playlist_id: str) -> None:
        """Drop a cached doc (deleted playlist, or a failed write that may have left it ahead of the log)."""
        self._docs.pop(playlist_id, None)

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
