"""One file's download: fetch the chunks the disk tier lacks, by HTTP Range in batches, and store each verified.

Never fetches a chunk that is already stored, so a resumed download starts where the last one stopped; each
request is sized to the link so that it lands within about a second, so a kill loses little of what arrived.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from cache import ContentStore, FileManifest
from offline.disk_space import ensure_free
from offline.rate import RateMeter

Stop = Literal["pause", "requeue", "cancel", "close"]
Fetch = Callable[[FileManifest, int, int], bytes]

# How long one request should take: what a killed download can lose (the bytes of the request in flight).
REQUEST_TARGET_S = 0.5
_GROWTH = 4  # a request at most this many times the last one, so one lucky fast answer does not overshoot


class Stopped(Exception):
    """The user paused or cancelled this download, or the downloader is closing."""


@dataclass
class ActiveDownload:
    """A download a worker is running now; ``stop`` is set by the user's commands, read between requests."""

    track_id: int
    meter: RateMeter
    file_id: int | None = None
    bytes_done: int = 0
    bytes_total: int = 0
    stop: Stop | None = None
    note: str | None = None
    waiting: bool = False
    progress_lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self) -> None:
        if self.stop is not None:
            raise Stopped

    def set_progress(self, done: int, total: int) -> None:
        with self.progress_lock:
            self.bytes_done, self.bytes_total = done, total

    def add_bytes(self, count: int) -> None:
        with self.progress_lock:
            self.bytes_done += count
        self.meter.add(count)


@dataclass(frozen=True)
class DiskBudget:
    """Where the cache lives and how much space to leave free there; ``what`` names the download in messages."""

    directory: Path
    reserve_bytes: int
    what: str

    def ensure(self, needed_bytes: int) -> None:
        ensure_free(self.directory, needed_bytes, self.reserve_bytes, self.what)


def fetch_missing_chunks(manifest: FileManifest, active: ActiveDownload, store: ContentStore, fetch: Fetch,
                         fetched: Callable[[], None], progressed: Callable[[], None], disk: DiskBudget,
                         request_bytes: int) -> None:
    """Download what the disk tier lacks of ``manifest``: requests of at most ``request_bytes``, starting at
    one chunk and sized to the measured link (about REQUEST_TARGET_S each). ``fetched()`` follows every answered
    request, ``progressed()`` every stored batch. Raises Stopped, DiskFullError, or the fetch's OSError."""
    stored = store.stored_chunks(manifest)
    missing = [index for index in range(manifest.chunk_count) if index not in stored]
    remaining = sum(_span_bytes(manifest, index) for index in missing)
    active.set_progress(manifest.size_bytes - remaining, manifest.size_bytes)
    progressed()
    disk.ensure(remaining)
    most = max(1, request_bytes // manifest.chunk_size)
    size = 1
    while missing:
        first, stop = first_batch(missing, size)
        missing = missing[stop - first:]
        active.check()
        start, end = manifest.chunk_span(first)[0], manifest.chunk_span(stop - 1)[1]
        disk.ensure(end - start)
        began = time.monotonic()
        data = fetch(manifest, start, end)
        size = next_request_chunks(manifest.chunk_size, len(data), time.monotonic() - began, stop - first, most)
        fetched()
        for index in range(first, stop):
            chunk_start, chunk_end = manifest.chunk_span(index)
            store.save_chunk(manifest, index, data[chunk_start - start:chunk_end - start])
        active.add_bytes(len(data))
        progressed()


def next_request_chunks(chunk_bytes: int, got_bytes: int, took_s: float, asked: int, most: int) -> int:
    """Chunks the next request should ask for: what the link carried in REQUEST_TARGET_S at the rate the last
    request saw, within [1, most] and at most _GROWTH times the last request."""
    if took_s <= 0:
        return min(most, asked * _GROWTH)
    fits = int(got_bytes / took_s * REQUEST_TARGET_S // chunk_bytes)
    return max(1, min(most, asked * _GROWTH, fits))


def first_batch(indices: Sequence[int], most: int) -> tuple[int, int]:
    """The first of the sorted chunk ``indices`` and the adjacent ones after it, at most ``most`` in all, as
    [first, stop): one Range request."""
    stop = indices[0] + 1
    while stop - indices[0] < min(most, len(indices)) and indices[stop - indices[0]] == stop:
        stop += 1
    return indices[0], stop


def _span_bytes(manifest: FileManifest, index: int) -> int:
    start, end = manifest.chunk_span(index)
    return end - start
