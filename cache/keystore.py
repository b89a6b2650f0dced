"""The cache's master key, kept in the OS keystore (keyring), and the AES-GCM wrapping of file keys under it.

Never falls back to a file, a plaintext or a hard-coded key: no usable keystore is a KeystoreUnavailable error.
"""

from __future__ import annotations

import base64
import binascii
import os

import keyring
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail

from cache.cipher import FileKey

SERVICE = "legato"
ACCOUNT = "cache-master-key"
_MASTER_KEY_BYTES = 32
_NONCE_BYTES = 12
_WRAP_VERSION = b"\x01"
_HOW_TO_FIX = (
    "Legato keeps its cache key in the OS keystore. On Linux install gnome-keyring (or KWallet) and run "
    "Legato inside a desktop session (a D-Bus session bus with an unlocked login keyring); macOS uses the "
    "Keychain and Windows the Credential Locker"
)


class KeystoreUnavailable(RuntimeError):
    """No usable OS keystore: the encrypted cache cannot be opened (and is never opened without one)."""


class KeyUnwrapError(ValueError):
    """A wrapped file key does not open under the master key for that file (tampered or swapped)."""


def _refuse_unusable(backend: KeyringBackend) -> None:
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if isinstance(backend, fail.Keyring):
        raise KeystoreUnavailable(f"no OS keystore was found ({name}). {_HOW_TO_FIX}.")
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        raise KeystoreUnavailable(f"no OS keystore was found (keyring has no backend to chain). {_HOW_TO_FIX}.")
    # keyrings.alt and the null backend store keys in files or nowhere: worse than refusing.
    if name.startswith(("keyrings.alt", "keyring.backends.null")):
        raise KeystoreUnavailable(f"the keyring backend {name} is not a secure OS keystore. {_HOW_TO_FIX}.")


class MasterKey:
    """A 256-bit AES-GCM key that wraps every cached file's licence key; its bytes never leave memory."""

    def __init__(self, key: bytes) -> None:
        if len(key) != _MASTER_KEY_BYTES:
            raise ValueError(f"a master key has {_MASTER_KEY_BYTES} bytes, not {len(key)}")
        self._aead = AESGCM(key)

    @classmethod
    def from_keystore(cls, backend: KeyringBackend | None = None) -> MasterKey:
        """Load the master key from the OS keystore, creating it there on first use."""
        backend = backend if backend is not None else keyring.get_keyring()
        _refuse_unusable(backend)
        try:
            stored = backend.get_password(SERVICE, ACCOUNT)
            if stored is None:
                backend.set_password(SERVICE, ACCOUNT, base64.b64encode(os.urandom(_MASTER_KEY_BYTES)).decode())
                # Read it back: a keystore that drops writes would otherwise make a new key every run.
                stored = backend.get_password(SERVICE, ACCOUNT)
        # Backends fail in their own ways (D-Bus errors, locked collections, OSError on the socket).
        except Exception as exc:
            raise KeystoreUnavailable(f"the OS keystore did not answer: {exc}. {_HOW_TO_FIX}.") from exc
        if stored is None:
            raise KeystoreUnavailable(f"the OS keystore did not keep the cache key. {_HOW_TO_FIX}.")
        try:
            return cls(base64.b64decode(stored, validate=True))
        except (binascii.Error, ValueError) as exc:
            raise KeystoreUnavailable(
                f"the cache key in the OS keystore ({SERVICE}/{ACCOUNT}) is damaged: {exc}; delete that entry "
                "and clear Legato's cache"
            ) from exc

    def wrap(self, file_id: int, file_key: FileKey) -> bytes:
        """Seal ``file_key`` for ``file_id`` only: the blob does not open as another file's key."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, file_key.key + file_key.nonce, _associated_data(file_id))
        return _WRAP_VERSION + nonce + sealed

    def unwrap(self, file_id: int, blob: bytes) -> FileKey:
        version, nonce, sealed = blob[:1], blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
        if version != _WRAP_VERSION:
            raise KeyUnwrapError(f"the stored key of file {file_id} has an unknown format")
        try:
            opened = self._aead.decrypt(nonce, sealed, _associated_data(file_id))
        except InvalidTag as exc:
            raise KeyUnwrapError(f"the stored key of file {file_id} does not open: tampered or not its own") from exc
        return FileKey(opened[:16], opened[16:])

    def __repr__(self) -> str:
        return "MasterKey(<redacted>)"


def _associated_data(file_id: int) -> bytes:
    return b"legato-file-key:" + str(file_id).encode()
