"""The Playlists page driven like a user would, on real PlaylistSync cores against the real server on loopback."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QThreadPool
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from client import catalog
from client.api import ApiClient
from client.catalog import Track
from client.playlists import PlaylistsController, PlaylistsPage, PlaylistSync
from client.playlists.model import placements
from client.widgets.models import track_mime
from server.auth import create_user
from server.catalog import Catalog


@pytest.fixture(scope="module")
def catalog_tracks(live_server: Any, demo_login: tuple[str, str]) -> Iterator[tuple[ApiClient, list[Track]]]:
    """A logged-in API client (it resolves track ids for the page) and the demo catalog's tracks."""
    api = ApiClient(live_server.url)
    api.login(*demo_login)
    yield api, [catalog.track(t) for t in api.tracks()["tracks"]]
    api.close()


@pytest.fixture
def tracks(catalog_tracks: tuple[ApiClient, list[Track]]) -> list[Track]:
    return catalog_tracks[1]


@pytest.fixture
def new_user(live_server: Any) -> Callable[[], tuple[str, str]]:
    """Makes a fresh user on the live server (so no test sees another's playlists); returns (name, token)."""

    def make() -> tuple[str, str]:
        name = f"pl-{uuid.uuid4().hex[:10]}"
        catalog = Catalog.open(live_server.data_dir)
        try:
            create_user(catalog, name, "pw", "GB")
        finally:
            catalog.close()
        response = httpx.post(f"{live_server.url}/auth/login", json={"username": name, "password": "pw"})
        response.raise_for_status()
        return name, str(response.json()["token"])

    return make


@pytest.fixture
def sessions(live_server: Any) -> Iterator[Callable[[str], ApiClient]]:
    """Logs a user (made by ``new_user``) in, as the app's session does; closed after the test."""
    opened: list[ApiClient] = []

    def log_in(user: str) -> ApiClient:
        api = ApiClient(live_server.url)
        api.login(user, "pw")
        opened.append(api)
        return api

    yield log_in
    for api in opened:
        api.close()


@pytest.fixture
def open_sync(sessions: Callable[[str], ApiClient], tmp_path: Path) -> Iterator[Callable[..., PlaylistSync]]:
    opened: list[PlaylistSync] = []

    def open_core(user: str, token: str, device: str) -> PlaylistSync:
        sync = PlaylistSync(sessions(user), tmp_path / f"{user}-{device}")
        opened.append(sync)
        return sync

    yield open_core
    for sync in opened:
        sync.close()


@pytest.fixture
def open_page(qtbot: Any, sessions: Callable[[str], ApiClient], tmp_path: Path,
              catalog_tracks: tuple[ApiClient, list[Track]]) -> Iterator[Callable[[str, str], PlaylistsPage]]:
    """Opens a page on a started controller for a user, as the app does; ``page.sync``, ``page.token`` for tests."""
    api = catalog_tracks[0]
    opened: list[PlaylistsController] = []

    def open_one(user: str, token: str) -> PlaylistsPage:
        controller = PlaylistsController(sessions(user), tmp_path / f"{user}-page")
        opened.append(controller)
        shown = PlaylistsPage(controller, lambda ids: [catalog.track(api.track(track_id)) for track_id in ids])
        qtbot.addWidget(shown)
        shown.resize(1000, 600)
        shown.show()
        controller.start()
        shown.sync, shown.token = controller.sync, token
        return shown

    yield open_one
    for controller in opened:
        controller.set_online(False)
    QThreadPool.globalInstance().waitForDone()
    QApplication.processEvents()
    for controller in opened:
        controller.close(flush_s=0)


@pytest.fixture
def page(new_user: Callable[[], tuple[str, str]], open_page: Callable[[str, str], PlaylistsPage]) -> PlaylistsPage:
    """A page on a started controller for a fresh user."""
    return open_page(*new_user())


def create_through_ui(qtbot: Any, page: PlaylistsPage, name: str) -> str:
    qtbot.keyClicks(page.name_edit, name)
    qtbot.mouseClick(page.new_button, Qt.MouseButton.LeftButton)
    assert page.current_id is not None
    return page.current_id


def shown_titles(page: PlaylistsPage) -> list[str]:
    return [page.entries.index(row, 1).data() for row in range(page.entries.rowCount())]


def drop_on_table(page: PlaylistsPage, mime: QMimeData, row: int) -> None:
    """Deliver a drag's enter, move and drop to the table's viewport above ``row``, as a real drag does."""
    table = page.table
    rect = table.visualRect(page.entries.index(row, 1)) if row < page.entries.rowCount() else None
    point = QPointF(rect.center().x(), rect.top() + 1) if rect is not None else QPointF(
        20, table.visualRect(page.entries.index(page.entries.rowCount() - 1, 1)).bottom() + 10)
    actions = Qt.DropAction.MoveAction | Qt.DropAction.CopyAction
    buttons, modifiers = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    viewport = table.viewport()
    QApplication.sendEvent(viewport, QDragEnterEvent(point.toPoint(), actions, mime, buttons, modifiers))
    QApplication.sendEvent(viewport, QDragMoveEvent(point.toPoint(), actions, mime, buttons, modifiers))
    QApplication.sendEvent(viewport, QDropEvent(point, actions, mime, buttons, modifiers))


def test_new_button_creates_a_playlist_named_from_the_field(qtbot: Any, page: PlaylistsPage) -> None:
    with qtbot.waitSignal(page.playlists_changed, timeout=5_000) as offered:
        playlist_id = create_through_ui(qtbot, page, "Road trip")
    assert offered.args[0] == [(playlist_id, "Road trip")]
    assert page.playlist_list.count() == 1
    assert page.playlist_list.currentItem().text() == "Road trip"
    assert page.title.text() == "Road trip"
    assert [(info.playlist_id, info.name) for info in page.sync.playlists()] == [(playlist_id, "Road trip")]


def test_added_tracks_show_title_artist_and_time_in_order(qtbot: Any, page: PlaylistsPage,
                                                         tracks: list[Track]) -> None:
    playlist_id = create_through_ui(qtbot, page, "Mix")
    page.add_tracks(playlist_id, tracks[:3])
    qtbot.waitUntil(lambda: page.entries.rowCount() == 3, timeout=5_000)
    assert shown_titles(page) == [track.title for track in tracks[:3]]
    assert page.entries.index(0, 2).data() == tracks[0].artist
    assert page.entries.index(0, 3).data().count(":") == 1
    assert [entry.track_id for entry in page.sync.state(playlist_id).entries] == [t.id for t in tracks[:3]]


def test_dragging_the_first_entry_below_the_last_reorders_the_playlist(qtbot: Any, page: PlaylistsPage,
                                                                      tracks: list[Track]) -> None:
    playlist_id = create_through_ui(qtbot, page, "Reorder me")
    page.add_tracks(playlist_id, tracks[:3])
    qtbot.waitUntil(lambda: page.entries.rowCount() == 3, timeout=5_000)
    dragged = page.entries.mimeData([page.entries.index(0, 0)])
    drop_on_table(page, dragged, 3)
    expected = [tracks[1].id, tracks[2].id, tracks[0].id]
    assert [entry.track_id for entry in page.sync.state(playlist_id).entries] == expected
    qtbot.waitUntil(lambda: shown_titles(page) == [tracks[1].title, tracks[2].title, tracks[0].title],
                    timeout=5_000)


def test_dragging_two_entries_up_keeps_their_order(qtbot: Any, page: PlaylistsPage, tracks: list[Track]) -> None:
    playlist_id = create_through_ui(qtbot, page, "Two at once")
    page.add_tracks(playlist_id, tracks[:4])
    qtbot.waitUntil(lambda: page.entries.rowCount() == 4, timeout=5_000)
    dragged = page.entries.mimeData([page.entries.index(2, 0), page.entries.index(3, 1)])
    page.entries.dropMimeData(dragged, Qt.DropAction.MoveAction, 1, 0, page.entries.index(-1, -1))
    order = [entry.track_id for entry in page.sync.state(playlist_id).entries]
    assert order == [tracks[0].id, tracks[2].id, tracks[3].id, tracks[1].id]


def test_placements_land_dragged_entries_together_at_the_drop_row() -> None:
    order = list("abcdef")
    for moved, row, expected in ((["a"], 3, "bcadef"), (["e", "b"], 0, "ebacdf"), (["c", "d"], 6, "abefcd"),
                                 (["b", "c"], 2, "abcdef")):
        current = list(order)
        for entry_id, to_index in placements(order, moved, row):
            current.insert(to_index, current.pop(current.index(entry_id)))
        assert "".join(current) == expected


def test_tracks_dropped_from_a_track_table_are_added_at_the_drop_row(qtbot: Any, page: PlaylistsPage,
                                                                    tracks: list[Track]) -> None:
    playlist_id = create_through_ui(qtbot, page, "Dropped into")
    page.add_tracks(playlist_id, tracks[:2])
    qtbot.waitUntil(lambda: page.entries.rowCount() == 2, timeout=5_000)
    drop_on_table(page, track_mime(tracks[3:5]), 1)
    expected = [tracks[0].id, tracks[3].id, tracks[4].id, tracks[1].id]
    assert [entry.track_id for entry in page.sync.state(playlist_id).entries] == expected
    qtbot.waitUntil(lambda: page.entries.rowCount() == 4, timeout=5_000)
    assert shown_titles(page)[1] == tracks[3].title


def test_delete_key_removes_the_selected_entries(qtbot: Any, page: PlaylistsPage, tracks: list[Track]) -> None:
    playlist_id = create_through_ui(qtbot, page, "Trim")
    page.add_tracks(playlist_id, tracks[:3])
    qtbot.waitUntil(lambda: page.entries.rowCount() == 3, timeout=5_000)
    page.table.selectRow(1)
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_Delete)
    assert [entry.track_id for entry in page.sync.state(playlist_id).entries] == [tracks[0].id, tracks[2].id]
    qtbot.waitUntil(lambda: page.entries.rowCount() == 2, timeout=5_000)


def test_double_click_plays_the_playlist_from_that_entry(qtbot: Any, page: PlaylistsPage,
                                                       tracks: list[Track]) -> None:
    playlist_id = create_through_ui(qtbot, page, "Play me")
    page.add_tracks(playlist_id, tracks[:3])
    qtbot.waitUntil(lambda: page.entries.rowCount() == 3, timeout=5_000)
    rect = page.table.visualRect(page.entries.index(1, 1))
    with qtbot.waitSignal(page.play_requested, timeout=5_000) as played:
        qtbot.mouseClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert [track.id for track in played.args[0]] == [track.id for track in tracks[:3]]
    assert played.args[1] == 1


def test_rename_then_delete_through_the_buttons(qtbot: Any, page: PlaylistsPage) -> None:
    playlist_id = create_through_ui(qtbot, page, "Old name")
    qtbot.waitUntil(lambda: page.sync.playlists()[0].unpushed_edits == 0, timeout=10_000)
    qtbot.keyClicks(page.name_edit, "New name")
    with qtbot.waitSignal(page.playlists_changed, timeout=5_000) as offered:
        qtbot.mouseClick(page.rename_button, Qt.MouseButton.LeftButton)
    assert offered.args[0] == [(playlist_id, "New name")]
    assert page.playlist_list.currentItem().text() == "New name"
    assert page.sync.state(playlist_id).name == "New name"
    with qtbot.waitSignal(page.playlists_changed, timeout=10_000) as offered:
        qtbot.mouseClick(page.delete_button, Qt.MouseButton.LeftButton)
    assert offered.args[0] == []
    assert page.playlist_list.count() == 0 and page.sync.playlists() == []


def test_a_collaborators_edits_appear_without_user_action(qtbot: Any, page: PlaylistsPage, tracks: list[Track],
                                                          new_user: Callable[[], tuple[str, str]],
                                                          open_sync: Callable[..., PlaylistSync]) -> None:
    playlist_id = create_through_ui(qtbot, page, "Shared")
    page.add_tracks(playlist_id, tracks[:2])
    bob_name, bob_token = new_user()
    qtbot.keyClicks(page.share_edit, bob_name)
    qtbot.mouseClick(page.share_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.share_edit.text() == "", timeout=10_000)  # cleared once the server agreed
    bob = open_sync(bob_name, bob_token, "desktop")
    bob.sync()
    first = bob.state(playlist_id).entries[0]
    bob.add(playlist_id, tracks[5].id, 0)
    bob.move(playlist_id, first.entry_id, 2)
    bob.rename(playlist_id, "Shared by two")
    bob.sync(playlist_id)
    expected = [tracks[5].title, tracks[1].title, tracks[0].title]
    qtbot.waitUntil(lambda: shown_titles(page) == expected, timeout=10_000)
    qtbot.waitUntil(lambda: page.playlist_list.currentItem().text() == "Shared by two", timeout=10_000)


def test_another_device_of_the_same_user_sees_a_new_playlist_appear(qtbot: Any, page: PlaylistsPage,
                                                                    open_sync: Callable[..., PlaylistSync],
                                                                    tracks: list[Track]) -> None:
    phone = open_sync(page.sync.user, page.token, "phone")
    playlist_id = phone.create("From the phone")
    phone.add(playlist_id, tracks[0].id)
    phone.sync(playlist_id)
    page.sync.sync()  # discovery of new playlists happens on a sync; edits to known ones arrive live
    qtbot.waitUntil(lambda: page.playlist_list.count() == 1, timeout=10_000)
    page.select(playlist_id)
    qtbot.waitUntil(lambda: shown_titles(page) == [tracks[0].title], timeout=10_000)


def test_offline_edits_apply_locally_and_sharing_says_why_it_cannot(qtbot: Any, page: PlaylistsPage,
                                                                   tracks: list[Track]) -> None:
    page.sync.set_online(False)
    playlist_id = create_through_ui(qtbot, page, "On the train")
    page.add_tracks(playlist_id, tracks[:2])
    qtbot.waitUntil(lambda: page.entries.rowCount() == 2, timeout=5_000)
    page.entries.dropMimeData(page.entries.mimeData([page.entries.index(0, 0)]), Qt.DropAction.MoveAction,
                              2, 0, page.entries.index(-1, -1))
    qtbot.waitUntil(lambda: shown_titles(page) == [tracks[1].title, tracks[0].title], timeout=5_000)
    assert "edits waiting to sync" in page.status.text()
    qtbot.keyClicks(page.share_edit, "someone")
    with qtbot.waitSignal(page.error_occurred, timeout=10_000) as error:
        qtbot.mouseClick(page.share_button, Qt.MouseButton.LeftButton)
    assert "offline" in error.args[0]


def test_a_playlist_shared_with_a_running_app_appears_there_and_goes_when_deleted(
        qtbot: Any, new_user: Callable[[], tuple[str, str]], open_page: Callable[[str, str], PlaylistsPage],
        tracks: list[Track]) -> None:
    alice, bob = open_page(*new_user()), open_page(*new_user())
    playlist_id = create_through_ui(qtbot, alice, "For bob")
    alice.add_tracks(playlist_id, tracks[:2])
    qtbot.keyClicks(alice.share_edit, bob.sync.user)
    qtbot.mouseClick(alice.share_button, Qt.MouseButton.LeftButton)
    # Bob does nothing: the share reaches his running app over its event stream.
    qtbot.waitUntil(lambda: bob.playlist_list.count() == 1 and bob.playlist_list.item(0).text() == "For bob",
                    timeout=10_000)
    bob.select(playlist_id)
    qtbot.waitUntil(lambda: shown_titles(bob) == [track.title for track in tracks[:2]], timeout=10_000)
    alice.select(playlist_id)
    qtbot.mouseClick(alice.delete_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bob.playlist_list.count() == 0, timeout=10_000)
    assert bob.sync.playlists() == []
