""""Notify me" in the app: the albums the user pre-saved, and at each one's release instant the library fetched to
confirm it is there, then ``released`` (the notification and the pages follow from that signal).

It never announces an album the server's library does not hold; a failed fetch is retried, never dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from PySide6.QtCore import QObject, QTimer, Signal

from client.catalog import Album
from client.release_jitter import release_instant, utc_now

RECHECK_MS = 60_000  # a long wait is re-timed each minute: the clock may jump (suspend, NTP) under one timer
RETRY_MS = 5_000
TaskRunner = Callable[[Callable[[], Any], Callable[[Any], None], Callable[[str], None]], None]


class PresaveApi(Protocol):
    def presave(self, album_id: int, saved: bool = True) -> None: ...
    def library_albums(self) -> list[dict[str, Any]]: ...


class ReleaseWatch(QObject):
    """Pre-saves made or undone through the server, and the watch over their releases.

    Signals: presave_changed(int album id, bool saved); released(Album) once per album, at its instant, when the
    library holds it; failed(str) for a message the user should see.
    """

    presave_changed = Signal(int, bool)
    released = Signal(object)
    failed = Signal(str)

    def __init__(self, api: PresaveApi, run_task: TaskRunner, clock: Callable[[], datetime] = utc_now,
                 recheck_ms: int = RECHECK_MS) -> None:
        super().__init__()
        self._api = api
        self._run_task = run_task
        self._clock = clock
        self.recheck_ms = recheck_ms  # the longest a wait runs before the clock is read again
        self.waiting: dict[int, Album] = {}  # pre-saved, release still to come
        self.saved: set[int] = set()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_timer_timeout)

    def set_presaved(self, album: Album, saved: bool) -> None:
        """"Notify me" (or not any more) for ``album``, sent to the server; the watch follows once it answered."""
        api = self._api
        self._run_task(lambda: api.presave(album.id, saved), lambda _none: self._on_presave_sent(album, saved),
                       lambda message: self.failed.emit(f"“{album.title}”: {message}"))

    def _on_presave_sent(self, album: Album, saved: bool) -> None:
        instant = release_instant(album.release_at)
        if saved:
            self.saved.add(album.id)
            if instant is not None and instant > self._clock():
                self.waiting[album.id] = album
        else:
            self.saved.discard(album.id)
            self.waiting.pop(album.id, None)
        self.presave_changed.emit(album.id, saved)
        self._schedule()

    def _schedule(self) -> None:
        instants = [release_instant(album.release_at) for album in self.waiting.values()]
        due = [instant for instant in instants if instant is not None]
        if not due:
            self._timer.stop()
            return
        wait_ms = int((min(due) - self._clock()).total_seconds() * 1000) + 1
        self._timer.start(max(0, min(wait_ms, self.recheck_ms)))

    def _on_timer_timeout(self) -> None:
        now = self._clock()
        out = [album for album in self.waiting.values()
               if (instant := release_instant(album.release_at)) is not None and instant <= now]
        if not out:
            self._schedule()
            return
        api = self._api
        self._run_task(api.library_albums, lambda albums: self._on_library_fetched(out, albums),
                       self._on_library_failed)

    def _on_library_fetched(self, out: list[Album], library: list[dict[str, Any]]) -> None:
        held = {int(album["id"]) for album in library}
        for album in out:
            if album.id in held and self.waiting.pop(album.id, None) is not None:
                self.released.emit(album)
        if any(album.id not in held for album in out):  # the server's clock is behind ours: ask again soon
            self._timer.start(min(RETRY_MS, self.recheck_ms))
        else:
            self._schedule()

    def _on_library_failed(self, message: str) -> None:
        self.failed.emit(f"could not fetch your library at a release: {message}; retrying")
        self._timer.start(min(RETRY_MS, self.recheck_ms))
