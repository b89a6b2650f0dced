"""What can play now: online everything may stream; offline only downloads with a valid licence and fully
cached files. Answers at once from local state and never waits on the network."""

from __future__ import annotations

import time
from collections.abc import Sequence

from cache import ContentStore, FileManifest
from offline.connectivity import Connectivity
from offline.download_queue import DownloadQueue
from offline.errors import LicenceExpired, TrackUnavailable
from offline.records import Clock, Playability

_RENEW_HINT = "connect once to renew its offline licence"


class Availability:
    """Playability of tracks and the manifest to play them from disk. ``clock`` is Unix time (injectable)."""

    def __init__(self, queue: DownloadQueue, store: ContentStore, connectivity: Connectivity,
                 clock: Clock = time.time) -> None:
        self._queue = queue
        self._store = store
        self._connectivity = connectivity
        self._clock = clock

    def playability(self, track_id: int, file_ids: Sequence[int] = ()) -> Playability:
        """Whether ``track_id`` plays now; ``file_ids`` are its files the caller knows of (to find cached ones)."""
        try:
            self.local_manifest(track_id, file_ids)
        except (TrackUnavailable, LicenceExpired) as exc:
            if self._connectivity.online:
                return Playability(True, "streams from the server")
            return Playability(False, str(exc))
        return Playability(True, "plays from disk")

    def local_manifest(self, track_id: int, file_ids: Sequence[int] = ()) -> FileManifest:
        """The manifest of a copy on disk that may play now, without the network.

        Raises LicenceExpired for a download past its offline licence, TrackUnavailable when nothing is on disk.
        """
        item = self._queue.item(track_id)
        if item is not None and item.state == "done" and item.manifest is not None:
            expiry = self._queue.licence_expiry(item.manifest.file_id)
            if expiry is not None and expiry > self._clock():
                return item.manifest
            raise LicenceExpired(f"'{item.title}' is downloaded but its offline licence expired; {_RENEW_HINT}")
        for file_id in file_ids:
            cached = self._store.cached_manifest(file_id)
            if cached is not None and len(self._store.stored_chunks(cached)) == cached.chunk_count:
                return cached
        raise TrackUnavailable(f"track {track_id} is not downloaded or cached, and "
                               f"{self._offline_reason()}")

    def _offline_reason(self) -> str:
        if self._connectivity.state.forced_offline:
            return "offline mode is on"
        return "the server cannot be reached"

