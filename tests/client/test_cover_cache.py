"""Real album covers in the app: fetched off the UI thread from the live server, shown in grids, pages and the bar."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from client import catalog
from client.api import ApiClient
from client.session import open_session
from client.settings import Settings
from client.startup import Connection
from client.views.window import MainWindow
from client.widgets.cover_cache import LARGEST_VIEW_PX, CoverCache
from client.widgets.covers import placeholder_cover
from client.widgets.models import AlbumListModel
from player import RenderSink
from tests.helpers.pictures import encoded, looks_like, quartered_picture

DECORATION = Qt.ItemDataRole.DecorationRole


@pytest.fixture(scope="module")
def served_covers(live_server: Any) -> dict[int, QImage]:
    """Every demo album's cover as the server serves it, decoded by Qt, by album id."""
    api = ApiClient(live_server.url)
    try:
        api.login("demo", "demo")
        ids = [int(album["id"]) for album in api.albums()]
    finally:
        api.close()
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        return {album_id: QImage.fromData(http.get(f"/albums/{album_id}/cover").content) for album_id in ids}


@pytest.fixture
def api(live_server: Any, demo_login: tuple[str, str]) -> Iterator[ApiClient]:
    client = ApiClient(live_server.url)
    client.login(*demo_login)
    yield client
    client.close()


def test_the_album_grid_decoration_becomes_the_served_cover_after_cover_ready(
        qtbot: Any, api: ApiClient, served_covers: dict[int, QImage]) -> None:
    covers = CoverCache(api.cover)
    model = AlbumListModel(covers)
    model.set_albums([catalog.album(a) for a in api.albums()])
    index = model.index(1)
    album = model.albums[1]
    placeholder = placeholder_cover(album.title, album.artist, AlbumListModel.COVER_PX).toImage()
    with qtbot.waitSignal(covers.cover_ready, timeout=10_000) as ready, \
            qtbot.waitSignal(model.dataChanged, timeout=10_000) as changed:
        assert model.data(index, DECORATION).toImage() == placeholder  # at once, while the fetch runs
    assert ready.args == [album.id]
    top_left, bottom_right, roles = changed.args
    assert top_left.row() == bottom_right.row() == 1 and DECORATION in roles
    shown = model.data(index, DECORATION)
    assert shown.width() == shown.height() == AlbumListModel.COVER_PX
    assert looks_like(shown, served_covers[album.id])
    assert not looks_like(shown, placeholder)
    assert not looks_like(shown, served_covers[model.albums[0].id])


def test_a_fetch_that_fails_keeps_the_placeholder(qtbot: Any, live_server: Any) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    unreachable = ApiClient(f"http://127.0.0.1:{dead_port}", timeout_s=2)
    covers = CoverCache(unreachable.cover)
    placeholder = placeholder_cover("Lost", "Nobody", 56).toImage()
    try:
        with qtbot.waitSignal(covers.cover_unavailable, timeout=10_000) as unavailable:
            covers.pixmap(1, "Lost", "Nobody", 56)
    finally:
        unreachable.close()
    assert unavailable.args == [1]
    assert covers.pixmap(1, "Lost", "Nobody", 56).toImage() == placeholder


@pytest.mark.parametrize("image_format", ["PNG", "JPEG"])
def test_a_large_cover_is_kept_at_the_largest_view_and_drawn_from_it(qtbot: Any, image_format: str) -> None:
    picture = quartered_picture(1500, 1200)  # the crop and scale must keep its yellow quadrant in place
    served = encoded(picture, image_format)
    covers = CoverCache(lambda _album_id: served)
    with qtbot.waitSignal(covers.cover_ready, timeout=10_000):
        covers.pixmap(9, "Wide", "Painter", 56)
    kept = covers._covers[9].source  # what the cache holds in memory for it
    assert min(kept.width(), kept.height()) == LARGEST_VIEW_PX  # not 1,200 px: ~36x less memory
    drawn = covers.pixmap(9, "Wide", "Painter", LARGEST_VIEW_PX)
    assert (drawn.width(), drawn.height()) == (LARGEST_VIEW_PX, LARGEST_VIEW_PX)
    assert looks_like(drawn, picture.copy(150, 0, 1200, 1200))  # the centre square


def test_an_album_the_server_has_no_cover_for_keeps_the_placeholder(qtbot: Any, api: ApiClient) -> None:
    covers = CoverCache(api.cover)
    with qtbot.waitSignal(covers.cover_unavailable, timeout=10_000) as unavailable:
        covers.pixmap(987654, "Ghost", "Nobody", 56)
    assert unavailable.args == [987654]
    assert covers.pixmap(987654, "Ghost", "Nobody", 56).toImage() == placeholder_cover("Ghost", "Nobody", 56).toImage()


def test_the_cache_keeps_no_more_albums_than_its_capacity(
        qtbot: Any, api: ApiClient, served_covers: dict[int, QImage]) -> None:
    first, second = sorted(served_covers)[:2]
    covers = CoverCache(api.cover, capacity_albums=1)
    for album_id in (first, second):
        with qtbot.waitSignal(covers.cover_ready, timeout=10_000):
            covers.pixmap(album_id, "t", "a", 56)
    assert looks_like(covers.pixmap(second, "t", "a", 56), served_covers[second])
    with qtbot.waitSignal(covers.cover_ready, timeout=10_000) as ready:  # evicted: placeholder, fetched again
        assert covers.pixmap(first, "t", "a", 56).toImage() == placeholder_cover("t", "a", 56).toImage()
    assert ready.args == [first]


def test_the_window_shows_real_covers_in_the_grid_the_album_page_and_the_now_playing_bar(
        qtbot: Any, api: ApiClient, held_sink: RenderSink, tmp_path: Path,
        served_covers: dict[int, QImage]) -> None:
    window = MainWindow(open_session(Connection(api, None, None), Settings(), tmp_path, held_sink), Settings())
    qtbot.addWidget(window)
    grid = window.library.grid.albums
    qtbot.waitUntil(lambda: grid.rowCount() > 1, timeout=10_000)
    first, second = grid.albums[:2]

    track = catalog.album_with_tracks(api.album(second.id)).tracks[0]
    window.now_playing.show_track(track)
    bar_cover = window.now_playing.cover
    placeholder = placeholder_cover(track.album, track.artist, bar_cover.pixmap().width()).toImage()
    assert bar_cover.pixmap().toImage() == placeholder
    qtbot.waitUntil(lambda: looks_like(bar_cover.pixmap(), served_covers[second.id]), timeout=10_000)

    qtbot.waitUntil(lambda: looks_like(grid.data(grid.index(0), DECORATION), served_covers[first.id]),
                    timeout=10_000)
    window.open_album(first.id)
    page = window.library.album_page
    qtbot.waitUntil(lambda: page.album is not None and page.album.id == first.id, timeout=10_000)
    assert looks_like(page.cover.pixmap(), served_covers[first.id])
    window.close()
