"""The tray icon's menu drives the real player; with no system tray (offscreen) the icon stays hidden."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtWidgets import QSystemTrayIcon, QWidget

from client.catalog import Track
from client.desktop.tray import TrayIcon
from client.playback.controller import PlaybackController
from tests.helpers.held_audio import PlayUntil

TIMEOUT_MS = 15_000


@pytest.fixture
def window(qtbot: Any) -> QWidget:
    widget = QWidget()
    qtbot.addWidget(widget)
    widget.show()
    return widget


@pytest.fixture
def tray(window: QWidget, held_playback: PlaybackController) -> Iterator[TrayIcon]:
    icon = TrayIcon(held_playback, window)
    yield icon
    icon.hide()


def play_first(qtbot: Any, playback: PlaybackController, tracks: list[Track]) -> None:
    with qtbot.waitSignal(playback.track_changed, timeout=TIMEOUT_MS):
        playback.play_context(tracks, 0)
    qtbot.waitUntil(lambda: playback.engine.state == "playing", timeout=TIMEOUT_MS)


def test_without_a_system_tray_the_icon_is_not_shown(tray: TrayIcon) -> None:
    assert not QSystemTrayIcon.isSystemTrayAvailable()
    assert not tray.isVisible()


def test_the_menu_offers_the_transport_window_and_quit_actions(tray: TrayIcon) -> None:
    names = [action.objectName() for action in tray.contextMenu().actions() if not action.isSeparator()]
    assert names == ["trayPlayPauseAction", "trayPreviousAction", "trayNextAction", "trayShowHideAction",
                     "trayQuitAction"]
    assert not tray.play_pause_action.isEnabled()  # nothing to play yet


def test_play_pause_action_pauses_and_resumes_the_player(
        qtbot: Any, tray: TrayIcon, held_playback: PlaybackController, album_tracks: list[Track]) -> None:
    play_first(qtbot, held_playback, album_tracks)
    assert tray.play_pause_action.isEnabled()
    assert tray.play_pause_action.text() == "Pause"
    tray.play_pause_action.trigger()
    qtbot.waitUntil(lambda: held_playback.engine.state == "paused", timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: tray.play_pause_action.text() == "Play", timeout=TIMEOUT_MS)
    tray.play_pause_action.trigger()
    qtbot.waitUntil(lambda: held_playback.engine.state == "playing", timeout=TIMEOUT_MS)


def test_next_and_previous_actions_move_through_the_album(
        qtbot: Any, tray: TrayIcon, held_playback: PlaybackController, play_until: PlayUntil,
        album_tracks: list[Track]) -> None:
    play_first(qtbot, held_playback, album_tracks)
    heard: list[Track] = []
    held_playback.track_changed.connect(heard.append)
    tray.next_action.trigger()
    play_until(lambda: len(heard) == 1)
    tray.previous_action.trigger()
    play_until(lambda: len(heard) == 2)
    assert [track.id for track in heard] == [album_tracks[1].id, album_tracks[0].id]


def test_the_tooltip_names_the_track_playing(
        qtbot: Any, tray: TrayIcon, held_playback: PlaybackController, album_tracks: list[Track]) -> None:
    play_first(qtbot, held_playback, album_tracks)
    first = album_tracks[0]
    assert tray.toolTip().startswith(f"{first.title} — {first.artist}")


@pytest.mark.qt_log_ignore("This plugin does not support raise")  # offscreen cannot stack windows
def test_show_hide_action_hides_the_window_and_brings_it_back(
        qtbot: Any, tray: TrayIcon, window: QWidget) -> None:
    tray.show_hide_action.trigger()
    assert not window.isVisible()
    tray.contextMenu().aboutToShow.emit()
    assert tray.show_hide_action.text() == "Show window"
    tray.show_hide_action.trigger()
    qtbot.waitUntil(window.isVisible, timeout=TIMEOUT_MS)


def test_quit_action_asks_the_app_to_quit(qtbot: Any, tray: TrayIcon) -> None:
    with qtbot.waitSignal(tray.quit_requested, timeout=TIMEOUT_MS):
        tray.quit_action.trigger()
