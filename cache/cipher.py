"""AES-128-CTR decryption at any byte offset of a file, in memory only.

The counter block for byte ``o`` is ``nonce + o // 16``; nothing here ever writes plaintext anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

_BLOCK_BYTES = 16


class LicenceError(ValueError):
    """A licence key is not usable for AES-128-CTR."""


@dataclass(frozen=True)
class FileKey:
    """The licence key of one encrypted file: AES-128 key and the initial CTR counter block."""

    key: bytes
    nonce: bytes

    def __post_init__(self) -> None:
        if len(self.key) != _BLOCK_BYTES or len(self.nonce) != _BLOCK_BYTES:
            raise LicenceError("an AES-128-CTR licence needs a 16-byte key and a 16-byte nonce")

    @classmethod
    def from_hex(cls, key_hex: str, nonce_hex: str) -> FileKey:
        try:
            return cls(bytes.fromhex(key_hex), bytes.fromhex(nonce_hex))
        except ValueError as exc:
            raise LicenceError(f"licence key is not hex: {exc}") from exc

    def __repr__(self) -> str:
        return "FileKey(<redacted>)"


def decrypt_at(file_key: FileKey, offset: int, ciphertext: bytes) -> bytes:
    """Decrypt ``ciphertext`` that starts at byte ``offset`` of the encrypted file."""
    block, skip = divmod(offset, _BLOCK_BYTES)
    counter = (int.from_bytes(file_key.nonce, "big") + block) % (1 << 128)
    decryptor = Cipher(
        algorithms.AES(file_key.key), modes.CTR(counter.to_bytes(_BLOCK_BYTES, "big"))
    ).decryptor()
    if skip:
        decryptor.update(bytes(skip))
    return decryptor.update(ciphertext) + decryptor.finalize()
