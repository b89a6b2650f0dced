"""A player Source over an encrypted file: fetch ciphertext chunks, verify each, decrypt in memory.

Where the chunks come from (network, later the disk and RAM tiers) is a ChunkFetcher handed in from above.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from typing import Protocol

from cache.cipher import FileKey, decrypt_at
from cache.manifest import FileManifest

log = logging.getLogger(__name__)

_KEPT_CHUNKS = 4
_FETCH_ATTEMPTS = 2


class ChunkFetcher(Protocol):
    """Fetches ciphertext bytes [start, end) of a file; raises OSError when it cannot."""

    def fetch(self, manifest: FileManifest, start: int, end: int) -> bytes: ...


class ChunkIntegrityError(OSError):
    """A ciphertext chunk kept failing its SHA-256 check."""


class DecryptingSource:
    """Random-access plaintext of one encrypted file, verified chunk by chunk against its manifest."""

    def __init__(self, manifest: FileManifest, file_key: FileKey, fetcher: ChunkFetcher) -> None:
        self._manifest = manifest
        self._key = file_key
        self._fetcher = fetcher
        self._plain: OrderedDict[int, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.chunks_refetched = 0

    def size(self) -> int | None:
        return self._manifest.size_bytes

    def read_at(self, offset: int, size: int) -> bytes:
        end = min(offset + size, self._manifest.size_bytes)
        if offset >= end:
            return b""
        chunk_size = self._manifest.chunk_size
        parts = []
        for index in range(offset // chunk_size, (end - 1) // chunk_size + 1):
            chunk_start = index * chunk_size
            plain = self._chunk(index)
            parts.append(plain[max(offset - chunk_start, 0) : end - chunk_start])
        return b"".join(parts)

    def _chunk(self, index: int) -> bytes:
        with self._lock:
            if index in self._plain:
                self._plain.move_to_end(index)
                return self._plain[index]
        start, end = self._manifest.chunk_span(index)
        plain = decrypt_at(self._key, start, self._verified_ciphertext(index, start, end))
        with self._lock:
            self._plain[index] = plain
            while len(self._plain) > _KEPT_CHUNKS:
                self._plain.popitem(last=False)
        return plain

    def _verified_ciphertext(self, index: int, start: int, end: int) -> bytes:
        expected = self._manifest.chunk_sha256[index]
        for attempt in range(_FETCH_ATTEMPTS):
            data = self._fetcher.fetch(self._manifest, start, end)
            if len(data) == end - start and hashlib.sha256(data).hexdigest() == expected:
                return data
            self.chunks_refetched += 1
            log.warning("chunk %d of file %d failed its check (attempt %d); fetching it again",
                        index, self._manifest.file_id, attempt + 1)
        raise ChunkIntegrityError(
            f"chunk {index} of file {self._manifest.file_id} is corrupt after "
            f"{_FETCH_ATTEMPTS} attempts; the server or the network is returning bad data"
        )
