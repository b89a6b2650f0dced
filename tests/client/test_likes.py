"""Likes in the whole app: a heart clicked in a track table fills Liked Songs, reaches the server, and is there again
after a restart, on this device and on a new one; unliking elsewhere reaches this device at its next start."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from client.app import App
from client.bundled import BundledServer
from client.widgets.models import HEART, NO_HEART, TrackTableModel
from client.widgets.track_table import TrackTable
from tests.helpers.own_server import USERS, own_server
from tests.helpers.running_app import started_app


@pytest.fixture
def server(demo_data: Path, tmp_path: Path) -> Iterator[BundledServer]:
    with own_server(demo_data, tmp_path / "own") as started:
        yield started


ALICE = ("alice", USERS["alice"][0])  # a user of the test's own server with no likes yet


def click_heart(qtbot, table: TrackTable, row: int) -> None:  # type: ignore[no-untyped-def]
    index = table.model().index(row, TrackTableModel.LIKED_COLUMN)
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualRect(index).center())


def heart(table: TrackTable, row: int) -> str:
    return str(table.model().index(row, TrackTableModel.LIKED_COLUMN).data())


def liked_titles(app: App) -> list[str]:
    return [track.title for track in app.window.liked.tracks.visible_tracks()]


def test_a_like_persists_across_restarts_and_devices_and_liked_songs_fills_from_hearts(
        qtbot, server, secret_service, tmp_path: Path) -> None:
    app = started_app(qtbot, server, tmp_path, tmp_path / "laptop", ALICE)
    window = app.window
    window.open_album(window.library.grid.albums.albums[0].id)
    table = window.library.album_page.tracks
    qtbot.waitUntil(lambda: table.tracks.rowCount() > 2, timeout=10_000)
    album = table.visible_tracks()
    qtbot.waitUntil(lambda: app.session.history.wait_sent(0.0), timeout=10_000)  # the server's likes are mirrored
    assert heart(table, 0) == NO_HEART and liked_titles(app) == []
    click_heart(qtbot, table, 2)
    click_heart(qtbot, table, 0)
    assert [heart(table, row) for row in range(3)] == [HEART, NO_HEART, HEART]
    assert liked_titles(app) == [album[0].title, album[2].title]  # newest like first
    assert app.session.history.wait_sent(15.0)
    window.close()

    # The same device again: the hearts are still there.
    again = started_app(qtbot, server, tmp_path, tmp_path / "laptop", ALICE)
    assert liked_titles(again) == [album[0].title, album[2].title]
    again.window.close()

    # A new device: the likes come from the server; unliking there ...
    phone = started_app(qtbot, server, tmp_path, tmp_path / "phone", ALICE)
    qtbot.waitUntil(lambda: liked_titles(phone) == [album[0].title, album[2].title], timeout=15_000)
    click_heart(qtbot, phone.window.liked.tracks, 0)
    assert liked_titles(phone) == [album[2].title]
    assert phone.session.history.wait_sent(15.0)
    phone.window.close()

    # ... reaches the first device at its next start (the server is the truth, the device's copy a mirror).
    laptop = started_app(qtbot, server, tmp_path, tmp_path / "laptop", ALICE)
    qtbot.waitUntil(lambda: liked_titles(laptop) == [album[2].title], timeout=15_000)
    laptop.window.open_album(album[0].album_id)
    album_table = laptop.window.library.album_page.tracks
    qtbot.waitUntil(lambda: album_table.tracks.rowCount() > 2, timeout=10_000)
    assert [heart(album_table, row) for row in range(3)] == [NO_HEART, NO_HEART, HEART]
    laptop.window.close()
