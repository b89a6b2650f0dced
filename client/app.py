"""The app's wiring: settings, startup, then the window and the desktop integration on a complete session.

Settings are read at start and written when they change and at quit; the UI thread never waits on either.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QObject, Signal
from PySide6.QtWidgets import QApplication

from client.bundled import BundledServer
from client.settings import LibrarySection, LibrarySort, Settings, SettingsStore, remember_password
from client.startup import Connection, Startup
from client.tasks import run_task
from client.ui_thread_gc import freeze_started_app, hold_ui_thread_gc
from client.views.connecting import ConnectingWindow
from client.widgets.theme import Theme
from player import DeviceError, DeviceSink, RenderSink, Sink, list_output_devices

if TYPE_CHECKING:
    from client.desktop import SessionBus
    from client.session import Session
    from client.views.window import MainWindow

log = logging.getLogger(__name__)

SETTINGS_FILE = "settings.json"
# The rate the output stream opens at before the first play: Opus (every quality but lossless) decodes at 48 kHz;
# lossless keeps its source's rate, most often a CD's.
_OPUS_RATE, _LOSSLESS_RATE = 48000, 44100
# What the app needs once connected, and not before: a fifth of a cold start's imports. App.start imports them while
# the connection's round trips are under way, rather than before it starts them (as this module's imports would).
_CONNECTED_MODULES = ("client.session", "client.views.window", "client.views.settings_dialog", "client.desktop")


def output_device_names() -> list[str]:
    """The names of the devices that can play now, for the Settings dialog (none when they cannot be listed)."""
    try:
        return [device.name for device in list_output_devices()]
    except DeviceError as exc:
        log.warning("%s", exc)
        return []


class App(QObject):
    """Owns the settings and the startup; once connected, the session, its window and the desktop integration.

    ``session`` and ``window`` are None until Startup has connected, then complete.

    Signals:
        window_opened(object): the MainWindow, shown on the complete session (its catalog still loading).
    """

    window_opened = Signal(object)

    def __init__(self, data_dir: Path, bundled: BundledServer | None, url: str | None,
                 username: str | None, password: str | None, audio_out: Path | None, *,
                 edge_url: str | None = None) -> None:
        super().__init__()
        self._release_gc = hold_ui_thread_gc()  # its worker threads must not free its Qt objects (see the module)
        self.store = SettingsStore(data_dir / SETTINGS_FILE)
        self.settings = self.store.load()
        self.theme = Theme(self.settings.theme, self)  # its palette before any window shows
        self._audio_out = audio_out
        self._data_dir = data_dir
        self.bus: SessionBus | None = None  # the desktop integration's, on a complete session
        self._bundled = bundled if (url or self.settings.server_url) is None else None
        self.session: Session | None = None
        self.window: MainWindow | None = None
        self.connecting = ConnectingWindow()
        self._output: Sink | None = None
        self.startup = Startup(data_dir / "cache", self._bundled, url or self.settings.server_url,
                               username or self.settings.username, password, self.settings.cache_cap_bytes,
                               edge_url=edge_url or self.settings.edge_url)
        self.startup.progress.connect(self.connecting.show_progress)
        self.startup.failed.connect(self.connecting.show_failure)
        self.startup.connected.connect(self._on_startup_connected)

    def start(self) -> None:
        self.connecting.show()
        self.startup.start()  # first: the login's and the keystore's round trips overlap the rest of the start
        self._output = self._sink()
        if isinstance(self._output, DeviceSink):
            # The device opens while the app connects, so the first play never waits for it.
            self._output.prepare(_LOSSLESS_RATE if self.settings.streaming_quality == "lossless" else _OPUS_RATE)
        for module in _CONNECTED_MODULES:  # ``connected`` is queued to this thread: it is handled after this returns
            importlib.import_module(module)

    def stop(self) -> None:
        if self.bus is not None:
            self.bus.close()
        if self._bundled is not None:
            self._bundled.stop()
        self._release_gc()

    def _sink(self) -> Sink:
        if self._audio_out is not None:
            return RenderSink(self._audio_out)
        return DeviceSink(device=self.settings.output_device)

    def _on_startup_connected(self, connection: Connection) -> None:
        from client.session import open_session
        from client.views.window import MainWindow

        sink = self._output if self._output is not None else self._sink()
        session = open_session(connection, self.settings, self._data_dir, sink)
        window = MainWindow(session, self.settings)
        self.theme.style_widgets(window.sidebar, window.now_playing, window.statusBar())  # built: see Theme
        if self.settings.window_geometry:
            window.restoreGeometry(QByteArray(self.settings.window_geometry))
        self._add_desktop(session, window)
        window.settings_requested.connect(functools.partial(self.open_settings, session, window))
        window.closing.connect(functools.partial(self._on_window_closing, session, window))
        window.now_playing.normalisation_toggled.connect(self._on_normalisation_toggled)
        window.now_playing.mute_toggled.connect(self._on_mute_toggled)
        window.welcome_dismissed.connect(functools.partial(self._on_window_welcome_dismissed, window))
        window.your_library.sort_chosen.connect(functools.partial(self._on_library_sort_chosen, window))
        self.session, self.window = session, window
        window.show()
        self.connecting.close()
        freeze_started_app()  # what the start made stays: a full collection need not scan it again and again
        self.window_opened.emit(window)
        if self.settings.last_queue:
            session.playback.restore(list(self.settings.last_queue), self.settings.last_position_s)

    def _add_desktop(self, session: Session, window: MainWindow) -> None:
        """The session bus and on it MPRIS (media keys, desktop widgets), track and release notifications; the tray
        icon."""
        from client.desktop import Mpris, ReleaseNotifier, SessionBus, TrackNotifier, TrayIcon

        self.bus = SessionBus()
        self.mpris = Mpris(self.bus, session.playback)
        self.notifier = TrackNotifier(self.bus, session.playback, enabled=self.settings.notifications)
        self.release_notifier = ReleaseNotifier(self.bus, enabled=self.settings.notifications)
        window.release_watch.released.connect(self.release_notifier.show_released)
        self.mpris.raise_requested.connect(functools.partial(self._raise_window, window))
        self.mpris.quit_requested.connect(window.close)
        window.now_playing.volume_changed.connect(lambda _volume: self.mpris.publish())
        self.tray = TrayIcon(session.playback, window)
        self.tray.quit_requested.connect(window.close)
        self.bus.start()

    @staticmethod
    def _raise_window(window: MainWindow) -> None:
        window.showNormal()
        window.raise_()
        window.activateWindow()

    def open_settings(self, session: Session, window: MainWindow) -> None:
        from client.views.settings_dialog import SettingsDialog

        stats = session.playback.cache_stats()
        stats_text = (f"{stats.cache_bytes / 1e6:.0f} MB cached, {stats.pinned_bytes / 1e6:.0f} MB downloaded"
                      if stats is not None else "No disk cache")
        dialog = SettingsDialog(self._settings_now(session, window), output_device_names(), stats_text, window)
        dialog.clear_cache_requested.connect(functools.partial(self._on_dialog_clear_cache_requested, session, window))
        dialog.settings_applied.connect(
            lambda new: self._on_dialog_settings_applied(session, window, new, dialog.password()))
        dialog.open()

    def _on_dialog_clear_cache_requested(self, session: Session, window: MainWindow) -> None:
        if session.store is not None:
            run_task(session.store.clear, lambda _: window.show_message("Cache cleared (downloads kept)"),
                     window.show_warning)

    def _on_dialog_settings_applied(self, session: Session, window: MainWindow, new: Settings,
                                    password: str | None) -> None:
        from client.session import apply_settings

        restart_needed = (new.server_url, new.username, new.output_device) != (
            self.settings.server_url, self.settings.username, self.settings.output_device)
        self.settings = new
        apply_settings(session, new)
        self.theme.choose(new.theme)
        window.now_playing.show_options(new)
        self.notifier.enabled = new.notifications
        self.release_notifier.enabled = new.notifications
        if session.store is not None:
            session.store.set_cap_bytes(new.cache_cap_bytes)
        self._save(new, window)
        if password:
            run_task(lambda: remember_password(new.username, password), lambda _: None, window.show_warning)
        if restart_needed:
            window.show_message("The new server, account or output device is used from the next start")

    def _on_window_welcome_dismissed(self, window: MainWindow) -> None:
        self.settings = dataclasses.replace(self.settings, welcomed=True)
        self._save(self.settings, window)

    def _on_library_sort_chosen(self, window: MainWindow, section: LibrarySection, sort: LibrarySort) -> None:
        sorts = dict(self.settings.library_sort) | {section: sort}
        self.settings = dataclasses.replace(self.settings, library_sort=tuple(sorted(sorts.items())))
        self._save(self.settings, window)

    def _on_normalisation_toggled(self, on: bool) -> None:
        # The engine does not report it back, so the record follows the control's change (never reads the widget).
        self.settings = dataclasses.replace(self.settings, normalisation=on)

    def _on_mute_toggled(self, muted: bool, level: float) -> None:
        # While muted the engine plays at 0: the level to come back to is the slider's, recorded here.
        self.settings = dataclasses.replace(self.settings, muted=muted, volume=level)

    def _settings_now(self, session: Session, window: MainWindow) -> Settings:
        """The settings with what the session holds now: volume, shuffle, repeat, offline mode, queue, window."""
        playback = session.playback
        queue = playback.queue
        entries = ([queue.current] if queue.current is not None else []) + queue.upcoming()
        downloads = session.downloads
        volume = self.settings.volume if self.settings.muted else playback.engine.volume
        return dataclasses.replace(
            self.settings, volume=volume, shuffle=queue.shuffle, repeat=queue.repeat.value,
            offline_mode=downloads.forced_offline if downloads is not None else self.settings.offline_mode,
            window_geometry=bytes(window.saveGeometry().data()),
            last_queue=tuple(e.track.id for e in entries),
            last_position_s=playback.position_seconds())

    def _save(self, settings: Settings, window: MainWindow) -> None:
        run_task(lambda: self.store.save(settings), lambda _: None, window.show_warning)

    def _on_window_closing(self, session: Session, window: MainWindow) -> None:
        self.store.save(self._settings_now(session, window))  # the last write at quit: nothing else waits on it


def run_app(data_dir: Path, bundled: BundledServer | None, url: str | None, username: str | None,
            password: str | None, audio_out: Path | None, *, edge_url: str | None = None) -> int:
    qt = QApplication(sys.argv[:1])
    qt.setApplicationName("Legato")
    app = App(data_dir, bundled, url, username, password, audio_out, edge_url=edge_url)
    app.start()
    try:
        return qt.exec()
    finally:
        app.stop()
