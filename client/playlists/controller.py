"""The playlists controller: owns the session's sync core (start, connectivity, close) and carries its news into Qt.

Widget-less; the core's background threads reach Qt only through this object's signals (queued to the UI thread).
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from client.api import ApiClient
from client.playlists.core import PlaylistSync

_log = logging.getLogger(__name__)
FLUSH_AT_CLOSE_S = 2.0


class PlaylistsController(QObject):
    """The user's playlists for the UI: ``sync`` is the core (edits and reads); this object runs it.

    Signals:
        changed(object): a ``PlaylistChange`` (a playlist changed, appeared, or is gone from this device).
        failed(str, str): playlist id ("" when the error concerns no one playlist), a message fit for the user.
    """

    changed = Signal(object)
    failed = Signal(str, str)

    def __init__(self, api: ApiClient, data_dir: Path) -> None:
        """The core over the session's client ``api``, storing its playlists in ``data_dir``; call ``start``."""
        super().__init__()
        self.sync = PlaylistSync(api, data_dir, on_change=self.changed.emit, on_error=self._on_sync_error)
        self.closed = False

    def start(self) -> None:
        self.sync.start()

    def set_online(self, online: bool) -> None:
        self.sync.set_online(online)

    def close(self, flush_s: float = FLUSH_AT_CLOSE_S) -> bool:
        """Give queued edits up to ``flush_s`` to reach the server, then stop; whether everything was synced
        (what was not stays queued on disk for the next start)."""
        synced = self.sync.wait_idle(flush_s) if self.sync.online else False
        if not synced:
            _log.info("closing playlist sync with edits still queued; they sync at the next start")
        self.closed = True
        self.sync.close()
        return synced

    def _on_sync_error(self, playlist_id: str, exc: Exception) -> None:
        self.failed.emit(playlist_id, str(exc) or exc.__class__.__name__)
