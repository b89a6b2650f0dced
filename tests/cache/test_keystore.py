"""The master key in a real OS keystore (gnome-keyring over D-Bus), file-key wrapping, and no-keystore errors."""

from __future__ import annotations

import os

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import SecretService, chainer, fail

from cache import FileKey, KeystoreUnavailable, KeyUnwrapError, MasterKey
from cache.keystore import ACCOUNT, SERVICE

FILE_KEY = FileKey(os.urandom(16), os.urandom(16))


def test_master_key_is_created_once_in_the_keystore_and_reloaded(secret_service: KeyringBackend) -> None:
    first = MasterKey.from_keystore()
    stored = secret_service.get_password(SERVICE, ACCOUNT)
    second = MasterKey.from_keystore(secret_service)
    assert stored is not None and secret_service.get_password(SERVICE, ACCOUNT) == stored
    assert second.unwrap(42, first.wrap(42, FILE_KEY)) == FILE_KEY


def test_wrapped_key_swapped_to_another_file_does_not_open(secret_service: KeyringBackend) -> None:
    master = MasterKey.from_keystore(secret_service)
    blob = master.wrap(1, FILE_KEY)
    with pytest.raises(KeyUnwrapError, match="file 2 does not open"):
        master.unwrap(2, blob)


def test_tampered_wrapped_key_does_not_open(secret_service: KeyringBackend) -> None:
    master = MasterKey.from_keystore(secret_service)
    blob = bytearray(master.wrap(1, FILE_KEY))
    blob[-1] ^= 1
    with pytest.raises(KeyUnwrapError):
        master.unwrap(1, bytes(blob))


def test_wrapped_key_does_not_contain_the_key_bytes(secret_service: KeyringBackend) -> None:
    blob = MasterKey.from_keystore(secret_service).wrap(1, FILE_KEY)
    assert FILE_KEY.key not in blob and FILE_KEY.nonce not in blob


def test_fail_backend_raises_keystore_unavailable_naming_what_to_install() -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        with pytest.raises(KeystoreUnavailable, match=r"install gnome-keyring .*D-Bus session"):
            MasterKey.from_keystore()
    finally:
        keyring.set_keyring(previous)


def test_chainer_with_no_backend_raises_keystore_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [])
    with pytest.raises(KeystoreUnavailable, match="install gnome-keyring"):
        MasterKey.from_keystore(chainer.ChainerBackend())


def test_secret_service_without_a_session_bus_raises_keystore_unavailable(
        monkeypatch: pytest.MonkeyPatch, tmp_path: os.PathLike[str]) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path}/no-bus-here")
    with pytest.raises(KeystoreUnavailable, match=r"did not answer.*install gnome-keyring"):
        MasterKey.from_keystore(SecretService.Keyring())
