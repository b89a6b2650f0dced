"""The app's wiring: the Qt application, the window, and the session with the server started off the UI thread."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication

from client.api import ApiClient
from client.bundled import BundledServer
from client.playback import PlaybackController
from client.tasks import run_task
from client.window import MainWindow
from player import DeviceSink, RenderSink, Sink


class Startup(QObject):
    """Connects to the server (building and starting the bundled one if asked) and logs in.

    Signals:
        progress(str): a line to show while starting.
        connected(object): the logged-in ApiClient.
        failed(str): why the app cannot reach its server.
    """

    progress = Signal(str)
    connected = Signal(object)
    failed = Signal(str)

    def __init__(self, bundled: BundledServer | None, url: str | None,
                 credentials: tuple[str, str]) -> None:
        super().__init__()
        self._bundled = bundled
        self._url = url
        self._credentials = credentials

    def start(self) -> None:
        run_task(self._connect, self.connected.emit, self.failed.emit)

    def _connect(self) -> ApiClient:
        url = self._url
        if self._bundled is not None:
            if not self._bundled.has_catalog:
                self.progress.emit("Creating the demo catalog (first run only)…")
                self._bundled.prepare_demo(self.progress.emit)
            self.progress.emit("Starting the bundled server…")
            url = self._bundled.start()
        assert url is not None
        api = ApiClient(url)
        api.login(*self._credentials)
        return api


def make_sink(audio_out: Path | None) -> Sink:
    return RenderSink(audio_out) if audio_out is not None else DeviceSink()


def run_app(bundled: BundledServer | None, url: str | None, credentials: tuple[str, str],
            audio_out: Path | None) -> int:
    app = QApplication(sys.argv[:1])
    app.setApplicationName("Legato")
    window = MainWindow()
    startup = Startup(bundled, url, credentials)
    startup.progress.connect(window.show_message)
    startup.failed.connect(lambda message: window.show_message(f"Cannot connect: {message}"))

    def on_connected(api: ApiClient) -> None:
        try:
            window.attach(api, PlaybackController(api, make_sink(audio_out)))
        except OSError as exc:
            window.show_message(f"No audio output: {exc}")

    startup.connected.connect(on_connected)
    window.show()
    startup.start()
    try:
        return app.exec()
    finally:
        if bundled is not None:
            bundled.stop()
