"""The history controller: records every play and like at once on this device, sends them on in the background,
and gives the views the user's history (this device's and the server's) and liked tracks.

Widget-less; the sender's thread reaches Qt only through this object's signals (queued to the UI thread).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from client import catalog
from client.api import ApiClient, ApiError, ServerUnreachable
from client.catalog import Track
from client.history.sender import HistorySender
from client.history.store import HistoryStore, StoredPlay, context_of, parse_time
from client.listening import PlayEnded
from client.tasks import run_task

_log = logging.getLogger(__name__)
SHOWN_PLAYS = 200
SERVER_PLAYS = 100
FLUSH_AT_CLOSE_S = 2.0


@dataclass(frozen=True, slots=True)
class History:
    """The plays to show, newest first, and whether the server's (other devices') are accounted for: read, or
    known to be gone (a clear the server has not done yet)."""

    plays: tuple[StoredPlay, ...]
    from_server: bool


class HistoryController(QObject):
    """The user's listening history and likes for the UI; ``start`` begins sending what is queued.

    Signals:
        plays_changed(): a play was recorded, sent, or the history cleared.
        likes_changed(): the liked tracks changed (a toggle here, or the server's list arrived).
        history_loaded(object): a History, after ``load_history``.
        failed(str): a message fit for the user.
        _news(str): the sender's news from its thread ("plays" or "likes").
    """

    plays_changed = Signal()
    likes_changed = Signal()
    history_loaded = Signal(object)
    failed = Signal(str)
    _news = Signal(str)

    def __init__(self, api: ApiClient, data_dir: Path) -> None:
        super().__init__()
        self._api = api
        self.store = HistoryStore(data_dir)
        self._liked: dict[int, Track] = {track.id: track for track, _ in self.store.liked()}  # newest first
        self._closed = False
        self._toggles = 0  # likes toggled here so far: a mirror read that started before one is stale
        self._loads = 0  # history reads started so far: one finishing after a later one's start is stale
        self._news.connect(self._on_sender_news)
        self._sending = HistorySender(api, self.store, self._news.emit, self.failed.emit)

    def start(self) -> None:
        self._sending.start()

    def set_online(self, online: bool) -> None:
        self._sending.set_online(online)

    def wait_sent(self, timeout_s: float) -> bool:
        """Wait until every play and like queued so far has reached the server; False on timeout."""
        return self._sending.wait_settled(timeout_s)

    def close(self, flush_s: float = FLUSH_AT_CLOSE_S) -> None:
        """Give queued plays and likes up to ``flush_s`` to reach the server (the rest go at the next start)."""
        if not self._sending.online or not self._sending.wait_settled(flush_s):
            _log.info("closing with plays or likes still queued; they are sent at the next start")
        self._closed = True
        self._sending.close()
        self.store.close()

    # -- plays --------------------------------------------------------------------------------------------------

    def record(self, play: PlayEnded) -> None:
        """Keep ``play`` here at once and queue it for the server (the playback controller's play_ended)."""
        if self._closed:
            # The engine's last events, still queued when the session closed: the play heard was kept at close.
            _log.info("not recording “%s” reported after the history was closed", play.track.title)
            return
        self.store.record(play)
        self._sending.wake()
        self.plays_changed.emit()

    def clear_history(self) -> None:
        """Forget every play, here at once and on the server as soon as it can be told."""
        self.store.clear_plays()
        self._sending.wake()
        self.plays_changed.emit()

    def load_history(self) -> None:
        """Read the history off the UI thread: this device's plays with the server's (other devices') merged in.

        Reads may overlap (a clear, then the sender's news that the server did it): only the latest one started
        is shown, so an older read's answer finishing last never brings back what was cleared.
        """
        store, api = self.store, self._api
        self._loads += 1
        load = self._loads
        run_task(lambda: _history(store, api), lambda history: self._on_history_read(load, history), self.failed.emit)

    # -- likes --------------------------------------------------------------------------------------------------

    def is_liked(self, track_id: int) -> bool:
        return track_id in self._liked

    def liked_ids(self) -> frozenset[int]:
        return frozenset(self._liked)

    def liked_tracks(self) -> list[Track]:
        """The liked tracks, newest like first."""
        return list(self._liked.values())

    def set_liked(self, track: Track, liked: bool) -> None:
        """Like or unlike ``track``: shown at once, kept here, and sent to the server when it can be reached."""
        if liked == self.is_liked(track.id):
            return
        self.store.set_liked(track, liked, datetime.now(UTC))
        self._toggles += 1
        if liked:
            self._liked = {track.id: track, **self._liked}
        else:
            self._liked.pop(track.id, None)
        self._sending.wake()
        self.likes_changed.emit()

    def toggle_liked(self, track: Track) -> None:
        self.set_liked(track, not self.is_liked(track.id))

    # -- slots --------------------------------------------------------------------------------------------------

    def _on_history_read(self, load: int, history: History) -> None:
        if load == self._loads:
            self.history_loaded.emit(history)

    def _on_sender_news(self, what: str) -> None:
        if what == "likes":
            self._read_likes()
        else:
            self.plays_changed.emit()

    def _read_likes(self) -> None:
        toggles = self._toggles
        run_task(self.store.liked, lambda likes: self._on_likes_read(toggles, likes), self.failed.emit)

    def _on_likes_read(self, toggles: int, likes: list[tuple[Track, datetime]]) -> None:
        if toggles != self._toggles:
            self._read_likes()  # a toggle here since the read began: what was read misses it
            return
        self._liked = {track.id: track for track, _ in likes}
        self.likes_changed.emit()


def _history(store: HistoryStore, api: ApiClient) -> History:
    plays = {play.id: play for play in store.recent(SHOWN_PLAYS)}
    if store.clear_pending() is not None:  # the server still has what was cleared here: none of it is shown
        return History(tuple(plays.values()), from_server=True)
    try:
        answer = api.plays(limit=SERVER_PLAYS)
    except (ServerUnreachable, ApiError) as exc:
        _log.info("showing this device's history only: %s", exc)
        return History(tuple(plays.values()), from_server=False)
    for raw in answer.get("plays", []):
        if str(raw["id"]) not in plays:
            plays[str(raw["id"])] = StoredPlay(
                id=str(raw["id"]), track=catalog.track(raw["track"]), started_at=parse_time(str(raw["started_at"])),
                ms_played=int(raw["ms_played"]), completed=bool(raw["completed"]), skipped=bool(raw["skipped"]),
                context=context_of(raw.get("context")), sent=True)
    newest = sorted(plays.values(), key=lambda play: play.started_at, reverse=True)
    return History(tuple(newest[:SHOWN_PLAYS]), from_server=True)
