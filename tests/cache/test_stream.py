"""The decrypting source: byte-exact random access, chunk verification, refetch of a bad chunk."""

from __future__ import annotations

import hashlib
import os

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from cache import (
    ChunkIntegrityError,
    DecryptingSource,
    FileKey,
    FileManifest,
    ManifestError,
)

CHUNK = 4096


def encrypt(plain: bytes, key: FileKey) -> bytes:
    encryptor = Cipher(algorithms.AES(key.key), modes.CTR(key.nonce)).encryptor()
    return encryptor.update(plain) + encryptor.finalize()


def manifest_for(ciphertext: bytes, chunk_size: int = CHUNK) -> FileManifest:
    chunks = [hashlib.sha256(ciphertext[i : i + chunk_size]).hexdigest()
              for i in range(0, len(ciphertext), chunk_size)]
    return FileManifest.from_json({
        "id": 7, "quality": "high", "codec": "opus", "url": "/files/7",
        "size_bytes": len(ciphertext), "chunk_size": chunk_size, "chunks": chunks,
        "frames": 1000, "sample_rate": 48000, "encryption": "aes-128-ctr",
    })


class BytesFetcher:
    """Serves ciphertext from memory; optionally corrupts the first N fetches of one chunk."""

    def __init__(self, ciphertext: bytes, corrupt_start: int | None = None, corrupt_times: int = 0):
        self.ciphertext = ciphertext
        self.corrupt_start = corrupt_start
        self.corrupt_times = corrupt_times
        self.fetches: list[tuple[int, int]] = []

    def fetch(self, manifest: FileManifest, start: int, end: int) -> bytes:
        self.fetches.append((start, end))
        data = self.ciphertext[start:end]
        if start == self.corrupt_start and self.corrupt_times > 0:
            self.corrupt_times -= 1
            return bytes([data[0] ^ 0xFF]) + data[1:]
        return data


PLAIN = os.urandom(CHUNK * 5 + 123)
KEY = FileKey(os.urandom(16), os.urandom(16))
CIPHER = encrypt(PLAIN, KEY)


@settings(max_examples=200, deadline=None)
@given(offset=st.integers(0, len(PLAIN) + 10), size=st.integers(0, CHUNK * 3))
def test_read_at_returns_the_plaintext_of_any_byte_range(offset: int, size: int) -> None:
    source = DecryptingSource(manifest_for(CIPHER), KEY, BytesFetcher(CIPHER))
    assert source.read_at(offset, size) == PLAIN[offset : offset + size]


def test_nonce_near_counter_wraparound_still_decrypts() -> None:
    key = FileKey(os.urandom(16), b"\xff" * 15 + b"\xfe")
    ciphertext = encrypt(PLAIN, key)
    source = DecryptingSource(manifest_for(ciphertext), key, BytesFetcher(ciphertext))
    assert source.read_at(CHUNK * 2 + 5, 100) == PLAIN[CHUNK * 2 + 5 : CHUNK * 2 + 105]


def test_tampered_chunk_is_fetched_again_and_then_decrypts() -> None:
    fetcher = BytesFetcher(CIPHER, corrupt_start=CHUNK, corrupt_times=1)
    source = DecryptingSource(manifest_for(CIPHER), KEY, fetcher)
    assert source.read_at(CHUNK, 10) == PLAIN[CHUNK : CHUNK + 10]
    assert fetcher.fetches.count((CHUNK, 2 * CHUNK)) == 2
    assert source.chunks_refetched == 1


def test_chunk_that_stays_corrupt_raises_a_clear_error() -> None:
    fetcher = BytesFetcher(CIPHER, corrupt_start=0, corrupt_times=99)
    source = DecryptingSource(manifest_for(CIPHER), KEY, fetcher)
    with pytest.raises(ChunkIntegrityError, match="chunk 0 of file 7 is corrupt"):
        source.read_at(0, 1)


def test_manifest_with_wrong_chunk_count_is_refused() -> None:
    good = manifest_for(CIPHER)
    with pytest.raises(ManifestError, match="chunks for"):
        FileManifest.from_json({
            "id": 1, "quality": "high", "codec": "opus", "url": "/files/1",
            "size_bytes": good.size_bytes, "chunk_size": CHUNK,
            "chunks": list(good.chunk_sha256[:-1]), "frames": 1, "sample_rate": 48000,
        })


def test_manifest_missing_fields_is_refused() -> None:
    with pytest.raises(ManifestError, match="malformed"):
        FileManifest.from_json({"id": 1})


def test_file_key_never_shows_its_bytes_in_repr() -> None:
    assert KEY.key.hex() not in repr(KEY)
