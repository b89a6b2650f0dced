"""The random wait at a release instant: a client's first manifest or licence call for an album released moments
ago waits uniform 0..bound ms (the bound from the album record), so the origin sees a ramp, not a wall.

It only delays; it never refuses a call, and it never waits for an album released long ago or not yet out.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

RECENT_S = 600.0  # an album released less than this long ago still counts as "just released"


def release_instant(release_at: str | None) -> datetime | None:
    """An album record's ``release_at`` as an aware datetime (None when the album has no scheduled release)."""
    return None if release_at is None else datetime.fromisoformat(release_at.replace("Z", "+00:00"))


def utc_now() -> datetime:
    return datetime.now(UTC)


class ReleaseJitter:
    """Learns albums' releases and tracks' albums from the records the API hands over, and draws each just-released
    album's wait once. Thread-safe; ``rng``, ``sleep`` and ``clock`` are injectable (tests draw without waiting)."""

    def __init__(self, rng: random.Random | None = None, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self._rng = rng or random.Random()
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._releases: dict[int, tuple[datetime, float]] = {}  # album id -> (release instant, bound in s)
        self._album_of_track: dict[int, int] = {}
        self._track_of_file: dict[int, int] = {}
        self._drawn: set[int] = set()

    def learn_albums(self, albums: Iterable[dict[str, Any]]) -> None:
        """Album records (summaries or with ``tracks``) as the API sent them."""
        with self._lock:
            for album in albums:
                instant = release_instant(album.get("release_at"))
                if instant is not None:
                    self._releases[int(album["id"])] = (instant, int(album.get("release_jitter_ms", 0)) / 1000)
                for track in album.get("tracks", ()):
                    self._album_of_track[int(track["id"])] = int(album["id"])

    def learn_tracks(self, tracks: Iterable[dict[str, Any]]) -> None:
        with self._lock:
            for track in tracks:
                self._album_of_track[int(track["id"])] = int(track["album_id"])

    def learn_manifest(self, manifest: dict[str, Any]) -> None:
        with self._lock:
            for file in manifest.get("files", ()):
                self._track_of_file[int(file["id"])] = int(manifest["track_id"])

    def delay_s(self, track_id: int) -> float:
        """The wait before this call for ``track_id``: a fresh uniform draw for the first call of a just-released
        album, 0.0 for every other call."""
        with self._lock:
            album_id = self._album_of_track.get(track_id)
            release = self._releases.get(album_id) if album_id is not None else None
            if album_id is None or release is None or album_id in self._drawn:
                return 0.0
            since_s = (self._clock() - release[0]).total_seconds()
            if not 0.0 <= since_s < RECENT_S:
                return 0.0
            self._drawn.add(album_id)
            return self._rng.uniform(0.0, release[1])

    def wait_before_track(self, track_id: int) -> None:
        delay = self.delay_s(track_id)
        if delay > 0:
            self._sleep(delay)

    def wait_before_file(self, file_id: int) -> None:
        with self._lock:
            track_id = self._track_of_file.get(file_id)
        if track_id is not None:
            self.wait_before_track(track_id)
