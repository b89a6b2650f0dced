"""The system tray icon: play/pause, next, previous, show/hide the window and quit, with the track as tooltip.

Shown only where the desktop has a system tray; its menu exists either way.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import Signal, SignalInstance
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QApplication, QMenu, QStyle, QSystemTrayIcon, QWidget

from client.catalog import Track

APP_NAME = "Legato"


class TrayPlayer(Protocol):
    @property
    def track_changed(self) -> SignalInstance: ...
    @property
    def state_changed(self) -> SignalInstance: ...
    @property
    def current_track(self) -> Track | None: ...
    def toggle_pause(self) -> None: ...
    def next(self) -> None: ...
    def previous(self) -> None: ...


def _action(menu: QMenu, text: str, object_name: str) -> QAction:
    action = menu.addAction(text)
    action.setObjectName(object_name)
    action.setToolTip(text)
    return action


class TrayIcon(QSystemTrayIcon):
    """Signals: quit_requested(): the user chose Quit from the tray menu."""

    quit_requested = Signal()

    def __init__(self, player: TrayPlayer, window: QWidget, icon: QIcon | None = None) -> None:
        super().__init__(window)
        self.setObjectName("trayIcon")
        self._player = player
        self._window = window
        self.setIcon(icon if icon is not None and not icon.isNull() else self._fallback_icon())
        self.menu = QMenu()
        self.menu.setObjectName("trayMenu")
        self.play_pause_action = _action(self.menu, "Play", "trayPlayPauseAction")
        self.previous_action = _action(self.menu, "Previous", "trayPreviousAction")
        self.next_action = _action(self.menu, "Next", "trayNextAction")
        self.menu.addSeparator()
        self.show_hide_action = _action(self.menu, "Hide window", "trayShowHideAction")
        self.quit_action = _action(self.menu, "Quit", "trayQuitAction")
        self.setContextMenu(self.menu)

        self.play_pause_action.triggered.connect(player.toggle_pause)
        self.previous_action.triggered.connect(player.previous)
        self.next_action.triggered.connect(player.next)
        self.show_hide_action.triggered.connect(self.toggle_window)
        self.quit_action.triggered.connect(self.quit_requested.emit)
        self.menu.aboutToShow.connect(self._on_menu_about_to_show)
        self.activated.connect(self._on_activated)
        player.track_changed.connect(self._on_player_track_changed)
        player.state_changed.connect(self._on_player_state_changed)
        self._on_player_state_changed("stopped")
        self.setToolTip(APP_NAME)
        self.setVisible(QSystemTrayIcon.isSystemTrayAvailable())

    def toggle_window(self) -> None:
        """Hide a window in view; bring back a hidden or minimised one to the front."""
        window = self._window
        if window.isVisible() and not window.isMinimized():
            window.hide()
        else:
            window.showNormal()
            window.raise_()
            window.activateWindow()

    def _fallback_icon(self) -> QIcon:
        icon = QApplication.windowIcon()
        return icon if not icon.isNull() else self._window.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay)

    def _on_menu_about_to_show(self) -> None:
        shown = self._window.isVisible() and not self._window.isMinimized()
        self.show_hide_action.setText("Hide window" if shown else "Show window")

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.toggle_window()

    def _on_player_track_changed(self, track: Track) -> None:
        artist = f" — {track.artist}" if track.artist else ""
        self.setToolTip(f"{track.title}{artist}\n{APP_NAME}")
        self._enable_transport()

    def _on_player_state_changed(self, state: str) -> None:
        self.play_pause_action.setText("Pause" if state == "playing" else "Play")
        self._enable_transport()

    def _enable_transport(self) -> None:
        has_track = self._player.current_track is not None
        for action in (self.play_pause_action, self.previous_action, self.next_action):
            action.setEnabled(has_track)
