"""The whole app wiring: start on a server, remember settings across a restart, say so when there is no keystore."""

from __future__ import annotations

import dataclasses
import socket
import subprocess
import sys
from pathlib import Path

import keyring
import numpy as np
import pytest
from keyring.backends import fail
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QComboBox, QLabel, QPushButton

from client.app import App
from client.views.settings_dialog import SettingsDialog
from client.widgets.theme import DARK, LIGHT
from player.wav import read_wav
from tests.helpers.running_app import started_app


def new_playlist(qtbot, app: App, name: str) -> str:
    """Create a playlist the way a user does: Playlists page, type a name, press New."""
    app.window.go_to("Playlists")
    page = app.window.playlists
    qtbot.keyClicks(page.name_edit, name)
    qtbot.mouseClick(page.new_button, Qt.MouseButton.LeftButton)
    assert page.current_id is not None
    return page.current_id


def test_settings_and_window_survive_a_restart(qtbot, live_server, secret_service, tmp_path: Path) -> None:
    app = started_app(qtbot, live_server, tmp_path)
    app.window.now_playing.volume.setValue(35)
    app.window.now_playing.mute.click()
    app.window.now_playing.shuffle.setChecked(True)
    app.window.now_playing.repeat.click()
    app.window.resize(900, 640)
    app.window.close()

    again = started_app(qtbot, live_server, tmp_path)
    bar = again.window.now_playing
    assert bar.volume.value() == 35  # the level, not the muted engine's 0
    assert bar.mute.isChecked() and bar.mute.accessibleName() == "Unmute"
    assert again.session.playback.engine.volume == 0.0
    assert bar.shuffle.isChecked()
    assert bar.repeat_mode.value == "all"
    assert (again.window.width(), again.window.height()) == (900, 640)
    bar.mute.click()
    assert again.session.playback.engine.volume == pytest.approx(0.35)
    again.window.close()


def window_colour() -> QColor:
    return QApplication.palette().color(QPalette.ColorRole.Window)


def test_a_theme_chosen_in_settings_applies_at_once_and_survives_a_restart(
        qtbot, live_server, secret_service, tmp_path: Path) -> None:
    app = started_app(qtbot, live_server, tmp_path)
    assert app.theme.shown == "dark" and window_colour() == QColor(DARK.window)  # the default
    app.open_settings(app.session, app.window)
    dialog = app.window.findChild(SettingsDialog)
    combo = dialog.findChild(QComboBox, "themeCombo")
    combo.setCurrentIndex(combo.findData("light"))
    qtbot.mouseClick(dialog.findChild(QPushButton, "okButton"), Qt.MouseButton.LeftButton)
    assert window_colour() == QColor(LIGHT.window) and LIGHT.accent in app.window.now_playing.styleSheet()
    app.window.close()
    app.theme.choose("dark")  # the application outlives the window: put it back, so the restart has to re-apply

    again = started_app(qtbot, live_server, tmp_path)
    assert again.settings.theme == "light" and again.theme.shown == "light"
    assert window_colour() == QColor(LIGHT.window)
    again.theme.choose("dark")
    again.window.close()


def test_the_welcome_explains_the_demo_once(qtbot, live_server, secret_service, tmp_path: Path) -> None:
    app = started_app(qtbot, live_server, tmp_path)
    banner = app.window.findChild(QLabel, "welcomeText")
    assert banner is not None and "demo" in banner.text() and banner.isVisible()
    qtbot.mouseClick(app.window.findChild(QPushButton, "welcomeDismissButton"), Qt.MouseButton.LeftButton)
    assert not banner.isVisible()
    qtbot.waitUntil(lambda: app.store.load().welcomed, timeout=5_000)
    app.window.close()

    again = started_app(qtbot, live_server, tmp_path)
    assert again.window.findChild(QLabel, "welcomeText") is None
    again.window.close()


def test_an_unreachable_server_is_named_in_the_connecting_window_and_no_session_is_made(
        qtbot, tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    app = App(tmp_path / "data", None, url, "demo", "demo", tmp_path / "heard.wav")
    qtbot.addWidget(app.connecting, before_close_func=lambda _window: app.stop())
    app.start()
    qtbot.waitUntil(lambda: app.connecting.status.text().startswith("Cannot connect:"), timeout=15_000)
    assert "cannot reach" in app.connecting.status.text() and app.connecting.isVisible()
    assert app.session is None and app.window is None


def test_without_a_keystore_the_app_plays_uncached_and_says_why(qtbot, live_server, tmp_path: Path) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        app = started_app(qtbot, live_server, tmp_path)
        qtbot.waitUntil(lambda: app.window.warning_label.isVisible(), timeout=5_000)
        assert "without a disk cache" in app.window.warning_label.text()
        assert app.session is not None and app.session.store is None
        app.window.go_to("Downloads")  # the page stays, and says why and what to do
        reason = app.window.findChild(QLabel, "downloadsUnavailableReason")
        fix = app.window.findChild(QLabel, "downloadsUnavailableFix")
        assert reason.isVisible() and "without a disk cache" in reason.text()
        assert "keystore" in fix.text() and "restart Legato" in fix.text()
        assert not (tmp_path / "data" / "cache").exists()
        app.window.close()
    finally:
        keyring.set_keyring(previous)


def test_a_playlist_is_made_filled_from_the_context_menu_and_reordered_by_drag(
        qtbot, live_server, secret_service, tmp_path: Path) -> None:
    app = started_app(qtbot, live_server, tmp_path)
    window = app.window
    page = window.playlists
    playlist_id = new_playlist(qtbot, app, "Road trip")
    table = window.library.album_page.tracks
    window.open_album(window.library.grid.albums.albums[0].id)
    qtbot.waitUntil(lambda: table.tracks.rowCount() > 2, timeout=10_000)
    qtbot.waitUntil(lambda: (playlist_id, "Road trip") in table.playlists, timeout=10_000)
    album = table.visible_tracks()
    table.selectRow(0)
    table.selectionModel().select(table.model().index(2, 0), table.selectionModel().SelectionFlag.Select
                                  | table.selectionModel().SelectionFlag.Rows)
    menu = table.context_menu()
    submenu = next(a.menu() for a in menu.actions() if a.text() == "Add to playlist")
    next(a for a in submenu.actions() if a.text() == "Road trip").trigger()
    window.go_to("Playlists")
    page.select(playlist_id)
    qtbot.waitUntil(lambda: page.entries.rowCount() == 2, timeout=10_000)
    dragged = page.entries.mimeData([page.entries.index(1, 0)])
    page.entries.dropMimeData(dragged, Qt.DropAction.MoveAction, 0, 0, page.entries.index(-1, -1))
    expected = [album[2].id, album[0].id]
    qtbot.waitUntil(lambda: [e.track_id for e in app.session.playlists.sync.state(playlist_id).entries] == expected,
                    timeout=5_000)
    window.close()


def test_offline_mode_plays_a_downloaded_album_from_disk(qtbot, live_server, secret_service, tmp_path: Path) -> None:
    app = started_app(qtbot, live_server, tmp_path)
    window = app.window
    window.open_album(window.library.grid.albums.albums[0].id)
    qtbot.waitUntil(lambda: window.library.album_page.tracks.tracks.rowCount() > 0, timeout=10_000)
    album = window.library.album_page.tracks.visible_tracks()
    qtbot.mouseClick(window.download_toggle.switch, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.download_toggle.state_label.text() == "done", timeout=60_000)
    qtbot.mouseClick(window.offline_indicator.mode_switch, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: app.session.downloads.forced_offline, timeout=5_000)
    with qtbot.waitSignal(app.session.playback.state_changed, timeout=15_000):
        window.library.album_page.play_button.click()
    qtbot.waitUntil(lambda: app.session.playback.engine.state == "stopped", timeout=60_000)
    stats = app.session.playback.cache_stats()
    assert stats.plays == len(album) and stats.plays_from_network == 0 and stats.bytes_downloaded == 0
    window.close()
    frames, rate = read_wav(tmp_path / "heard.wav")
    assert rate == 48000
    assert abs(len(frames) - sum(t.duration_s * rate for t in album)) <= len(album)
    assert np.abs(frames).max() > 0.05


def test_the_queue_and_position_come_back_after_a_restart(
        qtbot, live_server, secret_service, tmp_path: Path) -> None:
    app = started_app(qtbot, live_server, tmp_path)
    app.window.open_album(app.window.library.grid.albums.albums[0].id)
    table = app.window.library.album_page.tracks
    qtbot.waitUntil(lambda: table.tracks.rowCount() > 2, timeout=10_000)
    album = table.visible_tracks()
    app.session.playback.queue.play_context(album, 1)
    app.window.close()
    saved = app.store.load()
    app.store.save(dataclasses.replace(saved, last_position_s=2.0))  # as if quit two seconds into the track

    again = started_app(qtbot, live_server, tmp_path)
    qtbot.waitUntil(lambda: again.window.now_playing.title.text() == album[1].title, timeout=10_000)
    assert [e.track.id for e in again.window.queue_panel.model.entries] == [t.id for t in album[2:]]
    with qtbot.waitSignal(again.session.playback.track_changed, timeout=15_000) as started:
        qtbot.mouseClick(again.window.now_playing.play, Qt.MouseButton.LeftButton)
    assert started.args[0].id == album[1].id
    qtbot.waitUntil(lambda: again.session.playback.engine.state == "stopped", timeout=30_000)
    again.window.close()
    frames, rate = read_wav(tmp_path / "heard.wav")
    expected = sum(t.duration_s * rate for t in album[1:]) - 2.0 * rate
    assert abs(len(frames) - expected) <= len(album)


def test_a_downloaded_playlist_downloads_tracks_it_gains_and_releases_those_it_loses(
        qtbot, live_server, secret_service, tmp_path: Path) -> None:
    app = started_app(qtbot, live_server, tmp_path)
    window = app.window
    page = window.playlists
    playlist_id = new_playlist(qtbot, app, "For the plane")
    tracks = window.home.popular.tracks.tracks
    page.add_tracks(playlist_id, tracks[:1])
    toggle = window.playlist_download_toggle
    qtbot.waitUntil(lambda: toggle.isEnabled() and page.entries.rowCount() == 1, timeout=10_000)
    qtbot.mouseClick(toggle.switch, Qt.MouseButton.LeftButton)

    def pinned_ids() -> set[int]:
        return {item.track_id for item in app.session.downloads.snapshot.items if item.state == "done"}

    qtbot.waitUntil(lambda: pinned_ids() == {tracks[0].id}, timeout=30_000)
    page.add_tracks(playlist_id, tracks[1:2])
    qtbot.waitUntil(lambda: pinned_ids() == {tracks[0].id, tracks[1].id}, timeout=30_000)
    first_entry = app.session.playlists.sync.state(playlist_id).entries[0].entry_id
    app.session.playlists.sync.remove(playlist_id, first_entry)
    qtbot.waitUntil(lambda: pinned_ids() == {tracks[1].id}, timeout=30_000)
    window.close()


def test_the_window_and_session_modules_import_while_the_app_connects() -> None:
    """client.app leaves what only a connected app needs to App.start, which imports it after sending the login:
    a fresh interpreter importing client.app has none of it (the cold start's overlap depends on that)."""
    probe = ("import sys; import client.app as app; "
             "print(','.join(m for m in app._CONNECTED_MODULES if m in sys.modules))")
    found = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert found.stdout.strip() == ""
