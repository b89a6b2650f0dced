"""The downloads controller: pins, the download queue and offline mode, as Qt signals for the views.

Widget-less; the downloader's worker threads reach Qt only through this object's queued signals.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from cache import ContentStore, FileManifest, ManifestError
from client import catalog
from client.api import ApiClient
from client.release_jitter import release_instant, utc_now
from client.tasks import run_task
from offline import (
    Availability,
    Connectivity,
    ConnectivityState,
    Downloader,
    DownloadsSnapshot,
    OfflineLicence,
    PinKey,
    PinStatus,
    Playability,
    RangeBody,
    TrackRef,
)

log = logging.getLogger(__name__)

DOWNLOAD_QUALITY = "high"
LIKED_PIN = PinKey("liked", "songs")
_REFRESH_MS = 100


class ApiDownloadSource:
    """The downloader's view of the server (offline.DownloadSource) over the API client, at one quality."""

    def __init__(self, api: ApiClient, quality: str = DOWNLOAD_QUALITY) -> None:
        self._api = api
        self.quality = quality

    def manifest(self, track_id: int) -> FileManifest:
        files = {f["quality"]: f for f in self._api.manifest(track_id)["files"]}
        if self.quality not in files:
            raise ManifestError(f"track {track_id} has no {self.quality!r} file to download "
                                f"(it has {', '.join(sorted(files)) or 'none'}); choose another download quality")
        return FileManifest.from_json(files[self.quality])

    def open_range(self, manifest: FileManifest, start: int, end: int) -> AbstractContextManager[RangeBody]:
        return self._api.open_range(manifest, start, end)

    def offline_licence(self, file_id: int) -> OfflineLicence:
        return self._api.offline_licence(file_id)


class DownloadsController(QObject):
    """Pins and downloads for the UI thread. Does no network or disk work on the UI thread except reading the
    local queue for a snapshot.

    Signals:
        snapshot_changed(object): a new ``offline.DownloadsSnapshot`` (items, pins, total, paused).
        connectivity_changed(bool, bool): online, forced offline mode.
        error_occurred(str): a message fit to show to the user.
    """

    snapshot_changed = Signal(object)
    connectivity_changed = Signal(bool, bool)
    error_occurred = Signal(str)
    _downloader_changed = Signal()
    _connectivity_event = Signal(object)

    def __init__(self, downloader: Downloader, connectivity: Connectivity, availability: Availability,
                 api: ApiClient | None = None) -> None:
        """``api`` resolves an album's tracks for ``pin_album``; without it only ``pin_tracks`` works."""
        super().__init__()
        self.downloader = downloader
        self.connectivity = connectivity
        self.availability = availability
        self._api = api
        self._snapshot = downloader.snapshot()
        self._refreshing = False
        self._closed = False
        self._refresh = QTimer(self, singleShot=True, interval=_REFRESH_MS)
        self._refresh.timeout.connect(self._on_refresh_timeout)
        self._downloader_changed.connect(self._on_downloader_changed)
        self._connectivity_event.connect(self._on_connectivity_event)
        downloader.subscribe(self._downloader_changed.emit)
        connectivity.subscribe(self._connectivity_event.emit)

    # -- reading -----------------------------------------------------------------------------------------

    @property
    def snapshot(self) -> DownloadsSnapshot:
        return self._snapshot

    def pin_status(self, key: PinKey) -> PinStatus | None:
        return next((pin for pin in self._snapshot.pins if pin.key == key), None)

    @property
    def online(self) -> bool:
        return self.connectivity.online

    @property
    def forced_offline(self) -> bool:
        return self.connectivity.state.forced_offline

    def playability(self, track_id: int, file_ids: Sequence[int] = ()) -> Playability:
        return self.availability.playability(track_id, file_ids)

    # -- the user's commands -----------------------------------------------------------------------------

    def pin_album(self, album_id: int, title: str) -> None:
        """Download an album: its tracks are looked up off the UI thread, then queued."""
        api = self._api
        if api is None:
            self.error_occurred.emit("cannot download an album without a server connection")
            return
        self._pin_found(PinKey("album", str(album_id)), title, f"'{title}'", lambda: [
            TrackRef(t.id, t.title) for t in catalog.album_with_tracks(api.album(album_id)).tracks])

    def pin_artist(self, artist_id: int, name: str) -> None:
        """Download every released album of an artist as one pin; call again to take in albums released since
        (its tracks are looked up off the UI thread, then queued)."""
        api = self._api
        if api is None:
            self.error_occurred.emit("cannot download an artist without a server connection")
            return
        self._pin_found(PinKey("artist", str(artist_id)), name, name,
                        lambda: _released_tracks(api, artist_id, utc_now()))

    def _pin_found(self, key: PinKey, title: str, named: str, look_up: Callable[[], list[TrackRef]]) -> None:
        """Pin ``key`` to the tracks ``look_up`` finds off the UI thread, unless the app has closed meanwhile
        (``named``: how an error names it)."""

        def found(tracks: list[TrackRef]) -> None:
            if not self._closed:
                self.pin_tracks(key, title, tracks)

        def failed(message: str) -> None:
            if not self._closed:
                self.error_occurred.emit(f"could not download {named}: {message}")

        run_task(look_up, found, failed)

    def pin_tracks(self, key: PinKey, title: str, tracks: Sequence[TrackRef]) -> None:
        """Pin an album or playlist to exactly these tracks; call again whenever a pinned playlist changes."""
        self.downloader.pin(key, title, tracks)

    def pin_playlist(self, playlist_id: str, title: str, tracks: Sequence[TrackRef]) -> None:
        self.pin_tracks(PinKey("playlist", playlist_id), title, tracks)

    def pin_liked(self, tracks: Sequence[TrackRef]) -> None:
        """Download the Liked Songs; call again whenever they change while pinned (they follow the hearts)."""
        self.pin_tracks(LIKED_PIN, "Liked Songs", tracks)

    def unpin(self, key: PinKey) -> None:
        self.downloader.unpin(key)

    def pause(self, track_id: int) -> None:
        self.downloader.pause(track_id)

    def resume(self, track_id: int) -> None:
        self.downloader.resume(track_id)

    def cancel(self, track_id: int) -> None:
        self.downloader.cancel(track_id)

    def pause_all(self) -> None:
        self.downloader.pause_all()

    def resume_all(self) -> None:
        self.downloader.resume_all()

    def set_offline_mode(self, forced: bool) -> None:
        self.connectivity.set_forced_offline(forced)

    def close(self) -> None:
        self._closed = True
        self._refresh.stop()
        self.downloader.close()
        self.connectivity.close()

    # -- slots -------------------------------------------------------------------------------------------

    def _on_downloader_changed(self) -> None:
        # Coalesced: a burst of progress from several workers becomes one snapshot per refresh interval.
        if not self._refresh.isActive():
            self._refresh.start()

    def _on_refresh_timeout(self) -> None:
        # The snapshot reads the queue's SQLite file, which the download workers write: not on the UI thread.
        if not self._refreshing:
            self._refreshing = True
            run_task(self.downloader.snapshot, self._on_snapshot_read, self._on_snapshot_failed)

    def _on_snapshot_read(self, snapshot: DownloadsSnapshot) -> None:
        self._refreshing = False
        if not self._closed:
            self._snapshot = snapshot
            self.snapshot_changed.emit(snapshot)

    def _on_snapshot_failed(self, message: str) -> None:
        self._refreshing = False
        if not self._closed:
            self.error_occurred.emit(f"Cannot read the download queue: {message}")

    def _on_connectivity_event(self, state: ConnectivityState) -> None:
        self.connectivity_changed.emit(state.online, state.forced_offline)


def open_downloads(api: ApiClient, store: ContentStore, queue_path: Path, disk_dir: Path, *,
                   quality: str = DOWNLOAD_QUALITY, concurrency: int = 2) -> DownloadsController:
    """The controller over real parts: the queue at ``queue_path``, downloads into ``store`` (on ``disk_dir``)."""
    connectivity = Connectivity(api.health)
    downloader = Downloader(queue_path, store, ApiDownloadSource(api, quality), connectivity, disk_dir,
                            concurrency=concurrency)
    return DownloadsController(downloader, connectivity, Availability(downloader.queue, store, connectivity), api)


def _released_tracks(api: ApiClient, artist_id: int, now: datetime) -> list[TrackRef]:
    """The tracks of the artist's albums that are out by ``now`` (one still to come has nothing to download)."""
    tracks: list[TrackRef] = []
    for album in catalog.artist(api.artist(artist_id)).albums:
        instant = release_instant(album.release_at)
        if instant is None or instant <= now:
            tracks.extend(TrackRef(t.id, t.title) for t in catalog.album_with_tracks(api.album(album.id)).tracks)
    return tracks
