"""The RAM tier: the opening seconds of the next queued files, fetched in the background in queue order.

Also holds each file's last 64 KiB, which the Ogg demuxer reads on open to learn the duration. Holds verified
ciphertext only, within a byte bound; a new plan frees what it no longer needs at once. A busy server's refusal
(503 + Retry-After) is waited out by the policy handed in, never retried sooner.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from cache.manifest import FileManifest
from cache.stream import asked_wait_s

log = logging.getLogger(__name__)

PREFETCH_TRACKS = 3
PREFETCH_SECONDS = 10.0
DEFAULT_RAM_BYTES = 32 * 1024 * 1024
TAIL_BYTES = 64 * 1024

# Loads the given verified chunks of a file (from disk or network).
ChunkLoader = Callable[[FileManifest, Sequence[int]], dict[int, bytes]]


class BusyPolicy(Protocol):
    """How long to leave a busy server alone after its ``attempt``-th refusal (0-based) in a row that asked for
    ``retry_after_s``: offline.Backoff is the one the client hands in, the policy every part of it follows."""

    def after_busy_s(self, attempt: int, retry_after_s: float | None) -> float: ...


@dataclass(frozen=True)
class PrefetchItem:
    """An upcoming queue entry: the file to be played and the track's duration."""

    manifest: FileManifest
    duration_s: float


@dataclass(frozen=True)
class PlannedFile:
    """What the RAM tier means to hold of one file: these chunks, the most needed first."""

    manifest: FileManifest
    chunks: tuple[int, ...]

    @property
    def size_bytes(self) -> int:
        return sum(end - start for start, end in map(self.manifest.chunk_span, self.chunks))


def opening_chunks(manifest: FileManifest, duration_s: float, seconds: float) -> int:
    """Chunks covering the first ``seconds`` at this file's average byte rate, rounded up to whole chunks."""
    if duration_s <= 0:
        return manifest.chunk_count
    wanted_bytes = math.ceil(manifest.size_bytes * seconds / duration_s)
    return min(manifest.chunk_count, math.ceil(wanted_bytes / manifest.chunk_size))


def start_chunks(manifest: FileManifest, duration_s: float, seconds: float) -> tuple[int, ...]:
    """What starting to play needs, most needed first: chunk 0, the tail the demuxer probes, the rest of the opening."""
    opening = opening_chunks(manifest, duration_s, seconds)
    first_tail = max(0, manifest.size_bytes - TAIL_BYTES) // manifest.chunk_size
    tail = tuple(range(max(first_tail, opening, 1), manifest.chunk_count))
    return tuple(range(min(opening, 1))) + tail + tuple(range(1, opening))


def make_plan(upcoming: Sequence[PrefetchItem], tracks: int, seconds: float, max_bytes: int) -> list[PlannedFile]:
    """The first ``tracks`` distinct files' openings, in queue order, cut off where ``max_bytes`` runs out."""
    plan: list[PlannedFile] = []
    budget = max_bytes
    for item in upcoming:
        if len(plan) == tracks:
            break
        if any(p.manifest.file_id == item.manifest.file_id for p in plan):
            continue
        planned = PlannedFile(item.manifest, start_chunks(item.manifest, item.duration_s, seconds))
        while planned.chunks and planned.size_bytes > budget:
            planned = PlannedFile(item.manifest, planned.chunks[:-1])
        budget -= planned.size_bytes
        plan.append(planned)
    return plan


class Prefetcher:
    """Keeps the planned openings in memory; one background worker fetches them in plan order.

    A load the server refused as busy is tried again once ``busy.after_busy_s`` has passed (other planned files go
    first meanwhile); without a ``busy`` policy, or on any other error, the file is given up until the next plan.
    """

    def __init__(self, load: ChunkLoader, *, tracks: int = PREFETCH_TRACKS, seconds: float = PREFETCH_SECONDS,
                 max_bytes: int = DEFAULT_RAM_BYTES, busy: BusyPolicy | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._load = load
        self._busy = busy
        self._clock = clock
        self._tracks = tracks
        self._seconds = seconds
        self.max_bytes = max_bytes
        self._plan: list[PlannedFile] = []
        self._held: dict[int, dict[int, bytes]] = {}
        self._loading: int | None = None
        self._failed: set[int] = set()
        self._refusals: dict[int, tuple[int, float]] = {}  # file id -> (busy refusals in a row, retry not before)
        self._changed = threading.Condition()
        self._closed = False
        self._worker = threading.Thread(target=self._run, name="legato-prefetch", daemon=True)
        self._worker.start()

    def plan(self, upcoming: Sequence[PrefetchItem]) -> None:
        """Re-plan for the queue as it is now: ``upcoming`` lists the entries after the one playing."""
        plan = make_plan(upcoming, self._tracks, self._seconds, self.max_bytes)
        with self._changed:
            self._plan = plan
            wanted = {p.manifest.file_id: set(p.chunks) for p in plan}
            for file_id in list(self._held):
                if file_id not in wanted:
                    del self._held[file_id]
                else:
                    for index in [i for i in self._held[file_id] if i not in wanted[file_id]]:
                        del self._held[file_id][index]
            self._failed.clear()
            # A re-plan (every queue edit) keeps a busy file's wait: it must not send the crowd back early.
            self._refusals = {f: refused for f, refused in self._refusals.items() if f in wanted}
            self._changed.notify_all()

    def planned(self) -> list[PlannedFile]:
        with self._changed:
            return list(self._plan)

    def get(self, file_id: int, index: int) -> bytes | None:
        with self._changed:
            return self._held.get(file_id, {}).get(index)

    def held_bytes(self) -> int:
        with self._changed:
            return sum(len(chunk) for chunks in self._held.values() for chunk in chunks.values())

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until every planned opening is held (or failed), busy waits included; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._unheld() and self._loading is None, timeout_s)

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._held.clear()
            self._changed.notify_all()
        self._worker.join()

    def _unheld(self) -> list[PlannedFile]:
        """The planned files not yet held in full and not given up, in plan order."""
        return [planned for planned in self._plan
                if planned.manifest.file_id not in self._failed
                and any(index not in self._held.get(planned.manifest.file_id, {}) for index in planned.chunks)]

    def _next_job(self) -> PlannedFile | None:
        now = self._clock()
        return next((planned for planned in self._unheld()
                     if self._refusals.get(planned.manifest.file_id, (0, now))[1] <= now), None)

    def _until_retry_s(self) -> float | None:
        """Seconds until the first busy wait among the unheld files ends; None when none is waiting."""
        waits = [self._refusals[p.manifest.file_id][1] for p in self._unheld()
                 if p.manifest.file_id in self._refusals]
        return max(0.0, min(waits) - self._clock()) if waits else None

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._closed and (job := self._next_job()) is None:
                    self._changed.wait(self._until_retry_s())
                if self._closed or job is None:
                    return
                self._loading = job.manifest.file_id
            chunks: dict[int, bytes] | None = None
            busy_wait_s: float | None = None
            try:
                chunks = self._load(job.manifest, job.chunks)
            # The loader reaches the network and the licence server, which fail in their own ways;
            # a failed prefetch only costs a slower start, so log it and keep the worker alive.
            except Exception as exc:
                busy_wait_s = asked_wait_s(exc) if self._busy is not None else None
                if busy_wait_s is None:
                    log.exception("prefetch of file %d failed", job.manifest.file_id)
            with self._changed:
                self._loading = None
                self._keep(job, chunks, busy_wait_s)
                self._changed.notify_all()

    def _keep(self, job: PlannedFile, chunks: dict[int, bytes] | None, busy_wait_s: float | None) -> None:
        file_id = job.manifest.file_id
        if busy_wait_s is not None and self._busy is not None:
            refusals = self._refusals.get(file_id, (0, 0.0))[0]
            wait_s = self._busy.after_busy_s(refusals, busy_wait_s)
            log.info("prefetch of file %d: the server is busy; trying again in %.1f s", file_id, wait_s)
            self._refusals[file_id] = (refusals + 1, self._clock() + wait_s)
            return
        self._refusals.pop(file_id, None)
        if chunks is None:
            self._failed.add(file_id)
            return
        # The plan may have changed while loading: keep only what the current plan still wants.
        wanted = next((p.chunks for p in self._plan if p.manifest.file_id == file_id), ())
        kept = {index: data for index, data in chunks.items() if index in wanted}
        if kept:
            self._held[file_id] = {**self._held.get(file_id, {}), **kept}
