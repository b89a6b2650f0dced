"""Live playlist news across instances on one PostgreSQL: what one instance publishes is told to the others with
``NOTIFY``, and each instance's one ``LISTEN`` connection hands what the others told to its own open streams.

A notification carries ids and seqs only (PostgreSQL caps a payload at 8000 bytes); the log's rows are read back
from the database. Never used on SQLite, whose single process fans out in memory.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa

from server import playlists
from server.catalog import Catalog
from server.database import database_url, is_postgresql
from server.exceptions import DatabaseError
from server.playlist_feeds import AccessNews, Feeds, News, PlaylistNews

CHANNEL = "legato_playlists"
# An access change names its users; a few hundred per notification keeps one far below PostgreSQL's 8000 bytes.
USERS_PER_NOTIFICATION = 200
_WAIT_S = 0.5  # how often the listener looks up from the connection to see whether it should stop
_RETRY_FIRST_S, _RETRY_MAX_S = 0.25, 5.0
_UNREACHABLE = (psycopg.OperationalError, sa.exc.OperationalError, sa.exc.InterfaceError, DatabaseError)
_log = logging.getLogger(__name__)


def fleet_news(data_dir: Path) -> FleetNews | None:
    """The fleet's news for the server on ``data_dir``'s database: on PostgreSQL, else None (one process)."""
    url = database_url(data_dir)
    return FleetNews(data_dir, url) if is_postgresql(url) else None


class FleetNews:
    """``announce_in`` tells the other instances; ``start`` listens for what they tell, handing it to ``feeds``.

    Each instance knows its own notifications by the random id they carry, so its streams never hear news twice.
    When the listening connection is lost (the database restarted) notifications sent meanwhile are gone: once
    listening again it ends every open stream, and each client reconnects and catches up from its last seq.
    """

    def __init__(self, data_dir: Path, url: sa.URL) -> None:
        self._data_dir = data_dir
        self._url = url
        self._conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.instance = secrets.token_hex(8)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def announce_in(self, catalog: Catalog, news: News) -> None:
        """Notify the other instances of ``news`` inside ``catalog``'s open write transaction, the one that makes
        it: PostgreSQL delivers a notification when (and only if) its transaction commits, so an instance cannot
        commit a write and die before telling the others of it."""
        assert catalog.in_transaction, "announce inside the write's transaction"
        for payload in self._payloads(news):
            catalog.execute("SELECT pg_notify(?, ?)", [CHANNEL, payload])

    def _payloads(self, news: News) -> Iterator[str]:
        head: dict[str, Any] = {"from": self.instance, "id": news.playlist_id}
        if isinstance(news, AccessNews):
            users = sorted(news.user_ids)
            for start in range(0, max(len(users), 1), USERS_PER_NOTIFICATION):
                yield _json({**head, "kind": "access", "users": users[start:start + USERS_PER_NOTIFICATION]})
        elif news.deleted or news.pull is None:
            yield _json({**head, "kind": "deleted"})
        elif news.pull.updates:
            yield _json({**head, "kind": "updates", "after": news.pull.updates[0].seq - 1})

    # -- listening ---------------------------------------------------------------------------------------------

    def start(self, feeds: Feeds) -> None:
        """Listen (the first connection made before this returns, so an instance serving is listening)."""
        connection = None
        try:
            connection = self._listening()
        except _UNREACHABLE as exc:
            _log.warning("cannot listen for the other instances' playlist news yet (%s); retrying", exc)
        self._thread = threading.Thread(target=self._listen, args=(feeds, connection), daemon=True,
                                        name="fleet-news")
        self._thread.start()

    def close(self) -> None:
        self._stopping.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(_WAIT_S * 4)

    def _listening(self) -> psycopg.Connection[Any]:
        connection = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=10)
        try:
            connection.execute(f"LISTEN {CHANNEL}")
        except BaseException:
            connection.close()
            raise
        return connection

    def _listen(self, feeds: Feeds, connection: psycopg.Connection[Any] | None) -> None:
        delay_s = _RETRY_FIRST_S
        while not self._stopping.is_set():
            if connection is None:
                try:
                    connection = self._listening()
                except _UNREACHABLE as exc:
                    _log.info("still cannot listen for playlist news (%s); retrying in %.2f s", exc, delay_s)
                    self._stopping.wait(delay_s)
                    delay_s = min(delay_s * 2, _RETRY_MAX_S)
                    continue
                _log.info("listening for playlist news again; ending open streams so their clients catch up")
                feeds.close()
                delay_s = _RETRY_FIRST_S
            try:
                with connection:
                    while not self._stopping.is_set():
                        for notification in connection.notifies(timeout=_WAIT_S):
                            self._hear(feeds, notification.payload)
            except _UNREACHABLE as exc:
                _log.warning("lost the connection listening for playlist news (%s); reconnecting", exc)
            connection = None

    def _hear(self, feeds: Feeds, payload: str) -> None:
        """Pass one notification on; the database going away is the caller's to handle (listen again), anything
        else is logged and the listener goes on, so one bad notification never silences the fleet."""
        try:
            self._receive(feeds, payload)
        except _UNREACHABLE:
            raise
        except Exception:  # noqa: BLE001 - the listener must outlive any one notification; it is logged
            _log.exception("failed to pass on the notification %.200r", payload)

    def _receive(self, feeds: Feeds, payload: str) -> None:
        try:
            told = json.loads(payload)
            sender, playlist_id, kind = str(told["from"]), str(told["id"]), str(told["kind"])
            users = frozenset(int(user) for user in told.get("users", ()))
            after = max(int(told.get("after", 0)), 0)
        except (ValueError, KeyError, TypeError, AttributeError):
            _log.warning("ignoring a malformed notification on %s: %.200r", CHANNEL, payload)
            return
        if sender == self.instance:
            return  # our own streams heard it when it was published
        if kind == "deleted":
            feeds.publish(PlaylistNews(playlist_id, None, deleted=True))
        elif kind == "access":
            feeds.publish(AccessNews(playlist_id, users))
        elif kind == "updates" and feeds.concern(playlist_id):
            news = self._updates(playlist_id, after)
            if news is not None:
                feeds.publish(news)

    def _updates(self, playlist_id: str, after: int) -> PlaylistNews | None:
        """The log after ``after`` as the database holds it now (a snapshot first if compaction passed it)."""
        catalog = Catalog.open(self._data_dir)
        try:
            pulled = playlists.pull(catalog, playlist_id, after)
            # None: deleted since, and its "deleted" notification follows.
            return None if pulled is None else PlaylistNews(playlist_id, pulled)
        finally:
            catalog.close()


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"))
