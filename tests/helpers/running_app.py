"""The whole app started the way a user starts it, on a server of the test's choosing, rendering into a WAV file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from client.app import App


def started_app(qtbot: Any, live_server: Any, tmp_path: Path, data_dir: Path | None = None,
                login: tuple[str, str] = ("demo", "demo")) -> App:
    """The app on ``live_server`` signed in as ``login`` with its data in ``data_dir`` (``tmp_path/data``), once its
    library shows albums; stopped as the test ends, before its window closes (as the app quits)."""
    app = App(data_dir or tmp_path / "data", None, live_server.url, *login, tmp_path / "heard.wav")
    qtbot.addWidget(app.connecting)
    app.start()
    qtbot.waitUntil(lambda: app.window is not None and app.window.library.grid.albums.rowCount() > 0,
                    timeout=15_000)
    qtbot.addWidget(app.window, before_close_func=lambda _window: app.stop())
    return app
