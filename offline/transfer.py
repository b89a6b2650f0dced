"""One file's download: fetch the chunks the disk tier lacks, by HTTP Range in batches, and store each verified.

Never fetches a chunk that is already stored, so a resumed download starts where the last one stopped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from cache import ContentStore, FileManifest
from offline.disk_space import ensure_free
from offline.rate import RateMeter

Stop = Literal["pause", "requeue", "cancel", "close"]
Fetch = Callable[[FileManifest, int, int], bytes]


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
    """Download what the disk tier lacks of ``manifest``. ``fetched()`` follows every answered request,
    ``progressed()`` every stored batch. Raises Stopped, DiskFullError, or the fetch's OSError."""
    stored = store.stored_chunks(manifest)
    missing = [index for index in range(manifest.chunk_count) if index not in stored]
    remaining = sum(_span_bytes(manifest, index) for index in missing)
    active.set_progress(manifest.size_bytes - remaining, manifest.size_bytes)
    progressed()
    disk.ensure(remaining)
    for first, stop in batches(missing, max(1, request_bytes // manifest.chunk_size)):
        active.check()
        start, end = manifest.chunk_span(first)[0], manifest.chunk_span(stop - 1)[1]
        disk.ensure(end - start)
        data = fetch(manifest, start, end)
        fetched()
        for index in range(first, stop):
            chunk_start, chunk_end = manifest.chunk_span(index)
            store.save_chunk(manifest, index, data[chunk_start - start:chunk_end - start])
        active.add_bytes(len(data))
        progressed()


def batches(indices: Sequence[int], most: int) -> list[tuple[int, int]]:
    """Sorted chunk indices as [first, stop) runs of at most ``most`` adjacent chunks: one Range request each."""
    runs: list[tuple[int, int]] = []
    for index in indices:
        if runs and runs[-1][1] == index and index - runs[-1][0] < most:
            runs[-1] = (runs[-1][0], index + 1)
        else:
            runs.append((index, index + 1))
    return runs


def _span_bytes(manifest: FileManifest, index: int) -> int:
    start, end = manifest.chunk_span(index)
    return end - start
