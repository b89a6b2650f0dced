"""Your library in the whole app on a real server: Save and Follow fill it, hearts fill its Liked Songs, the filter
and the sort order what it lists, and a download from it starts the Downloads machinery's download."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail
from PySide6.QtCore import Qt

from client.app import App
from client.bundled import BundledServer
from client.downloads import LIKED_PIN
from client.playlists import PlaylistInfo
from client.views.shelf import arrange, playlist_rows
from client.views.your_library import YourLibraryPage
from client.widgets.models import TrackTableModel
from offline import PinKey
from server import auth
from server.catalog import Catalog
from tests.helpers.own_server import own_server
from tests.helpers.running_app import started_app

WAIT_MS = 15_000
_names = itertools.count()


@pytest.fixture(scope="module")
def server(demo_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BundledServer]:
    with own_server(demo_data, tmp_path_factory.mktemp("your-library")) as started:
        yield started


@pytest.fixture
def listener(server: BundledServer) -> tuple[str, str]:
    """A new user of the module's server, with nothing saved, followed or liked yet."""
    name = f"listener-{next(_names)}"
    catalog = Catalog.open(server.data_dir)
    try:
        auth.create_user(catalog, name, "listener-pw", "GB")
    finally:
        catalog.close()
    return name, "listener-pw"


@pytest.fixture
def app(qtbot, server: BundledServer, listener: tuple[str, str], secret_service,  # type: ignore[no-untyped-def]
        tmp_path: Path) -> Iterator[App]:
    started = started_app(qtbot, server, tmp_path, login=listener)
    qtbot.waitUntil(lambda: started.window.saved.loaded, timeout=WAIT_MS)
    yield started
    if started.window.isVisible():
        started.window.close()


def page_of(app: App) -> YourLibraryPage:
    assert app.window is not None
    return app.window.your_library


def titles(app: App, section: str) -> list[str]:
    return [row.title for row in page_of(app).shown[section]]  # type: ignore[index]


def open_album(qtbot, app: App, index: int) -> None:  # type: ignore[no-untyped-def]
    window = app.window
    album = window.library.grid.albums.albums[index]
    window.open_album(album.id)
    qtbot.waitUntil(lambda: window.library.album_page.album is not None
                    and window.library.album_page.album.id == album.id and window.save_button.isEnabled(),
                    timeout=WAIT_MS)


def test_an_album_saved_on_its_page_is_in_your_library_and_leaves_it_when_unsaved(qtbot, app: App) -> None:
    window, page = app.window, page_of(app)
    window.go_to("Library")
    assert window.library.currentWidget() is page
    page.show_section("albums")
    assert not page.lists["albums"].isVisible() and "♡ Save" in page.empty["albums"].text()
    open_album(qtbot, app, 0)
    button = window.save_button
    assert not button.isChecked() and button.text() == "Save"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    title = window.library.album_page.album.title
    qtbot.waitUntil(lambda: titles(app, "albums") == [title], timeout=WAIT_MS)
    assert button.isChecked() and button.text() == "Saved"
    qtbot.mouseClick(window.sidebar.viewport(), Qt.MouseButton.LeftButton,
                     pos=window.sidebar.visualItemRect(window.sidebar.item(window.PAGES.index("Library"))).center())
    assert window.library.currentWidget() is page and page.lists["albums"].isVisible()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: titles(app, "albums") == [], timeout=WAIT_MS)
    assert not button.isChecked() and page.empty["albums"].isVisible()


def test_an_artist_followed_on_their_page_is_in_your_library(qtbot, app: App) -> None:
    window, page = app.window, page_of(app)
    album = window.library.grid.albums.albums[1]
    window.open_artist(album.artist_id)
    qtbot.waitUntil(lambda: window.library.currentWidget() is window.library.artist_page
                    and window.follow_button.isEnabled(), timeout=WAIT_MS)
    qtbot.mouseClick(window.follow_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: titles(app, "artists") == [album.artist], timeout=WAIT_MS)
    assert window.follow_button.text() == "Following"
    assert page.tabs.tabText(2) == "Artists · 1"
    with qtbot.waitSignal(page.artist_opened) as opened:
        page.lists["artists"].itemActivated.emit(page.lists["artists"].item(0))
    assert opened.args == [album.artist_id]

    downloads = app.session.downloads
    assert downloads is not None and window.artist_download_toggle is not None
    page.show_section("artists")
    page.lists["artists"].setCurrentRow(0)
    qtbot.mouseClick(page.download_button, Qt.MouseButton.LeftButton)  # the artist's albums, as one download
    key = PinKey("artist", str(album.artist_id))
    qtbot.waitUntil(lambda: downloads.pin_status(key) is not None, timeout=WAIT_MS)
    status = downloads.pin_status(key)
    assert status is not None and status.total == album.track_count  # the demo artist's one album
    qtbot.waitUntil(lambda: page.download_button.text() == "Remove download", timeout=WAIT_MS)
    window.open_artist(album.artist_id)
    qtbot.waitUntil(lambda: window.artist_download_toggle.switch.isChecked(), timeout=WAIT_MS)  # the page's too


def test_the_filter_narrows_and_the_sort_orders_and_is_remembered(qtbot, app: App, server: BundledServer,
                                                                  listener: tuple[str, str], tmp_path: Path) -> None:
    window, page = app.window, page_of(app)
    albums = window.library.grid.albums.albums
    for index in (0, 1):
        open_album(qtbot, app, index)
        qtbot.mouseClick(window.save_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.save_button.isChecked(), timeout=WAIT_MS)
    first, second = albums[0].title, albums[1].title
    window.go_to("Library")
    window.library.setCurrentWidget(page)
    page.show_section("albums")
    assert titles(app, "albums") == [second, first]  # recently added first
    alphabetical = sorted([first, second], key=str.casefold)
    page.sort.setCurrentIndex(page.sort.findText("Alphabetical"))
    page.sort.activated.emit(page.sort.currentIndex())
    assert titles(app, "albums") == alphabetical
    qtbot.keyClicks(page.filter, albums[1].artist.split()[0].lower())  # by artist, any case
    assert titles(app, "albums") == [second]
    page.filter.clear()
    qtbot.keyClicks(page.filter, "no such album")
    assert titles(app, "albums") == [] and "matches “no such album”" in page.empty["albums"].text()
    page.filter.clear()
    assert titles(app, "albums") == alphabetical
    assert app.settings.library_sort == (("albums", "title"),)
    window.close()

    again = started_app(qtbot, server, tmp_path, login=listener)
    qtbot.waitUntil(lambda: len(titles(again, "albums")) == 2, timeout=WAIT_MS)
    assert page_of(again).sorts["albums"] == "title" and titles(again, "albums") == alphabetical
    again.window.close()


def test_liked_songs_fill_from_hearts_and_play_from_the_one_chosen(qtbot, app: App) -> None:
    window, page = app.window, page_of(app)
    open_album(qtbot, app, 0)
    table = window.library.album_page.tracks
    qtbot.waitUntil(lambda: table.tracks.rowCount() > 2, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: app.session.history.wait_sent(0.0), timeout=WAIT_MS)
    assert titles(app, "liked") == [] and "♡" in page.empty["liked"].text()
    tracks = table.visible_tracks()
    for row in (2, 0):
        index = table.model().index(row, TrackTableModel.LIKED_COLUMN)
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualRect(index).center())
    assert titles(app, "liked") == [tracks[0].title, tracks[2].title]  # newest like first
    assert page.tabs.tabText(0) == "Liked Songs · 2"
    liked = page.lists["liked"]
    with qtbot.waitSignal(window.playback.track_changed, timeout=WAIT_MS) as changed:
        liked.itemActivated.emit(liked.item(1))
    assert changed.args[0].id == tracks[2].id
    assert window.playback.context.kind == "library"


def test_a_download_from_your_library_starts_the_albums_download_and_the_liked_songs_one(qtbot, app: App) -> None:
    window, page, downloads = app.window, page_of(app), app.session.downloads
    assert downloads is not None
    open_album(qtbot, app, 1)
    album = window.library.album_page.album
    qtbot.mouseClick(window.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: titles(app, "albums") == [album.title], timeout=WAIT_MS)
    page.show_section("albums")
    assert not page.download_button.isEnabled()  # nothing chosen yet
    page.lists["albums"].setCurrentRow(0)
    qtbot.mouseClick(page.download_button, Qt.MouseButton.LeftButton)
    key = PinKey("album", str(album.id))
    qtbot.waitUntil(lambda: downloads.pin_status(key) is not None, timeout=WAIT_MS)
    assert [item.track_id for item in downloads.snapshot.items if item.track_id in {t.id for t in album.tracks}]
    qtbot.waitUntil(lambda: page.download_button.text() == "Remove download", timeout=WAIT_MS)
    assert window.download_toggle.switch.isChecked()  # the album page's toggle shows the same download

    app.session.history.set_liked(album.tracks[0], True)
    page.show_section("liked")
    qtbot.mouseClick(page.download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: downloads.pin_status(LIKED_PIN) is not None, timeout=WAIT_MS)
    app.session.history.set_liked(album.tracks[1], True)  # a pinned Liked Songs follows the hearts
    qtbot.waitUntil(lambda: {item.track_id for item in downloads.snapshot.items}
                    >= {album.tracks[0].id, album.tracks[1].id}, timeout=WAIT_MS)


def test_a_playlist_is_listed_as_yours_opens_and_downloads(qtbot, app: App) -> None:
    window, page, sync, downloads = app.window, page_of(app), app.session.playlists.sync, app.session.downloads
    assert downloads is not None
    playlist_id = sync.create("Road trip")
    sync.add(playlist_id, window.home.popular.tracks.tracks[0].id)
    qtbot.waitUntil(lambda: "Road trip" in titles(app, "playlists"), timeout=WAIT_MS)
    rows = {row.title: row for row in page.shown["playlists"]}
    assert rows["Road trip"].detail == "Yours · 1 track"
    qtbot.waitUntil(lambda: "Discover Weekly" in titles(app, "playlists"), timeout=WAIT_MS)
    assert page.shown["playlists"][titles(app, "playlists").index("Discover Weekly")].detail.startswith(
        "Shared with you by Legato")  # the server's playlist, which the user follows
    qtbot.keyClicks(page.filter, "road")
    page.show_section("playlists")
    items = page.lists["playlists"]
    items.setCurrentRow(0)
    qtbot.mouseClick(page.download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: downloads.pin_status(PinKey("playlist", playlist_id)) is not None, timeout=WAIT_MS)
    with qtbot.waitSignal(page.playlist_opened) as opened:
        items.itemActivated.emit(items.item(0))
    assert opened.args == [playlist_id]
    assert window.pages.currentWidget() is window.playlists and window.playlists.current_id == playlist_id


def test_without_a_keystore_your_library_says_why_it_cannot_download(qtbot, server: BundledServer,
                                                                      listener: tuple[str, str],
                                                                      tmp_path: Path) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        app = started_app(qtbot, server, tmp_path, login=listener)
        page = page_of(app)
        assert not page.download_button.isEnabled()
        assert "keystore" in page.download_state.text() and "Downloads page" in page.download_state.text()
        app.window.close()
    finally:
        keyring.set_keyring(previous)


def test_playlists_say_whose_they_are_and_rows_filter_by_every_word() -> None:
    infos = [PlaylistInfo("a", "Mine", "me", "owner", False, False, 3, 0),
             PlaylistInfo("b", "Ours", "kim", "collaborator", False, True, 1, 0),
             PlaylistInfo("c", "Theirs", "lee", "follower", True, False, 2, 0)]
    rows = playlist_rows(infos, "me")
    assert [row.detail for row in rows] == ["Yours · 3 tracks", "Shared with you by kim · you can edit it · 1 track",
                                            "Shared with you by lee · 2 tracks"]
    assert [row.title for row in arrange(rows, "", "recent")] == ["Theirs", "Ours", "Mine"]
    assert [row.title for row in arrange(rows, "", "artist")] == ["Ours", "Theirs", "Mine"]
    assert [row.title for row in arrange(rows, "LEE the", "title")] == ["Theirs"]
