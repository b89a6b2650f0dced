"""Where one play's chunks come from: RAM, then disk, then the network, with read-ahead behind the reader.

Every chunk from disk or network is checked against the manifest before it is handed on; a bad one is dropped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from concurrent.futures import Executor, Future

from cache.disk import DiskCache
from cache.manifest import FileManifest
from cache.prefetch import Prefetcher
from cache.stats import Tally, Tier
from cache.stream import NetworkChunks, asked_wait_s, chunk_intact

log = logging.getLogger(__name__)

def contiguous_runs(indices: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted indices as [start, stop) runs, so each run is one ranged request."""
    runs: list[tuple[int, int]] = []
    for index in sorted(indices):
        if runs and runs[-1][1] == index:
            runs[-1] = (runs[-1][0], index + 1)
        else:
            runs.append((index, index + 1))
    return runs


def disk_chunk(disk: DiskCache, manifest: FileManifest, index: int) -> bytes | None:
    """Chunk ``index`` from disk if it is there and intact; a damaged one is dropped so it is fetched again."""
    data = disk.read_chunk(manifest.file_id, index)
    if data is None or chunk_intact(manifest, index, data):
        return data
    log.warning("chunk %d of file %d on disk failed its check; dropping it and fetching it again",
                index, manifest.file_id)
    disk.drop_chunk(manifest.file_id, index)
    return None


class TieredChunks:
    """The ChunkSupply of one play. Chunks fetched for it are written to the disk tier (it is being played)."""

    def __init__(self, manifest: FileManifest, ram: Prefetcher, disk: DiskCache, network: NetworkChunks,
                 pool: Executor, tally: Tally, ahead_chunks: int) -> None:
        self._manifest = manifest
        self._ram = ram
        self._disk = disk
        self._network = network
        self._pool = pool
        self._tally = tally
        self._ahead_chunks = ahead_chunks
        self._ahead: dict[int, Future[dict[int, bytes]]] = {}
        self._lock = threading.Lock()
        self._counted_play = False

    def chunk(self, index: int) -> bytes:
        tier: Tier = "network"
        data = self._read_ahead_result(index)
        if data is None:
            data, tier = self._local(index)
        if data is None:
            data, tier = self._fetch(index, self._run_end(index))[index], "network"
        with self._lock:
            first, self._counted_play = not self._counted_play, True
        self._tally.served(tier, len(data), new_play=first)
        self._read_ahead(index + 1)
        return data

    def _local(self, index: int) -> tuple[bytes | None, Tier]:
        file_id = self._manifest.file_id
        held = self._ram.get(file_id, index)
        if held is not None:
            # Verified when it was loaded into RAM; it goes to disk now because it is being played.
            if not self._disk.has_chunk(file_id, index):
                self._save({index: held})
            return held, "ram"
        return disk_chunk(self._disk, self._manifest, index), "disk"

    def _read_ahead_result(self, index: int) -> bytes | None:
        with self._lock:
            pending = self._ahead.pop(index, None)
        if pending is None:
            return None
        try:
            return pending.result()[index]
        except OSError as exc:
            if asked_wait_s(exc) is not None:  # a busy server's answer holds for this read too: no refetch now
                raise
            log.warning("read-ahead of chunk %d of file %d failed (%s); fetching it now",
                        index, self._manifest.file_id, exc)
            return None

    def _run_end(self, index: int) -> int:
        """End of the run of missing chunks from ``index`` on, so one request fetches them all."""
        stop = index + 1
        while stop < min(index + self._ahead_chunks, self._manifest.chunk_count) and not self._is_local(stop):
            stop += 1
        return stop

    def _read_ahead(self, first: int) -> None:
        window = range(first, min(first + self._ahead_chunks, self._manifest.chunk_count))
        with self._lock:
            missing = [i for i in window if i not in self._ahead and not self._is_local(i)]
            for start, stop in contiguous_runs(missing):
                future = self._pool.submit(self._fetch, start, stop)
                for index in range(start, stop):
                    self._ahead[index] = future

    def _is_local(self, index: int) -> bool:
        file_id = self._manifest.file_id
        return self._ram.get(file_id, index) is not None or self._disk.has_chunk(file_id, index)

    def _fetch(self, start: int, stop: int) -> dict[int, bytes]:
        chunks = self._network.chunks(start, stop)
        self._tally.downloaded(sum(len(data) for data in chunks.values()))
        self._save(chunks)
        return chunks

    def _save(self, chunks: dict[int, bytes]) -> None:
        for index, data in chunks.items():
            self._disk.put_chunk_behind(self._manifest, index, data)
