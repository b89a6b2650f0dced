"""Release day in the app, on a clock the test moves, shared by the app and a real server: "Notify me" on a
coming album's page pre-saves it; at the release instant a desktop notification says it is out, the album is in
the user's library, and its page turns playable."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from client.api import ApiClient
from client.desktop.notify import ReleaseNotifier
from client.desktop.session_bus import SessionBus
from client.session import open_session
from client.settings import Settings
from client.startup import Connection
from client.views.window import MainWindow
from player import RenderSink
from server import releases
from server.catalog import Catalog
from tests.helpers.app_server import app_server, copy_with_users
from tests.helpers.notification_server import NotificationServer

RELEASE = datetime(2026, 12, 4, 0, 0, tzinfo=UTC)
TIMEOUT_MS = 15_000


@dataclass
class MovedClock:
    """The real clock moved by ``offset``: time still passes, and the test can jump it."""

    offset: timedelta

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def set(self, now: datetime) -> None:
        self.offset = now - datetime.now(UTC)


@pytest.fixture
def clock() -> MovedClock:
    moved = MovedClock(timedelta())
    moved.set(RELEASE - timedelta(hours=2))
    return moved


@pytest.fixture
def api(demo_data: Path, tmp_path: Path, clock: MovedClock) -> Iterator[ApiClient]:
    """A logged-in client of a server (on ``clock``) whose album 1 is released at RELEASE."""
    data = copy_with_users(demo_data, tmp_path, {"alice": "alice-pw"})
    catalog = Catalog.open(data)
    try:
        releases.set_release(catalog, 1, RELEASE, jitter_ms=0)
    finally:
        catalog.close()
    with app_server(data, clock) as url:
        client = ApiClient(url)
        client.login("alice", "alice-pw")
        yield client
        client.close()


def test_notify_me_brings_a_notification_and_the_album_into_the_library_at_the_release(
        qtbot: Any, api: ApiClient, clock: MovedClock, held_sink: RenderSink, bus: SessionBus,
        notification_server: NotificationServer, tmp_path: Path) -> None:
    window = MainWindow(open_session(Connection(api, None, None), Settings(), tmp_path / "app", held_sink),
                        Settings(), clock=clock)
    qtbot.addWidget(window)
    notifier = ReleaseNotifier(bus)
    window.release_watch.released.connect(notifier.show_released)
    window.release_watch.recheck_ms = 50  # so the jump of the clock below is seen at once
    page = window.library.album_page
    window.open_album(1)
    qtbot.waitUntil(lambda: page.album is not None and page.album.id == 1, timeout=TIMEOUT_MS)
    assert page.play_button.text().startswith("Coming ") and not page.play_button.isEnabled()
    assert page.notify_button.isVisibleTo(page) and not page.notify_button.isChecked()

    qtbot.mouseClick(page.notify_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(page.notify_button.isChecked, timeout=TIMEOUT_MS)  # checked once the server has it
    assert [album["id"] for album in api.request_json("GET", "/me/presaves")["albums"]] == [1]
    assert api.library_albums() == []
    assert notification_server.calls == []

    clock.set(RELEASE - timedelta(milliseconds=300))
    qtbot.waitUntil(lambda: len(notification_server.calls) == 1, timeout=TIMEOUT_MS)
    assert clock() >= RELEASE
    app_name, _replaces, _icon, summary, body, *_ = notification_server.calls[0]
    assert (app_name, summary) == ("Legato", f"“{page.album.title}” is out")
    assert body == f"{page.album.artist} — now in your library"
    assert [album["id"] for album in api.library_albums()] == [1]
    assert page.play_button.isEnabled() and page.play_button.text() == "Available · Play"
    assert not page.notify_button.isVisibleTo(page)
    window.close()


def test_notify_me_undone_brings_nothing_at_the_release(
        qtbot: Any, api: ApiClient, clock: MovedClock, held_sink: RenderSink, bus: SessionBus,
        notification_server: NotificationServer, tmp_path: Path) -> None:
    window = MainWindow(open_session(Connection(api, None, None), Settings(), tmp_path / "app", held_sink),
                        Settings(), clock=clock)
    qtbot.addWidget(window)
    released: list[Any] = []
    window.release_watch.released.connect(released.append)
    window.release_watch.recheck_ms = 50
    page = window.library.album_page
    window.open_album(1)
    qtbot.waitUntil(lambda: page.album is not None, timeout=TIMEOUT_MS)
    qtbot.mouseClick(page.notify_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(page.notify_button.isChecked, timeout=TIMEOUT_MS)
    qtbot.mouseClick(page.notify_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.notify_button.isChecked(), timeout=TIMEOUT_MS)
    assert api.request_json("GET", "/me/presaves")["albums"] == []

    clock.set(RELEASE + timedelta(seconds=1))
    page.refresh_release()
    qtbot.waitUntil(page.play_button.isEnabled, timeout=TIMEOUT_MS)
    assert released == [] and window.release_watch.waiting == {}
    assert api.library_albums() == []
    window.close()
