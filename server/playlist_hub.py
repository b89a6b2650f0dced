"""The server process's live playlist state: one write lock, recently used docs, and the event feeds.

Pushes run on worker threads and event streams on the event loop; news crosses over through ``Feeds``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from server.playlist_feeds import AccessNews, Feeds, PlaylistNews
from sync import PlaylistDoc

__all__ = ["AccessNews", "PlaylistHub", "PlaylistNews"]

_CACHED_DOCS = 32


class PlaylistHub:
    """Serialises writes to the logs and fans new entries out to every open event stream."""

    def __init__(self) -> None:
        self._write_lock = threading.Lock()
        self._docs: OrderedDict[str, tuple[int, PlaylistDoc]] = OrderedDict()
        self.feeds = Feeds()

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

    def publish(self, news: PlaylistNews | AccessNews) -> None:
        """Queue ``news`` on every open stream it concerns; safe from any thread."""
        self.feeds.publish(news)

    def close(self) -> None:
        """End every open stream, so a stopping server does not wait out its grace period for them."""
        self.feeds.close()
