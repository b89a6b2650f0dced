"""The settings file: round trip, defaults for what is missing or unusable, atomic saves, and no password in it."""

from __future__ import annotations

import base64
import json
import logging
import os
from pathlib import Path

import keyring
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from keyring.backend import KeyringBackend
from keyring.backends import fail, null

from client.settings import (
    PASSWORD_SERVICE,
    InvalidSetting,
    PasswordStoreUnavailable,
    Settings,
    SettingsSaveError,
    SettingsStore,
    check_server_url,
    recall_password,
    remember_password,
)

EDITED = Settings(
    server_url="https://music.example.org:8443/legato",
    edge_url="http://edge1.example.org:8801",
    username="ann",
    streaming_quality="lossless",
    download_quality="low",
    cache_cap_bytes=512 * 1024**2,
    normalisation=False,
    gain_mode="album",
    crossfade_s=6.0,
    output_device="USB DAC: Analog (hw:1,0)",
    offline_mode=True,
    notifications=False,
    theme="light",
    welcomed=True,
    library_sort=(("albums", "title"), ("playlists", "artist")),
    volume=0.25,
    muted=True,
    shuffle=True,
    repeat="one",
    window_geometry=bytes(range(256)),
    last_queue=(7, 3, 7, 12),
    last_position_s=93.5,
)


@pytest.fixture
def store(tmp_path: Path) -> SettingsStore:
    return SettingsStore(tmp_path / "settings.json")


def test_missing_file_loads_the_defaults(store: SettingsStore) -> None:
    loaded = store.load()
    assert loaded == Settings()
    assert loaded.server_url is None and loaded.username == "demo" and loaded.cache_cap_bytes == 2 * 1024**3
    assert not store.path.exists()


def test_every_field_survives_a_save_and_load(store: SettingsStore) -> None:
    store.save(EDITED)
    assert SettingsStore(store.path).load() == EDITED


def test_edited_record_differs_from_the_defaults_in_every_field() -> None:
    # Guards the round-trip test: a field left at its default there would not prove it is saved.
    defaults = Settings()
    assert [name for name in EDITED.__dataclass_fields__ if getattr(EDITED, name) == getattr(defaults, name)] == []


def test_file_is_readable_json_with_the_geometry_in_base64(store: SettingsStore) -> None:
    store.save(EDITED)
    text = store.path.read_text(encoding="utf-8")
    assert '\n  "streaming_quality": "lossless",\n' in text
    on_disk = json.loads(text)
    assert base64.b64decode(on_disk["window_geometry"], validate=True) == bytes(range(256))
    assert on_disk["last_queue"] == [7, 3, 7, 12]


def test_corrupt_file_loads_the_defaults_and_warns_naming_the_file(
        store: SettingsStore, caplog: pytest.LogCaptureFixture) -> None:
    store.path.write_text('{"username": "ann", "volume": 0.', encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="client.settings"):
        assert store.load() == Settings()
    assert str(store.path) in caplog.text and "not valid JSON" in caplog.text


def test_file_that_is_not_an_object_loads_the_defaults(store: SettingsStore, caplog: pytest.LogCaptureFixture) -> None:
    store.path.write_text('["ann"]', encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="client.settings"):
        assert store.load() == Settings()
    assert str(store.path) in caplog.text


def test_file_that_is_not_utf8_loads_the_defaults(store: SettingsStore, caplog: pytest.LogCaptureFixture) -> None:
    store.path.write_bytes(b'{"username": "\xff"}')
    with caplog.at_level(logging.WARNING, logger="client.settings"):
        assert store.load() == Settings()
    assert str(store.path) in caplog.text


def test_unusable_and_unknown_fields_fall_back_alone_with_a_warning(
        store: SettingsStore, caplog: pytest.LogCaptureFixture) -> None:
    store.path.write_text(json.dumps({
        "username": "ann", "volume": 7, "streaming_quality": "ultra", "server_url": "ftp://music.example.org",
        "cache_cap_bytes": 5, "last_queue": [1, "two"], "window_geometry": "not base64!", "repeat": "all",
        "shuffle": "yes", "theme": "purple", "accent": "green", "gain_mode": "loudest", "crossfade_s": 30,
        "library_sort": {"albums": "loudest"},
    }), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="client.settings"):
        loaded = store.load()
    assert loaded == Settings(username="ann", repeat="all")
    assert str(store.path) in caplog.text
    for name in ("volume", "streaming_quality", "server_url", "cache_cap_bytes", "last_queue", "window_geometry",
                 "shuffle", "theme", "accent", "gain_mode", "crossfade_s", "library_sort"):
        assert name in caplog.text
    assert "username" not in caplog.text and "repeat" not in caplog.text


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=12)
       | st.dictionaries(st.sampled_from(sorted(Settings.__dataclass_fields__)),
                         st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
                         | st.lists(st.integers(), max_size=4)))
@hypothesis_settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
def test_any_json_loads_as_valid_settings_without_raising(tmp_path: Path, document: object) -> None:
    store = SettingsStore(tmp_path / "fuzzed.json")
    store.path.write_text(json.dumps(document), encoding="utf-8")
    loaded = store.load()
    store.save(loaded)
    assert SettingsStore(store.path).load() == loaded
    assert 0.0 <= loaded.volume <= 1.0 and loaded.last_position_s >= 0.0
    assert loaded.streaming_quality in ("low", "normal", "high", "lossless")


def test_saving_replaces_the_previous_settings(store: SettingsStore) -> None:
    store.save(EDITED)
    store.save(Settings(username="bob"))
    assert store.load() == Settings(username="bob")


def test_leftover_temp_file_from_a_crashed_save_does_not_affect_load(store: SettingsStore) -> None:
    store.save(EDITED)
    # What a save killed mid-write leaves: a half-written temp file next to the intact settings.
    temp = store.path.with_name(store.path.name + ".tmp")
    temp.write_text('{"username": "mallory", "volu', encoding="utf-8")
    assert store.load() == EDITED
    store.save(Settings(username="bob"))
    assert store.load() == Settings(username="bob")
    assert not temp.exists()


def test_failed_save_keeps_the_previous_file_whole_and_says_why(
        store: SettingsStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store.save(EDITED)

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(SettingsSaveError, match=r"No space left on device.*previous settings are kept"):
        store.save(Settings(username="bob"))
    monkeypatch.undo()
    assert store.load() == EDITED
    assert sorted(path.name for path in store.path.parent.iterdir()) == ["settings.json"]


def test_save_creates_the_missing_folder(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path / "new" / "settings.json")
    store.save(EDITED)
    assert store.load() == EDITED


@pytest.mark.parametrize(("text", "expected"), [
    ("https://music.example.org/", "https://music.example.org"),
    ("  http://127.0.0.1:8000 ", "http://127.0.0.1:8000"),
    ("http://[::1]:8000/legato", "http://[::1]:8000/legato"),
])
def test_server_url_accepts_http_and_https_addresses(text: str, expected: str) -> None:
    assert check_server_url(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("", "Enter the server's address"),
    ("music.example.org", "must start with http:// or https://"),
    ("ftp://music.example.org", "must start with http:// or https://"),
    ("https://", "names no server"),
    ("http://music.example.org:99999", "Not a valid server address"),
    ("http://music example.org", "must not contain spaces"),
    ("https://music.example.org/?a=1", "Not a server address"),
])
def test_server_url_rejects_what_is_not_an_http_address_saying_why(text: str, message: str) -> None:
    with pytest.raises(InvalidSetting, match=message):
        check_server_url(text)


def test_password_goes_to_the_keystore_and_never_into_the_file(
        secret_service: KeyringBackend, store: SettingsStore) -> None:
    remember_password("ann", "correct horse battery staple")
    store.save(EDITED)
    assert secret_service.get_password(PASSWORD_SERVICE, "ann") == "correct horse battery staple"
    assert recall_password("ann") == "correct horse battery staple"
    assert b"correct horse" not in store.path.read_bytes()


def test_recall_without_a_remembered_password_gives_none(secret_service: KeyringBackend) -> None:
    assert recall_password("nobody-remembered") is None


def test_no_keystore_is_a_clear_error_for_both_remember_and_recall() -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        with pytest.raises(PasswordStoreUnavailable, match=r"could not remember the password for “ann”.*gnome"):
            remember_password("ann", "secret")
        with pytest.raises(PasswordStoreUnavailable, match=r"could not read .*“ann”.*gnome-keyring"):
            recall_password("ann")
    finally:
        keyring.set_keyring(previous)


def test_a_keystore_that_drops_the_password_is_a_clear_error() -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(null.Keyring())
    try:
        with pytest.raises(PasswordStoreUnavailable, match="did not keep it"):
            remember_password("ann", "secret")
    finally:
        keyring.set_keyring(previous)
