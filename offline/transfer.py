"""One file's download: fetch the chunks the disk tier lacks by HTTP Range, streamed, storing each verified chunk
the moment its bytes are in, while the rest of the answer is still arriving.

Never fetches a chunk that is already stored and never holds more than one chunk of an answer unstored, so a
killed download loses at most the chunk in flight, and a resumed one starts where the last one stopped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from cache import ContentStore, FileManifest
from offline.disk_space import ensure_free
from offline.errors import RangeRefused
from offline.rate import RateMeter
from offline.source import RangeBody

Stop = Literal["pause", "requeue", "cancel", "close"]


OpenRange = Callable[[FileManifest, int, int], AbstractContextManager[RangeBody]]


class Stopped(Exception):
    """The user paused or cancelled this download, or the downloader is closing."""


@dataclass
class ActiveDownload:
    """A download a worker is running now; ``stop`` is set by the user's commands through ``request_stop``, which
    also aborts the answer being received, so a stop never waits for a big answer to finish."""

    track_id: int
    meter: RateMeter
    file_id: int | None = None
    bytes_done: int = 0
    bytes_total: int = 0
    stop: Stop | None = None
    note: str | None = None
    waiting: bool = False
    progress_lock: threading.Lock = field(default_factory=threading.Lock)
    _receiving: RangeBody | None = None

    def check(self) -> None:
        if self.stop is not None:
            raise Stopped

    def request_stop(self, stop: Stop, *, keep_earlier: bool = False) -> None:
        """Stop this download (``keep_earlier``: unless a stop was asked for already), aborting its answer."""
        with self.progress_lock:
            if self.stop is None or not keep_earlier:
                self.stop = stop
            body = self._receiving
        if body is not None:
            body.abort()

    @contextmanager
    def receiving(self, body: RangeBody) -> Iterator[None]:
        """While the block runs, ``request_stop`` aborts ``body``; raises Stopped at once if it was stopped."""
        with self.progress_lock:
            self._receiving = body
        try:
            self.check()  # a stop asked for before ``body`` was known could not abort it
            yield
        finally:
            with self.progress_lock:
                self._receiving = None

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


@dataclass(frozen=True)
class Transfer:
    """What one file's download works with: where it stores, how it asks the server, whom it tells.

    ``answered()`` follows every request the server answered with its range; ``progressed()`` every stored chunk.
    ``request_bytes`` caps one Range request (None: each run of missing chunks is one request).
    """

    store: ContentStore
    open_range: OpenRange
    answered: Callable[[], None]
    progressed: Callable[[], None]
    disk: DiskBudget
    request_bytes: int | None = None


def fetch_missing_chunks(manifest: FileManifest, active: ActiveDownload, transfer: Transfer) -> None:
    """Download what the disk tier lacks of ``manifest``, one Range request per run of missing chunks.

    Raises Stopped, DiskFullError, RangeRefused, ChunkIntegrityError, or the source's OSError."""
    stored = transfer.store.stored_chunks(manifest)
    missing = [index for index in range(manifest.chunk_count) if index not in stored]
    remaining = sum(_span_bytes(manifest, index) for index in missing)
    active.set_progress(manifest.size_bytes - remaining, manifest.size_bytes)
    transfer.progressed()
    transfer.disk.ensure(remaining)
    most = manifest.chunk_count
    if transfer.request_bytes is not None:
        most = max(1, transfer.request_bytes // manifest.chunk_size)
    while missing:
        first, stop = first_batch(missing, most)
        missing = missing[stop - first:]
        active.check()
        transfer.disk.ensure(manifest.chunk_span(stop - 1)[1] - manifest.chunk_span(first)[0])
        try:
            _receive(manifest, first, stop, active, transfer)
        except OSError:
            active.check()  # an answer aborted for a stop may end in a broken read: the stop is what happened
            raise


def _receive(manifest: FileManifest, first: int, stop: int, active: ActiveDownload, transfer: Transfer) -> None:
    """Chunks [first, stop) by one Range request, each verified and stored as soon as its last byte is in."""
    start, end = manifest.chunk_span(first)[0], manifest.chunk_span(stop - 1)[1]
    index, need = first, _span_bytes(manifest, first)
    pending = bytearray()
    with transfer.open_range(manifest, start, end) as body, active.receiving(body):
        transfer.answered()
        for piece in body.pieces():
            active.check()
            pending += piece
            while len(pending) >= need and index < stop:
                transfer.store.save_chunk(manifest, index, bytes(pending[:need]))
                del pending[:need]
                active.add_bytes(need)
                transfer.progressed()
                index += 1
                need = _span_bytes(manifest, index) if index < stop else 0
            if index == stop and pending:
                raise RangeRefused(f"the server sent more than bytes {start}-{end - 1} of file {manifest.file_id} "
                                   f"asked for", 206)
    active.check()  # aborted for a stop: the answer ended early
    if index < stop:
        got = manifest.chunk_span(index)[0] - start + len(pending)
        raise OSError(f"the answer for bytes {start}-{end - 1} of file {manifest.file_id} ended after "
                      f"{got} of {end - start} bytes")


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
