"""The content store: ``open(manifest) -> Source`` through RAM -> disk -> network, prefetch planning, keys, stats.

Network and licences are protocols handed in from client/; audio is only ever decrypted in memory.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

from cache.cipher import FileKey
from cache.disk import DiskCache
from cache.keystore import KeyUnwrapError, MasterKey
from cache.manifest import FileManifest
from cache.prefetch import (
    DEFAULT_RAM_BYTES,
    PREFETCH_SECONDS,
    PREFETCH_TRACKS,
    BusyPolicy,
    Prefetcher,
    PrefetchItem,
)
from cache.stats import CacheStats, Tally
from cache.stream import (
    ChunkFetcher,
    ChunkIntegrityError,
    NetworkChunks,
    PlaintextSource,
    chunk_intact,
)
from cache.tiers import TieredChunks, contiguous_runs, disk_chunk
from player import Source

log = logging.getLogger(__name__)

READ_AHEAD_CHUNKS = 4
_READ_AHEAD_WORKERS = 2


class LicenceFetcher(Protocol):
    """Gets a file's licence key from the server; raises when the user may not have it or it is unreachable."""

    def licence(self, file_id: int) -> FileKey: ...


class ContentStore:
    """Legato's tiered content store over one cache directory. Thread-safe; close it when done."""

    def __init__(self, cache_dir: Path, fetcher: ChunkFetcher, licences: LicenceFetcher, master_key: MasterKey,
                 *, cap_bytes: int | None = None, ram_bytes: int = DEFAULT_RAM_BYTES,
                 prefetch_tracks: int = PREFETCH_TRACKS, prefetch_seconds: float = PREFETCH_SECONDS,
                 read_ahead_chunks: int = READ_AHEAD_CHUNKS, busy: BusyPolicy | None = None) -> None:
        """``busy``: how the prefetcher waits out a busy server's refusals (the app hands in offline.Backoff);
        without it a refused prefetch is given up until the queue changes."""
        self._fetcher = fetcher
        self._licences = licences
        self._master_key = master_key
        self._read_ahead_chunks = read_ahead_chunks
        self._disk = DiskCache(cache_dir, cap_bytes)
        self._tally = Tally()
        self._keys: dict[int, FileKey] = {}
        self._keys_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(_READ_AHEAD_WORKERS, thread_name_prefix="legato-read-ahead")
        self._ram = Prefetcher(self._load_opening, tracks=prefetch_tracks, seconds=prefetch_seconds,
                               max_bytes=ram_bytes, busy=busy)

    # -- playing ---------------------------------------------------------------------------------------

    def open(self, manifest: FileManifest) -> Source:
        """A Source for playing this file now (call it off the UI thread: it may fetch the licence)."""
        file_key = self.file_key(manifest)
        try:
            self._disk.touch(manifest)
        except (OSError, sqlite3.OperationalError) as exc:
            # A full cache disk must not stop the music: the file only keeps its old place in the LRU order.
            log.warning("could not mark file %d as played in the disk cache: %s", manifest.file_id, exc)
        chunks = TieredChunks(manifest, self._ram, self._disk, NetworkChunks(manifest, self._fetcher),
                              self._pool, self._tally, self._read_ahead_chunks)
        return PlaintextSource(manifest, file_key, chunks)

    def plan_prefetch(self, upcoming: Sequence[PrefetchItem]) -> None:
        """The queue changed: ``upcoming`` are the entries after the playing one, in play order."""
        self._ram.plan(upcoming)

    def wait_prefetched(self, timeout_s: float) -> bool:
        """Block until the current prefetch plan is loaded (or failed); False on timeout."""
        return self._ram.wait_idle(timeout_s)

    def file_key(self, manifest: FileManifest) -> FileKey:
        """The file's licence key: from memory, else unwrapped from disk, else fetched once and stored wrapped."""
        file_id = manifest.file_id
        with self._keys_lock:
            known = self._keys.get(file_id)
        if known is not None:
            return known
        file_key = self._stored_key(file_id)
        if file_key is None:
            file_key = self._licences.licence(file_id)
            self._disk.store_wrapped_key(manifest, self._master_key.wrap(file_id, file_key))
        with self._keys_lock:
            self._keys[file_id] = file_key
        return file_key

    def cached_manifest(self, file_id: int) -> FileManifest | None:
        """The manifest stored with a cached file, for playing it while the server is unreachable."""
        return self._disk.manifest(file_id)

    # -- the disk tier ---------------------------------------------------------------------------------

    @property
    def cap_bytes(self) -> int:
        return self._disk.cap_bytes

    def set_cap_bytes(self, cap_bytes: int) -> None:
        """Change the disk cache's size; it shrinks at once (pinned files are never evicted)."""
        self._disk.set_cap_bytes(cap_bytes)

    def pin(self, manifest: FileManifest) -> None:
        self._disk.pin(manifest)

    def unpin(self, file_id: int) -> None:
        self._disk.unpin(file_id)

    def stored_chunks(self, manifest: FileManifest) -> set[int]:
        """Indices of the file's chunks the disk tier holds (checked again when they are read)."""
        return {i for i in range(manifest.chunk_count) if self._disk.has_chunk(manifest.file_id, i)}

    def playable_offline(self, manifest: FileManifest) -> bool:
        """Whether the file plays without the network: every chunk on disk and its key stored."""
        held = self._disk.wrapped_key(manifest.file_id) is not None
        return held and len(self.stored_chunks(manifest)) == manifest.chunk_count

    def save_chunk(self, manifest: FileManifest, index: int, data: bytes, *, durable: bool = True) -> None:
        """Store a downloaded chunk in the disk tier; refuses one that does not match the manifest. Not `durable`
        (a chunk about to be played, not a download): readable at once, written behind the player."""
        if not chunk_intact(manifest, index, data):
            raise ChunkIntegrityError(f"chunk {index} of file {manifest.file_id} does not match its manifest")
        if durable:
            self._disk.put_chunk(manifest, index, data)
        else:
            self._disk.put_chunk_behind(manifest, index, data)

    def store_key(self, manifest: FileManifest, file_key: FileKey) -> None:
        """Keep a licence key got elsewhere (an offline licence), wrapped on disk like a fetched one."""
        self._disk.store_wrapped_key(manifest, self._master_key.wrap(manifest.file_id, file_key))
        with self._keys_lock:
            self._keys[manifest.file_id] = file_key

    def clear(self) -> None:
        """Forget everything not pinned: disk files, their stored keys, the RAM tier and keys in memory."""
        self._disk.clear()
        self._ram.plan([])
        with self._keys_lock:
            self._keys.clear()

    def stats(self) -> CacheStats:
        return self._tally.snapshot(self._disk.total_bytes(), self._disk.pinned_bytes(), self._disk.cap_bytes)

    def ram_bytes(self) -> int:
        return self._ram.held_bytes()

    def close(self) -> None:
        self._ram.close()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._disk.close()

    # -- internals -------------------------------------------------------------------------------------

    def _stored_key(self, file_id: int) -> FileKey | None:
        wrapped = self._disk.wrapped_key(file_id)
        if wrapped is None:
            return None
        try:
            return self._master_key.unwrap(file_id, wrapped)
        except KeyUnwrapError as exc:
            log.warning("%s; fetching the licence again", exc)
            return None

    def _load_opening(self, manifest: FileManifest, indices: Sequence[int]) -> dict[int, bytes]:
        """The prefetcher's loader: the key and these chunks, from disk where they are intact."""
        self.file_key(manifest)
        loaded: dict[int, bytes] = {}
        for index in indices:
            data = disk_chunk(self._disk, manifest, index)
            if data is not None:
                loaded[index] = data
                self._tally.read_from_disk(len(data))
        network = NetworkChunks(manifest, self._fetcher)
        for start, stop in contiguous_runs(set(indices) - set(loaded)):
            fetched = network.chunks(start, stop)
            self._tally.downloaded(sum(len(data) for data in fetched.values()))
            loaded.update(fetched)
        return loaded
