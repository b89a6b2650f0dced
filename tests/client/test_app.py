"""The whole app wiring: start on a server, remember settings across a restart, say so when there is no keystore."""

from __future__ import annotations

from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from client.app import App


def started_app(qtbot, live_server, tmp_path: Path) -> App:
    app = App(tmp_path / "data", None, live_server.url, "demo", "demo", tmp_path / "heard.wav")
    qtbot.addWidget(app.window)
    app.start()
    qtbot.waitUntil(lambda: app.window.library.grid.albums.rowCount() > 0, timeout=15_000)
    return app


def test_settings_and_window_survive_a_restart(qtbot, live_server, secret_service, tmp_path: Path) -> None:
    app = started_app(qtbot, live_server, tmp_path)
    app.window.now_playing.volume.setValue(35)
    app.window.now_playing.shuffle.setChecked(True)
    app.window.now_playing.repeat.click()
    app.window.resize(900, 640)
    app.window.close()

    again = started_app(qtbot, live_server, tmp_path)
    bar = again.window.now_playing
    assert bar.volume.value() == 35
    assert bar.shuffle.isChecked()
    assert bar.repeat_mode.value == "all"
    assert (again.window.width(), again.window.height()) == (900, 640)
    assert again.playback.engine.volume == pytest.approx(0.35)
    again.window.close()


def test_without_a_keystore_the_app_plays_uncached_and_says_why(qtbot, live_server, tmp_path: Path) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        app = started_app(qtbot, live_server, tmp_path)
        qtbot.waitUntil(lambda: app.window.warning_label.isVisible(), timeout=5_000)
        assert "without a disk cache" in app.window.warning_label.text()
        assert app.session is not None and app.session.store is None
        assert not (tmp_path / "data" / "cache").exists()
        app.window.close()
    finally:
        keyring.set_keyring(previous)
