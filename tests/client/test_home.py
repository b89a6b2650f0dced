"""Home in the whole app, on a real server: rows of cards from the user's own plays, a plain word in an empty row,
"Coming …" on a scheduled new release, and a card's hover play button (or Ctrl+Enter) playing its album from the
first track."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QScrollArea

from client.bundled import BundledServer
from client.views.home_rows import CardRow
from client.views.window import MainWindow
from client.widgets.models import RECORD_ROLE
from server import releases
from server.catalog import Catalog
from tests.helpers.own_server import USERS, own_server
from tests.helpers.running_app import started_app


@pytest.fixture
def server(demo_data: Path, tmp_path: Path) -> Iterator[BundledServer]:
    """A server of this test's own: its plays and its scheduled release must not reach the session-wide one."""
    with own_server(demo_data, tmp_path / "own") as started:
        yield started


def home_window(qtbot: Any, server: Any, tmp_path: Path, login: tuple[str, str]) -> MainWindow:
    app = started_app(qtbot, server, tmp_path, login=login)
    window = app.window
    assert window is not None
    qtbot.waitUntil(lambda: window.home.rows is not None, timeout=15_000)
    return window


def shown_words(row: CardRow) -> list[str]:
    albums = row.grid.albums
    return [str(albums.index(r).data()) for r in range(albums.rowCount())]


def test_rows_fill_from_the_users_plays_and_an_empty_row_says_what_to_do(
        qtbot: Any, server: BundledServer, secret_service: Any, tmp_path: Path) -> None:
    token = httpx.post(f"{server.url}/auth/login", json={"username": "alice", "password": USERS["alice"][0]}
                       ).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    album = httpx.get(f"{server.url}/albums/1", headers=headers).json()
    now = datetime.now(UTC)
    events = [{"id": str(uuid.uuid4()), "track_id": track["id"], "started_at": (now - timedelta(hours=i)).isoformat(),
               "ms_played": 60_000, "completed": True, "skipped": False, "context": {"kind": "album", "id": "1"}}
              for i, track in enumerate(album["tracks"][:2])]
    assert httpx.post(f"{server.url}/me/plays", json={"events": events}, headers=headers).json()["accepted"] == 2
    window = home_window(qtbot, server, tmp_path / "alice", ("alice", USERS["alice"][0]))
    home = window.home
    assert [a.id for a in home.recently_played.grid.albums.albums] == [album["id"]]
    assert shown_words(home.jump_back_in) == [f"{album['title']}\n2 of {len(album['tracks'])} tracks heard"]
    assert shown_words(home.top_artists) == [f"{album['artist']}\n2 plays"]
    assert home.popular_in_region.title.text() == "Popular in your region (GB)"
    assert home.popular_in_region.grid.albums.rowCount() == 2 and home.new_releases.grid.albums.rowCount() == 2
    assert home.recently_played.grid.isVisible() and not home.recently_played.status.isVisible()
    window.close()

    fresh = home_window(qtbot, server, tmp_path / "bob", ("bob", USERS["bob"][0])).home
    assert fresh.recently_played.status.text() == "Nothing played yet: play something and it shows here."
    assert fresh.recently_played.status.isVisible() and not fresh.recently_played.grid.isVisible()
    assert fresh.jump_back_in.status.isVisible() and fresh.top_artists.status.isVisible()
    assert fresh.new_releases.grid.isVisible()  # the catalog's, for anybody

    server.stop()
    fresh.refresh()
    qtbot.waitUntil(lambda: fresh.new_releases.status.text().startswith("Cannot be shown right now"), timeout=30_000)
    assert not fresh.new_releases.grid.isVisible()


def test_a_scheduled_album_is_coming_among_new_releases_and_has_no_play_button(
        qtbot: Any, server: BundledServer, secret_service: Any, tmp_path: Path) -> None:
    coming = datetime.now(UTC) + timedelta(days=4)
    catalog = Catalog.open(server.data_dir)
    try:
        releases.set_release(catalog, 2, coming)
    finally:
        catalog.close()
    window = home_window(qtbot, server, tmp_path, ("alice", USERS["alice"][0]))
    grid = window.home.new_releases.grid
    first = grid.albums.index(0)
    assert first.data(RECORD_ROLE).id == 2
    assert str(first.data()).endswith(f"\nComing {coming.astimezone():%a %d %b %Y}")
    qtbot.mouseMove(grid.viewport(), grid.visualRect(first).center())
    assert not grid.shows_play_button(first) and not grid.playable(first)
    assert 2 not in [a.id for a in window.home.popular_in_region.grid.albums.albums]


def test_hover_play_on_a_card_plays_that_album_from_its_first_track(
        qtbot: Any, live_server: Any, secret_service: Any, tmp_path: Path) -> None:
    window = home_window(qtbot, live_server, tmp_path, ("demo", "demo"))
    grid = window.home.new_releases.grid
    QApplication.processEvents()  # the rows just filled: let Home's layout settle before pointing at a card
    window.home.findChild(QScrollArea, "homeScroll").ensureWidgetVisible(grid)
    QApplication.processEvents()
    card = grid.albums.index(1)
    album = card.data(RECORD_ROLE)
    assert not grid.shows_play_button(card)
    qtbot.mouseMove(grid.viewport(), grid.visualRect(card).center())
    qtbot.waitUntil(lambda: grid.shows_play_button(card), timeout=5_000)
    with qtbot.waitSignal(window.playback.track_changed, timeout=15_000) as changed:
        qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=grid.play_button_rect(card).center())
    first_track = window.session.api.album(album.id)["tracks"][0]
    assert changed.args[0].id == first_track["id"]
    assert window.now_playing.title.text() == first_track["title"]
    assert window.library.currentWidget() is not window.library.album_page  # it played; it did not open the album

    other = grid.albums.index(0)  # keyboard users: Ctrl+Enter plays the current card, Enter still opens it
    grid.setFocus()
    grid.setCurrentIndex(other)
    with qtbot.waitSignal(window.playback.track_changed, timeout=15_000) as changed:
        qtbot.keyClick(grid, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert changed.args[0].id == window.session.api.album(other.data(RECORD_ROLE).id)["tracks"][0]["id"]
    window.close()
