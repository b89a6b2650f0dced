"""Listening history in the whole app: an album played is recorded with its context, reaches the server, shows on
the History page, and Clear history empties it here and on the server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from client import catalog
from client.api import ApiClient
from client.bundled import BundledServer
from client.history.controller import History, HistoryController
from client.listening import PlayContext
from client.tasks import pending_tasks
from tests.helpers.listening import a_play, server_plays
from tests.helpers.own_server import own_server
from tests.helpers.running_app import started_app


@pytest.fixture
def server(demo_data: Path, tmp_path: Path) -> Iterator[BundledServer]:
    """A server of this test's own: clearing the history must not touch the session-wide one."""
    with own_server(demo_data, tmp_path / "own") as started:
        yield started


def demo_api(server: Any) -> ApiClient:
    api = ApiClient(server.url)
    api.login("demo", "demo")
    return api


def test_an_album_played_is_recorded_with_its_context_sent_shown_and_cleared_everywhere(
        qtbot, server, secret_service, tmp_path: Path) -> None:
    app = started_app(qtbot, server, tmp_path)
    window, history = app.window, app.session.history
    album_id = window.library.grid.albums.albums[0].id
    window.open_album(album_id)
    table = window.library.album_page.tracks
    qtbot.waitUntil(lambda: table.tracks.rowCount() > 1, timeout=10_000)
    album = table.visible_tracks()
    window.library.album_page.play_button.click()
    qtbot.waitUntil(lambda: len(history.store.recent(50)) == len(album), timeout=60_000)
    plays = list(reversed(history.store.recent(50)))
    assert [p.track.id for p in plays] == [t.id for t in album]
    assert all(p.completed and not p.skipped and p.context == PlayContext("album", str(album_id)) for p in plays)
    assert [p.ms_played for p in plays] == [round(t.duration_s * 1000) for t in album]

    qtbot.waitUntil(lambda: history.store.unsent_count() == 0, timeout=15_000)
    api = demo_api(server)
    try:
        on_server = {p["id"]: p for p in api.plays(limit=500)["plays"]}
        assert {p.id for p in plays} <= on_server.keys()
        assert on_server[plays[0].id]["context"] == {"kind": "album", "id": str(album_id)}

        window.go_to("History")
        page = window.history
        qtbot.waitUntil(lambda: page.model.rowCount() >= len(album), timeout=10_000)
        shown = [page.model.index(row, 1).data() for row in range(page.model.rowCount())]
        assert shown[: len(album)] == [t.title for t in reversed(album)]
        assert page.model.index(0, 4).data() == "played through"

        page.clear()
        qtbot.waitUntil(lambda: page.model.rowCount() == 0, timeout=10_000)
        assert history.wait_sent(15.0)
        assert api.plays(limit=500)["plays"] == []
    finally:
        api.close()
    window.close()


def test_the_now_playing_heart_likes_the_track_heard(qtbot, server, secret_service, tmp_path: Path) -> None:
    app = started_app(qtbot, server, tmp_path)
    window, history = app.window, app.session.history
    track = window.home.popular.tracks.tracks[0]
    with qtbot.waitSignal(app.session.playback.track_changed, timeout=15_000):
        window.home.popular.play_requested.emit([track], 0)
    heart = window.now_playing.like
    assert heart.isEnabled() and not heart.isChecked()
    qtbot.mouseClick(heart, Qt.MouseButton.LeftButton)
    assert history.is_liked(track.id) and heart.isChecked() and heart.accessibleName() == "Liked"
    assert history.wait_sent(15.0)
    api = demo_api(server)
    try:
        assert track.id in [raw["id"] for raw in api.likes()["tracks"]]
    finally:
        api.close()
    window.close()


def test_the_history_shown_never_brings_back_what_was_cleared(qtbot, server, tmp_path: Path) -> None:
    """A read while the server has not heard of the clear yet shows none of what it still holds; of two reads
    under way at once, only the one started last is shown, whichever finishes first."""
    api = demo_api(server)
    history = HistoryController(api, tmp_path / "history")
    loaded: list[History] = []
    history.history_loaded.connect(loaded.append)
    try:
        history.start()
        history.record(a_play(catalog.track(api.tracks()["tracks"][0])))
        played = history.store.recent(1)[0].id
        assert history.wait_sent(15.0) and server_plays(api, [played]) == [played]
        history.set_online(False)
        history.clear_history()
        history.load_history()
        qtbot.waitUntil(lambda: pending_tasks() == 0, timeout=10_000)
        assert [entry.plays for entry in loaded] == [()]
        assert server_plays(api, [played]) == [played]  # still there: a merge would have shown it

        history.set_online(True)
        assert history.wait_sent(15.0) and api.plays(limit=500)["plays"] == []
        loaded.clear()
        history.load_history()
        history.load_history()
        qtbot.waitUntil(lambda: pending_tasks() == 0, timeout=10_000)
        assert [(entry.plays, entry.from_server) for entry in loaded] == [((), True)]
    finally:
        history.close()
        api.close()
