"""Track radio on a real playback controller and the real server: the seed plays first, its neighbours follow, and
the queue is refilled before it runs out with tracks not played yet in this radio; "Go to track radio" in a track
table's menu starts it in the whole app."""

from __future__ import annotations

from pathlib import Path

import pytest

from client.api import ApiClient
from client.listening import PlayContext
from client.playback.controller import PlaybackController
from client.recommendations import TrackRadio, radio
from tests.helpers.running_app import started_app


def test_the_radio_plays_its_seed_then_refills_with_neighbours_never_twice(
        qtbot, live_server, demo_login, held_playback: PlaybackController, play_until, album_tracks,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(radio, "BATCH", 3)  # small batches: the refills are what this test watches
    api = ApiClient(live_server.url)
    api.login(*demo_login)
    playback = held_playback
    seed = album_tracks[0]
    station = TrackRadio(api, playback)
    station.failed.connect(pytest.fail)
    heard: list[int] = []  # the tracks the engine started, in order
    playback.track_changed.connect(lambda track: heard.append(track.id))
    with qtbot.waitSignal(playback.track_changed, timeout=15_000):
        station.start(seed)
    assert playback.context == PlayContext("radio", str(seed.id))
    assert heard == [seed.id]
    while True:
        qtbot.waitUntil(lambda: not station.fetching, timeout=15_000)  # a refill asked for has arrived
        if not playback.queue.upcoming():
            break
        started = len(heard)
        playback.next()
        play_until(lambda started=started: len(heard) > started)
    assert len(heard) == len(set(heard)), "the radio played a track twice"
    assert len(heard) > 1 + radio.BATCH, "the radio was never refilled"
    assert len(heard) <= len(api.tracks()["tracks"])
    api.close()


def test_go_to_track_radio_in_a_track_menu_plays_the_track_radio(
        qtbot, live_server, secret_service, tmp_path: Path) -> None:
    app = started_app(qtbot, live_server, tmp_path)
    window, playback = app.window, app.session.playback
    window.open_album(window.library.grid.albums.albums[0].id)
    table = window.library.album_page.tracks
    qtbot.waitUntil(lambda: table.tracks.rowCount() > 2, timeout=10_000)
    table.selectRow(1)
    seed = table.selected_tracks()[0]
    menu = table.context_menu()
    action = next(a for a in menu.actions() if a.text() == "Go to track radio")
    with qtbot.waitSignal(playback.track_changed, timeout=15_000) as started:
        action.trigger()
    assert started.args[0] == seed
    assert playback.context == PlayContext("radio", str(seed.id))
    neighbours = [entry.track for entry in playback.queue.upcoming()]
    assert neighbours and seed not in neighbours
    qtbot.waitUntil(lambda: any(p.context.kind == "radio" for p in app.session.history.store.recent(5)),
                    timeout=30_000)
    window.close()
