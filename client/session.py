"""The signed-in session: everything the window and the desktop integration run on, made in one step on the UI thread.

It is made only from a Connection (client.startup), so nothing in it is ever half-built or waits to be attached.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cache import ContentStore
from client.api import ApiClient
from client.downloads import DownloadsController, open_downloads
from client.history import HistoryController
from client.playback import PlaybackController, Repeat
from client.playlists import PlaylistsController
from client.recommendations import TrackRadio
from client.settings import Settings
from client.startup import Connection
from client.widgets.cover_cache import CoverCache
from player import Sink

DOWNLOADS_DB = "downloads.db"
PLAYLISTS_DIR = "playlists"
HISTORY_DIR = "history"


@dataclass(frozen=True)
class Session:
    """A logged-in session's parts. ``store`` and ``downloads`` are None without an OS keystore (no disk cache).

    ``playlists`` owns the playlist sync core (``playlists.sync``) and carries its news into Qt; ``history`` records
    every play ``playback`` reports and every like, and sends them on.
    """

    api: ApiClient
    store: ContentStore | None
    store_problem: str | None
    playback: PlaybackController
    downloads: DownloadsController | None
    playlists: PlaylistsController
    covers: CoverCache
    history: HistoryController
    radio: TrackRadio

    def close(self) -> None:
        """Give queued playlist edits, plays and likes a moment to reach the server, then stop syncing, downloading
        and playing (the play in progress is recorded as it stops)."""
        self.playlists.close()
        if self.downloads is not None:
            self.downloads.close()
        self.playback.close()
        self.history.close()


def open_session(connection: Connection, settings: Settings, data_dir: Path, sink: Sink) -> Session:
    """Build every part of the session on ``connection`` as ``settings`` say, downloads and playlists in ``data_dir``.

    Playlist sync is started; it follows the downloads' connectivity (offline mode, server gone) when there are any.
    """
    api, store = connection.api, connection.store
    if api.token is None or api.user is None:
        raise PermissionError("a session needs a logged-in API client (log in before opening the session)")
    playback = PlaybackController(api, sink, store, quality=settings.streaming_quality)
    downloads = None
    if store is not None:
        downloads = open_downloads(api, store, data_dir / DOWNLOADS_DB, data_dir, quality=settings.download_quality)
        playback.local_manifest = downloads.availability.local_manifest
        playback.offline = lambda: not downloads.online
    playlists = PlaylistsController(api, data_dir / PLAYLISTS_DIR)
    history = HistoryController(api, data_dir / HISTORY_DIR)
    playback.play_ended.connect(history.record)
    if downloads is not None:
        downloads.connectivity_changed.connect(lambda online, _forced: playlists.set_online(online))
        downloads.connectivity_changed.connect(lambda online, _forced: history.set_online(online))
    session = Session(api, store, connection.store_problem, playback, downloads, playlists, CoverCache(api.cover),
                      history, TrackRadio(api, playback))
    apply_settings(session, settings)
    playlists.start()
    history.start()
    return session


def apply_settings(session: Session, settings: Settings) -> None:
    """Make the session play and connect as ``settings`` say (the cache size is set when it changes, not here)."""
    playback = session.playback
    playback.engine.set_volume(0.0 if settings.muted else settings.volume)
    playback.engine.set_normalisation(settings.normalisation)
    playback.engine.set_crossfade(settings.crossfade_s)
    playback.gain_mode = settings.gain_mode
    playback.set_shuffle(settings.shuffle)
    playback.set_repeat(Repeat(settings.repeat))
    playback.quality = settings.streaming_quality
    if session.downloads is not None:
        session.downloads.set_offline_mode(settings.offline_mode)
