"""Player Sources over an encrypted file: verified ciphertext chunks in, plaintext out, in memory only.

Where the chunks come from (network, disk, RAM) is a ChunkSupply handed in; nothing here writes plaintext.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from typing import Protocol

from cache.cipher import FileKey, decrypt_at
from cache.manifest import FileManifest
from player import SourceError, SourceUnavailable

log = logging.getLogger(__name__)

_KEPT_CHUNKS = 4
_FETCH_ATTEMPTS = 2


class ChunkFetcher(Protocol):
    """Fetches ciphertext bytes [start, end) of a file; raises OSError when it cannot."""

    def fetch(self, manifest: FileManifest, start: int, end: int) -> bytes: ...


class ChunkSupply(Protocol):
    """Hands out chunk ``index`` of one file as ciphertext that already passed its SHA-256 check."""

    def chunk(self, index: int) -> bytes: ...


class ChunkIntegrityError(SourceUnavailable):
    """A ciphertext chunk kept failing its SHA-256 check (fetching it again later may still succeed)."""


def chunk_intact(manifest: FileManifest, index: int, data: bytes) -> bool:
    """Whether ``data`` is exactly chunk ``index`` as the manifest describes it."""
    start, end = manifest.chunk_span(index)
    return len(data) == end - start and hashlib.sha256(data).hexdigest() == manifest.chunk_sha256[index]


class NetworkChunks:
    """Chunks straight from a ChunkFetcher, several per request; a bad chunk is fetched once more."""

    def __init__(self, manifest: FileManifest, fetcher: ChunkFetcher) -> None:
        self._manifest = manifest
        self._fetcher = fetcher
        self.refetched = 0

    def chunk(self, index: int) -> bytes:
        return self.chunks(index, index + 1)[index]

    def chunks(self, first: int, stop: int) -> dict[int, bytes]:
        """Verified chunks ``first`` .. ``stop - 1``, fetched with one request (plus one per bad chunk)."""
        manifest = self._manifest
        start = manifest.chunk_span(first)[0]
        data = self._fetcher.fetch(manifest, start, manifest.chunk_span(stop - 1)[1])
        verified = {}
        for index in range(first, stop):
            chunk_start, chunk_end = manifest.chunk_span(index)
            piece = data[chunk_start - start : chunk_end - start]
            verified[index] = piece if chunk_intact(manifest, index, piece) else self._refetch(index, 1)
        return verified

    def _refetch(self, index: int, failed: int) -> bytes:
        manifest = self._manifest
        self.refetched += 1
        log.warning("chunk %d of file %d failed its check (attempt %d); fetching it again",
                    index, manifest.file_id, failed)
        if failed >= _FETCH_ATTEMPTS:
            raise ChunkIntegrityError(
                f"chunk {index} of file {manifest.file_id} is corrupt after "
                f"{_FETCH_ATTEMPTS} attempts; the server or the network is returning bad data"
            )
        data = self._fetcher.fetch(manifest, *manifest.chunk_span(index))
        return data if chunk_intact(manifest, index, data) else self._refetch(index, failed + 1)


class PlaintextSource:
    """Random-access plaintext of one encrypted file, decrypted from verified chunks as they are read."""

    def __init__(self, manifest: FileManifest, file_key: FileKey, chunks: ChunkSupply) -> None:
        self._manifest = manifest
        self._key = file_key
        self._chunks = chunks
        self._plain: OrderedDict[int, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def size(self) -> int | None:
        return self._manifest.size_bytes

    def read_at(self, offset: int, size: int) -> bytes:
        """Raises SourceUnavailable when a chunk cannot be had now (network, corrupt in transit, disk),
        SourceError for anything else: never another exception type (the Source protocol)."""
        try:
            return self._read(offset, size)
        except SourceError:
            raise
        except OSError as exc:
            raise SourceUnavailable(f"{self!r}: cannot get byte {offset} now: {exc}", asked_wait_s(exc)) from exc
        except Exception as exc:  # the chunk supply is handed in from above and may fail in any way
            raise SourceError(f"{self!r}: cannot read byte {offset}: {type(exc).__name__}: {exc}") from exc

    def _read(self, offset: int, size: int) -> bytes:
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
        start = self._manifest.chunk_span(index)[0]
        plain = decrypt_at(self._key, start, self._chunks.chunk(index))
        with self._lock:
            self._plain[index] = plain
            while len(self._plain) > _KEPT_CHUNKS:
                self._plain.popitem(last=False)
        return plain

    def __repr__(self) -> str:
        return f"{type(self).__name__}(file {self._manifest.file_id})"


class DecryptingSource(PlaintextSource):
    """A PlaintextSource fed by the network alone (no cache tiers)."""

    def __init__(self, manifest: FileManifest, file_key: FileKey, fetcher: ChunkFetcher) -> None:
        self._network = NetworkChunks(manifest, fetcher)
        super().__init__(manifest, file_key, self._network)

    @property
    def chunks_refetched(self) -> int:
        return self._network.refetched


def asked_wait_s(error: BaseException) -> float | None:
    """The Retry-After a busy server's error carries (``retry_after_s``, as offline.ServerBusy has), if any."""
    asked = getattr(error, "retry_after_s", None)
    return float(asked) if isinstance(asked, int | float) and asked > 0 else None
