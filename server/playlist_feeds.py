"""Fan-out of playlist news to open event streams: each stream is one feed, indexed by the playlists it watches.

Safe to publish from any thread; a feed's news reach its event loop in publish order. Never queries the database.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from sync import PullResult

_log = logging.getLogger(__name__)
_Key = TypeVar("_Key")


@dataclass(frozen=True)
class PlaylistNews:
    """New log entries of a playlist, or that the playlist is gone."""

    playlist_id: str
    pull: PullResult | None
    deleted: bool = False


@dataclass(frozen=True)
class AccessNews:
    """Who may see a playlist, or how, may have changed (shared, followed, unfollowed, made private or public).

    ``user_ids`` are the users whose access may have changed besides those already watching the playlist.
    """

    playlist_id: str
    user_ids: frozenset[int] = frozenset()


News = PlaylistNews | AccessNews


@dataclass(eq=False)
class Feed:
    """One open stream: its user, the playlists it watches, and the queue its event loop reads news from.

    ``queue`` yields None when the server is shutting down. Until ``watch_only`` is first called a feed gets all
    news (it has not yet read which playlists its user sees, and must miss nothing logged meanwhile).
    """

    user_id: int
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[News | None] = field(default_factory=asyncio.Queue)
    watched: frozenset[str] | None = None


class Feeds:
    """Every open feed, by user and by watched playlist."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._all: set[Feed] = set()
        self._by_user: dict[int, set[Feed]] = {}
        self._by_playlist: dict[str, set[Feed]] = {}

    @contextmanager
    def subscribe(self, user_id: int) -> Iterator[Feed]:
        """A feed for the calling event loop, for as long as the block runs."""
        feed = Feed(user_id, asyncio.get_running_loop())
        with self._lock:
            self._all.add(feed)
            self._by_user.setdefault(user_id, set()).add(feed)
        try:
            yield feed
        finally:
            self._drop(feed)

    def watch_only(self, feed: Feed, playlist_ids: Iterable[str]) -> None:
        """From now on the feed gets news of exactly these playlists (and access news naming its user)."""
        watched = frozenset(playlist_ids)
        with self._lock:
            for playlist_id in feed.watched or ():
                _discard(self._by_playlist, playlist_id, feed)
            for playlist_id in watched:
                self._by_playlist.setdefault(playlist_id, set()).add(feed)
            feed.watched = watched

    def watch(self, feed: Feed, playlist_id: str) -> None:
        self.watch_only(feed, (feed.watched or frozenset()) | {playlist_id})

    def unwatch(self, feed: Feed, playlist_id: str) -> None:
        self.watch_only(feed, (feed.watched or frozenset()) - {playlist_id})

    def concern(self, playlist_id: str) -> bool:
        """Whether news of the playlist would reach any feed now (so reading it from the database is worth it)."""
        with self._lock:
            return playlist_id in self._by_playlist or any(feed.watched is None for feed in self._all)

    def publish(self, news: News) -> None:
        """Queue ``news`` on every feed it concerns."""
        with self._lock:
            targets = {feed for feed in self._all if feed.watched is None}
            targets.update(self._by_playlist.get(news.playlist_id, ()))
            if isinstance(news, AccessNews):
                for user_id in news.user_ids:
                    targets.update(self._by_user.get(user_id, ()))
        for feed in targets:
            self._send(feed, news)

    def close(self) -> None:
        """End every open feed, so a stopping server does not wait out its grace period for them."""
        with self._lock:
            feeds = list(self._all)
        for feed in feeds:
            self._send(feed, None)

    def _send(self, feed: Feed, news: News | None) -> None:
        try:
            feed.loop.call_soon_threadsafe(feed.queue.put_nowait, news)
        except RuntimeError:
            _log.debug("dropping a feed whose event loop has closed")
            self._drop(feed)

    def _drop(self, feed: Feed) -> None:
        with self._lock:
            self._all.discard(feed)
            _discard(self._by_user, feed.user_id, feed)
            for playlist_id in feed.watched or ():
                _discard(self._by_playlist, playlist_id, feed)


def _discard(index: dict[_Key, set[Feed]], key: _Key, feed: Feed) -> None:
    group = index.get(key)
    if group is not None:
        group.discard(feed)
        if not group:
            del index[key]
