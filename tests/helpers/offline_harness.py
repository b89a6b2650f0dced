"""Helpers for the offline tests: a recording, gateable download source, the offline parts wired together,
polling, and checks of what the disk cache holds against a manifest."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cache import ContentStore, FileManifest, MasterKey
from client.api import ApiClient
from client.downloads.controller import ApiDownloadSource
from offline import (
    Availability,
    Backoff,
    Connectivity,
    Downloader,
    OfflineLicence,
    RangeBody,
    TrackRef,
)

WAIT_S = 30.0
FAST_BACKOFF = Backoff(base_s=0.02, cap_s=0.2)


def wait_until(condition: Callable[[], bool], what: str, timeout_s: float = WAIT_S) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


@dataclass(frozen=True)
class Fetch:
    """One Range request the downloader made, once it ended: ``received`` bytes of [start, end) reached it."""

    file_id: int
    start: int
    end: int
    received: int

    @property
    def ok(self) -> bool:
        return self.received == self.end - self.start


class CountedBody:
    """A RangeBody that counts what it hands on (and lets a subclass of the source change a piece)."""

    def __init__(self, body: RangeBody, alter: Callable[[int, bytes], bytes]) -> None:
        self._body = body
        self._alter = alter
        self.received = 0

    def pieces(self) -> Iterator[bytes]:
        for n, piece in enumerate(self._body.pieces()):
            self.received += len(piece)
            yield self._alter(n, piece)

    def abort(self) -> None:
        self._body.abort()


class RecordingSource:
    """A DownloadSource over the real API that records every range asked for (and how much of it arrived).

    ``before_fetch(n)`` runs before the n-th request (0-based); ``gate()`` makes requests wait for ``allow(k)``;
    ``alter(n, k, piece)`` may change the k-th piece of the n-th answer (as a broken proxy would).
    """

    def __init__(self, api: ApiClient, quality: str = "high") -> None:
        self.inner = ApiDownloadSource(api, quality)
        self.fetches: list[Fetch] = []
        self.licences: list[int] = []
        self.before_fetch: Callable[[int], None] = lambda n: None
        self._lock = threading.Lock()
        self._requests = 0
        self._permits: threading.Semaphore | None = None

    def gate(self) -> None:
        self._permits = threading.Semaphore(0)

    def allow(self, count: int = 1) -> None:
        assert self._permits is not None
        self._permits.release(count)

    def open_gate(self) -> None:
        permits, self._permits = self._permits, None
        if permits is not None:
            permits.release(1000)

    def manifest(self, track_id: int) -> FileManifest:
        return self.inner.manifest(track_id)

    def alter(self, n: int, k: int, piece: bytes) -> bytes:
        return piece

    @contextmanager
    def open_range(self, manifest: FileManifest, start: int, end: int) -> Iterator[RangeBody]:
        permits = self._permits
        if permits is not None and not permits.acquire(timeout=WAIT_S):
            raise TimeoutError("the test never allowed a gated fetch")
        with self._lock:
            n, self._requests = self._requests, self._requests + 1
        self.before_fetch(n)
        counted: CountedBody | None = None
        try:
            with self.inner.open_range(manifest, start, end) as body:
                counted = CountedBody(body, lambda k, piece: self.alter(n, k, piece))
                yield counted
        finally:
            with self._lock:
                self.fetches.append(Fetch(manifest.file_id, start, end, counted.received if counted else 0))

    def offline_licence(self, file_id: int) -> OfflineLicence:
        with self._lock:
            self.licences.append(file_id)
        return self.inner.offline_licence(file_id)

    def delivered(self) -> list[Fetch]:
        with self._lock:
            return [f for f in self.fetches if f.ok]


@dataclass
class Clock:
    """A Unix clock the test moves by hand."""

    now: float = field(default_factory=time.time)

    def __call__(self) -> float:
        return self.now


@dataclass
class Parts:
    """The offline parts over one cache directory, as the app wires them."""

    store: ContentStore
    connectivity: Connectivity
    downloader: Downloader
    availability: Availability

    def close(self) -> None:
        self.downloader.close()
        self.connectivity.close()
        self.store.close()


def make_parts(root: Path, api: ApiClient, source: object, master_key: MasterKey, *,
               cache_dir: Path | None = None, clock: Callable[[], float] = time.time,
               **options: object) -> Parts:
    """Queue in root/queue.db, store in ``cache_dir`` (root/cache); ``source`` is the DownloadSource."""
    cache_dir = cache_dir or root / "cache"
    store = ContentStore(cache_dir, api, api, master_key)
    connectivity = Connectivity(api.health, FAST_BACKOFF)
    options = {"backoff": FAST_BACKOFF, "reserve_bytes": 0, **options}
    downloader = Downloader(root / "queue.db", store, source, connectivity, cache_dir,  # type: ignore[arg-type]
                            clock=clock, **options)  # type: ignore[arg-type]
    return Parts(store, connectivity, downloader, Availability(downloader.queue, store, connectivity, clock))


def album_tracks(api: ApiClient, index: int = 0) -> tuple[str, list[TrackRef]]:
    album = api.albums()[index]
    tracks = api.album(int(album["id"]))["tracks"]
    return str(album["id"]), [TrackRef(int(t["id"]), str(t["title"])) for t in tracks]


def disk_matches(cache_dir: Path, manifest: FileManifest) -> bool:
    """Every chunk of the file is on disk and hashes as the manifest says."""
    return len(intact_chunks(cache_dir, manifest)) == manifest.chunk_count


def stored_chunk_count(cache_dir: Path, file_id: int) -> int:
    """How many chunks of the file the disk cache's index holds, read without opening a DiskCache (which would
    reconcile the directory under a process still writing it)."""
    db = sqlite3.connect(cache_dir / "index.db", timeout=WAIT_S)
    try:
        return int(db.execute("SELECT COUNT(*) FROM chunks WHERE file_id = ?", [file_id]).fetchone()[0])
    finally:
        db.close()


def intact_chunks(cache_dir: Path, manifest: FileManifest) -> list[int]:
    """Indices of the file's chunks on disk whose bytes hash as the manifest says."""
    folder = cache_dir / "chunks" / str(manifest.file_id)
    return [index for index, expected in enumerate(manifest.chunk_sha256)
            if (folder / str(index)).is_file()
            and hashlib.sha256((folder / str(index)).read_bytes()).hexdigest() == expected]
