"""The encrypted origin store: every transcoded file is kept only as AES-128-CTR ciphertext under DATA/origin.

Plaintext never touches the disk here: encryption happens in memory, and writes are atomic (temp + fsync + rename).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from durable import write_atomically

CHUNK_SIZE_BYTES = 65536
ENCRYPTION = "aes-128-ctr"
_KEY_BYTES = 16


@dataclass(frozen=True)
class EncryptedFile:
    """Ciphertext of one transcoded file with what the manifest and the licence need to describe it.

    ``nonce`` is the initial 128-bit CTR counter block: byte offset ``o`` of the file is decrypted with
    counter block ``int(nonce) + o // 16`` (mod 2**128), skipping ``o % 16`` bytes of keystream.
    """

    ciphertext: bytes
    key: bytes
    nonce: bytes
    chunk_sha256: tuple[str, ...]
    content_sha256: str


def encrypt(plaintext: bytes) -> EncryptedFile:
    """Encrypt ``plaintext`` under a fresh random key and nonce and hash every ciphertext chunk."""
    key = secrets.token_bytes(_KEY_BYTES)
    nonce = secrets.token_bytes(_KEY_BYTES)
    ciphertext = transform(plaintext, key, nonce)
    chunks = tuple(
        hashlib.sha256(ciphertext[start:start + CHUNK_SIZE_BYTES]).hexdigest()
        for start in range(0, len(ciphertext), CHUNK_SIZE_BYTES)
    )
    return EncryptedFile(ciphertext, key, nonce, chunks, hashlib.sha256(ciphertext).hexdigest())


def transform(data: bytes, key: bytes, nonce: bytes) -> bytes:
    """Apply the AES-128-CTR keystream from offset 0: encrypts plaintext and decrypts ciphertext alike."""
    encryptor = Cipher(algorithms.AES(key), modes.CTR(nonce)).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def origin_dir(data_dir: Path) -> Path:
    return data_dir / "origin"


def origin_path(data_dir: Path, file_id: int) -> Path:
    return origin_dir(data_dir) / str(file_id)


def load(data_dir: Path, file_id: int, key: bytes, nonce: bytes) -> bytes:
    """The plaintext of ``file_id``'s origin copy, decrypted in memory."""
    return transform(origin_path(data_dir, file_id).read_bytes(), key, nonce)


def store(data_dir: Path, file_id: int, ciphertext: bytes) -> Path:
    """Write ``ciphertext`` as the origin copy of ``file_id`` atomically and return its path."""
    path = origin_path(data_dir, file_id)
    write_atomically(path, ciphertext)
    return path
