"""Tells the server what the history store queued: clears, likes and plays, in that order, in batches, off the UI
thread; and mirrors the server's likes back. A play is marked sent only after the server answered for it, so a
crash in between resends it, which the server (idempotent by event id) takes as a duplicate.

No Qt: callbacks run on the sender's thread. It never drops a queued play it could not send for now.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from client import catalog
from client.api import ApiClient, ApiError, ServerUnreachable
from client.catalog import Track
from client.history.store import HistoryStore, parse_time

log = logging.getLogger(__name__)
BATCH = 200  # events per POST /me/plays (the server takes up to 500)
LIKES_PAGE = 500
_RETRY_FIRST_S, _RETRY_MAX_S = 0.5, 10.0
# Answers a resend would get again: not worth retrying. A 404 for plays is a server without the endpoint (an older
# version): they stay queued for one that has it; for a like it is a track the server does not know.
_FOR_GOOD = (400, 409, 413, 422)
_LIKE_FOR_GOOD = (*_FOR_GOOD, 404)

Changed = Callable[[str], None]  # "plays" or "likes"
Failed = Callable[[str], None]


class HistorySender:
    """One background thread that delivers the store's queue whenever it is woken, online, and retries with backoff.

    ``api`` is the session's client (shared, not closed here).
    """

    def __init__(self, api: ApiClient, store: HistoryStore, on_change: Changed, on_error: Failed) -> None:
        self._api = api
        self._store = store
        self._on_change = on_change
        self._on_error = on_error
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._online = threading.Event()
        self._online.set()
        self._idle = threading.Condition()
        self._settled = False
        self._likes_stale = True  # mirror the server's likes once connected, and after every reconnect
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="history-sender", daemon=True)
        self._thread.start()
        self.wake()

    def wake(self, refresh_likes: bool = False) -> None:
        """Something was queued (or the likes should be read again): deliver it soon."""
        if refresh_likes:
            self._likes_stale = True
        with self._idle:
            self._settled = False
        self._wake.set()

    def set_online(self, online: bool) -> None:
        """Offline: no request is made and everything stays queued. Online again: deliver at once."""
        if online:
            self._online.set()
            self.wake(refresh_likes=True)
        else:
            self._online.clear()

    @property
    def online(self) -> bool:
        return self._online.is_set()

    def wait_settled(self, timeout_s: float) -> bool:
        """Wait until everything queued so far has reached the server; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._settled, timeout_s)

    def close(self, timeout_s: float = 5.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    # -- the thread ---------------------------------------------------------------------------------------------

    def _run(self) -> None:
        retry_s: float | None = None
        backoff_s = _RETRY_FIRST_S
        while not self._stopping.is_set():
            self._wake.wait(retry_s)
            self._wake.clear()
            if self._stopping.is_set():
                return
            if not self._online.is_set():
                retry_s = None
                continue
            try:
                self._deliver()
            except (ServerUnreachable, ApiError) as exc:
                log.info("history waits for the server (%s); retrying in %.1f s", exc, backoff_s)
                self._likes_stale = True
                retry_s, backoff_s = backoff_s, min(backoff_s * 2, _RETRY_MAX_S)
                continue
            except Exception as exc:  # a bug or a broken store must not end the thread silently: say it, retry later
                log.exception("delivering the listening history failed")
                self._on_error(f"Listening history could not be sent: {exc}")
                retry_s, backoff_s = _RETRY_MAX_S, _RETRY_MAX_S
                continue
            retry_s, backoff_s = None, _RETRY_FIRST_S
            with self._idle:
                if not self._wake.is_set():
                    self._settled = True
                    self._idle.notify_all()

    def _deliver(self) -> None:
        self._send_clear()
        self._send_likes()
        self._send_plays()
        if self._likes_stale:
            self._likes_stale = False
            self._store.replace_likes(self._server_likes())
            self._on_change("likes")

    def _send_clear(self) -> None:
        generation = self._store.clear_pending()
        if generation is not None:
            self._api.clear_plays()
            self._store.cleared(generation)
            self._on_change("plays")

    def _send_likes(self) -> None:
        for pending in self._store.pending_likes():
            try:
                (self._api.like if pending.liked else self._api.unlike)(pending.track_id)
            except ApiError as exc:
                if exc.status not in _LIKE_FOR_GOOD:
                    raise
                log.warning("the server refused a like of track %d: %s", pending.track_id, exc.message)
                self._on_error(f"Could not save that like: {exc.message}")
                self._likes_stale = True  # show the server's truth for that track again
            self._store.like_sent(pending)

    def _send_plays(self) -> None:
        sent_any = False
        while events := self._store.unsent(BATCH):
            ids = [str(event["id"]) for event in events]
            try:
                answer = self._api.post_plays(events)
            except ApiError as exc:
                if exc.status not in _FOR_GOOD:
                    raise
                # The server will never take this batch as it is: keep the plays here, marked, and go on.
                log.warning("the server refused %d plays for good: %s", len(ids), exc.message)
                self._store.mark_sent(ids, rejected={event_id: exc.message for event_id in ids})
                continue
            ignored = {str(item.get("id")): str(item.get("reason", "ignored"))
                       for item in answer.get("ignored", []) if isinstance(item, dict)}
            if ignored:
                log.info("the server ignored %d plays: %s", len(ignored), sorted(set(ignored.values())))
            self._store.mark_sent(ids, rejected=ignored)
            sent_any = True
        if sent_any:
            self._on_change("plays")

    def _server_likes(self) -> list[tuple[Track, datetime]]:
        likes: list[tuple[Track, datetime]] = []
        while True:
            page = self._api.likes(limit=LIKES_PAGE, offset=len(likes))
            tracks = page.get("tracks", [])
            likes += [(catalog.track(raw), parse_time(str(raw["liked_at"]))) for raw in tracks]
            if not tracks or len(likes) >= int(page.get("total", 0)):
                return likes
