"""The app's wiring: Qt application, window, settings, and the session once Startup has made one.

Settings are read at start and written when they change and at quit; the UI thread never waits on either.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import sounddevice
from PySide6.QtCore import QByteArray, QObject
from PySide6.QtWidgets import QApplication

from client.bundled import BundledServer
from client.downloads import DownloadsController, open_downloads
from client.mpris import Mpris
from client.notify import TrackNotifier
from client.playback import PlaybackController
from client.playlists import PlaylistsController, PlaylistSync
from client.queue import Repeat
from client.session_bus import SessionBus
from client.settings import Settings, SettingsStore, remember_password
from client.settings_dialog import SettingsDialog
from client.startup import Session, Startup
from client.tasks import run_task
from client.tray import TrayIcon
from client.window import MainWindow
from player import DeviceSink, RenderSink, Sink

SETTINGS_FILE = "settings.json"


def output_device_names() -> list[str]:
    return [str(d["name"]) for d in sounddevice.query_devices() if int(d["max_output_channels"]) > 0]


class App(QObject):
    """Owns the window, the settings and the session's playback controller."""

    def __init__(self, data_dir: Path, bundled: BundledServer | None, url: str | None,
                 username: str | None, password: str | None, audio_out: Path | None) -> None:
        super().__init__()
        self.store = SettingsStore(data_dir / SETTINGS_FILE)
        self.settings = self.store.load()
        self._audio_out = audio_out
        self._data_dir = data_dir
        self.downloads: DownloadsController | None = None
        self.playlists: PlaylistsController | None = None
        self.playlist_sync: PlaylistSync | None = None
        self.bus = SessionBus()
        self._bundled = bundled if (url or self.settings.server_url) is None else None
        self.window = MainWindow()
        self.playback: PlaybackController | None = None
        self.session: Session | None = None
        if self.settings.window_geometry:
            self.window.restoreGeometry(QByteArray(self.settings.window_geometry))
        self._apply_to_controls(self.settings)
        self.startup = Startup(data_dir / "cache", self._bundled, url or self.settings.server_url,
                               username or self.settings.username, password, self.settings.cache_cap_bytes)
        self.startup.progress.connect(self.window.show_message)
        self.startup.failed.connect(lambda message: self.window.show_warning(f"Cannot connect: {message}"))
        self.startup.connected.connect(self._on_startup_connected)
        self.window.settings_requested.connect(self.open_settings)
        self.window.closing.connect(self._on_window_closing)

    def start(self) -> None:
        self.window.show()
        self.startup.start()

    def stop(self) -> None:
        self.bus.close()
        if self._bundled is not None:
            self._bundled.stop()

    def _sink(self) -> Sink:
        if self._audio_out is not None:
            return RenderSink(self._audio_out)
        return DeviceSink(device=self.settings.output_device)

    def _on_startup_connected(self, session: Session) -> None:
        self.session = session
        self.playback = PlaybackController(session.api, self._sink(), session.store,
                                           quality=self.settings.streaming_quality)
        self.window.attach(session.api, self.playback)
        if session.store is not None:
            self.downloads = open_downloads(session.api, session.store, self._data_dir / "downloads.db",
                                            self._data_dir, quality=self.settings.download_quality)
            self.window.attach_downloads(self.downloads)
            downloads = self.downloads
            self.playback.local_manifest = downloads.availability.local_manifest
            self.playback.offline = lambda: not downloads.online
        self._attach_playlists(session)
        self._attach_desktop(self.playback)
        self._apply_to_controls(self.settings)
        if session.store_problem:
            self.window.show_warning(session.store_problem)
        if self.settings.last_queue:
            self.playback.restore(list(self.settings.last_queue), self.settings.last_position_s)

    def _attach_playlists(self, session: Session) -> None:
        playlists = self.playlists = PlaylistsController(session.api, self._data_dir / "playlists")
        self.playlist_sync = playlists.sync
        self.window.attach_playlists(playlists)
        if self.downloads is not None:
            self.downloads.connectivity_changed.connect(lambda online, _forced: playlists.set_online(online))
        playlists.start()

    def _attach_desktop(self, playback: PlaybackController) -> None:
        """MPRIS (media keys, desktop widgets), track notifications and the tray icon."""
        self.mpris = Mpris(self.bus, playback)
        self.notifier = TrackNotifier(self.bus, playback, enabled=self.settings.notifications)
        self.mpris.raise_requested.connect(self._raise_window)
        self.mpris.quit_requested.connect(self.window.close)
        self.window.now_playing.volume_changed.connect(lambda _volume: self.mpris.publish())
        self.tray = TrayIcon(playback, self.window)
        self.tray.quit_requested.connect(self.window.close)
        self.bus.start()

    def _raise_window(self) -> None:
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()

    def _apply_to_controls(self, settings: Settings) -> None:
        bar = self.window.now_playing
        bar.volume.setValue(round(settings.volume * 100))
        bar.shuffle.setChecked(settings.shuffle)
        bar.normalise.setChecked(settings.normalisation)
        bar.set_repeat(Repeat(settings.repeat))
        if self.playback is not None:
            self.playback.set_repeat(Repeat(settings.repeat))
            self.playback.engine.set_normalisation(settings.normalisation)
            self.playback.quality = settings.streaming_quality
            self.notifier.enabled = settings.notifications
        if self.downloads is not None:
            self.downloads.set_offline_mode(settings.offline_mode)

    def open_settings(self) -> None:
        stats = self.playback.cache_stats() if self.playback is not None else None
        stats_text = (f"{stats.cache_bytes / 1e6:.0f} MB cached, {stats.pinned_bytes / 1e6:.0f} MB downloaded"
                      if stats is not None else "No disk cache")
        dialog = SettingsDialog(self._current_settings(), output_device_names(), stats_text, self.window)
        dialog.clear_cache_requested.connect(self._on_dialog_clear_cache_requested)
        dialog.settings_applied.connect(lambda new: self._on_dialog_settings_applied(new, dialog.password()))
        dialog.open()

    def _on_dialog_clear_cache_requested(self) -> None:
        store = self.session.store if self.session is not None else None
        if store is not None:
            run_task(store.clear, lambda _: self.window.show_message("Cache cleared (downloads kept)"),
                     self.window.show_warning)

    def _on_dialog_settings_applied(self, new: Settings, password: str | None) -> None:
        restart_needed = (new.server_url, new.username, new.output_device) != (
            self.settings.server_url, self.settings.username, self.settings.output_device)
        self.settings = new
        self._apply_to_controls(new)
        store = self.session.store if self.session is not None else None
        if store is not None:
            store.set_cap_bytes(new.cache_cap_bytes)
        self._save(new)
        if password:
            run_task(lambda: remember_password(new.username, password), lambda _: None, self.window.show_warning)
        if restart_needed:
            self.window.show_message("The new server, account or output device is used from the next start")

    def _current_settings(self) -> Settings:
        bar = self.window.now_playing
        queue = self.playback.queue if self.playback is not None else None
        current = [queue.current] if queue is not None and queue.current is not None else []
        upcoming = queue.upcoming() if queue is not None else []
        return dataclasses.replace(
            self.settings, volume=bar.volume.value() / 100, shuffle=bar.shuffle.isChecked(),
            normalisation=bar.normalise.isChecked(), repeat=bar.repeat_mode.value,
            offline_mode=self.downloads.forced_offline if self.downloads is not None else self.settings.offline_mode,
            window_geometry=bytes(self.window.saveGeometry().data()),
            last_queue=tuple(int(e.track["id"]) for e in current + upcoming),
            last_position_s=self.playback.position_seconds() if self.playback is not None else 0.0)

    def _save(self, settings: Settings) -> None:
        run_task(lambda: self.store.save(settings), lambda _: None, self.window.show_warning)

    def _on_window_closing(self) -> None:
        self.store.save(self._current_settings())  # the last write at quit: nothing else waits on it
        if self.playlists is not None:
            self.playlists.close()


def run_app(data_dir: Path, bundled: BundledServer | None, url: str | None, username: str | None,
            password: str | None, audio_out: Path | None) -> int:
    qt = QApplication(sys.argv[:1])
    qt.setApplicationName("Legato")
    app = App(data_dir, bundled, url, username, password, audio_out)
    app.start()
    try:
        return qt.exec()
    finally:
        app.stop()
