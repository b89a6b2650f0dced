"""The main window driven like a user would: browse, open an album, play, pause, queue, search, shortcuts."""

from __future__ import annotations

import base64
import wave
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QPushButton

from cache import ContentStore, MasterKey
from client.api import ApiClient
from client.session import open_session
from client.settings import Settings
from client.startup import Connection
from client.views.window import MainWindow
from player import RenderSink


@pytest.fixture(params=[False], ids=["free-running"])
def window(request, qtbot, live_server, demo_login, secret_service, tmp_path: Path):
    """A logged-in window with a real content store; its engine renders to heard.wav.

    Param True holds the sink until advanced, so playback stays "playing" for transport tests."""
    api = ApiClient(live_server.url)
    api.login(*demo_login)
    sink = RenderSink(tmp_path / "heard.wav", subtype="pcm16", manual=request.param)
    store = ContentStore(tmp_path / "cache", api, api, MasterKey.from_keystore())
    settings = Settings(streaming_quality="lossless")
    win = MainWindow(open_session(Connection(api, store, None), settings, tmp_path / "data", sink), settings)
    qtbot.addWidget(win)
    win.show()
    win.held_sink = sink  # for tests that consume the output themselves
    qtbot.waitUntil(lambda: win.library.grid.albums.rowCount() > 0, timeout=10_000)
    yield win
    win.close()
    api.close()


held = pytest.mark.parametrize("window", [True], ids=["held-sink"], indirect=True)


def open_first_album(qtbot, win: MainWindow) -> None:
    win.go_to("Library")
    grid = win.library.grid
    grid.setCurrentIndex(grid.albums.index(0))
    qtbot.keyClick(grid, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: win.library.currentWidget() is win.library.album_page, timeout=10_000)


def test_catalog_fills_home_and_library(qtbot, window: MainWindow) -> None:
    assert window.library.grid.albums.rowCount() == 2
    qtbot.waitUntil(lambda: window.home.albums.albums.rowCount() == 2, timeout=10_000)  # New releases
    popular = [window.home.popular.tracks.index(r, 5).data() for r in range(window.home.popular.tracks.rowCount())]
    assert popular == sorted(popular, key=int, reverse=True)


def test_double_click_in_an_album_plays_it_from_that_track_gapless(
        qtbot, window: MainWindow, tmp_path: Path) -> None:
    open_first_album(qtbot, window)
    table = window.library.album_page.tracks
    rect = table.visualRect(table.model().index(1, 1))
    with qtbot.waitSignal(window.playback.track_changed, timeout=15_000) as changed:
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    album_tracks = table.visible_tracks()
    assert changed.args[0].id == album_tracks[1].id
    assert window.now_playing.title.text() == album_tracks[1].title
    qtbot.waitUntil(lambda: window.playback.engine.state == "stopped", timeout=30_000)

    with wave.open(str(tmp_path / "heard.wav")) as heard:
        frames = heard.getnframes()
        pcm = np.frombuffer(heard.readframes(frames), dtype="<i2")
    played = album_tracks[1:]
    assert frames == sum(t.duration_samples for t in played)
    assert np.abs(pcm).max() > 1000
    assert window.playback.cache_stats().plays == len(played)
    qtbot.waitUntil(lambda: window.cache_label.text().startswith("Plays from RAM"), timeout=10_000)


@held
def test_play_button_and_space_pause_and_resume(qtbot, window: MainWindow) -> None:
    open_first_album(qtbot, window)
    play = window.findChild(QPushButton, "playPauseButton")
    with qtbot.waitSignal(window.playback.state_changed, timeout=15_000):
        qtbot.mouseClick(window.findChild(QPushButton, "playAlbumButton"), Qt.MouseButton.LeftButton)
    assert play.text() == "Pause"
    with qtbot.waitSignal(window.playback.state_changed, timeout=5_000) as paused:
        qtbot.mouseClick(play, Qt.MouseButton.LeftButton)
    assert paused.args == ["paused"] and play.text() == "Play"
    with qtbot.waitSignal(window.playback.state_changed, timeout=5_000) as resumed:
        qtbot.keyClick(window.library.album_page.tracks, Qt.Key.Key_Space)
    assert resumed.args == ["playing"]


@held
def test_queue_from_the_context_menu_plays_before_the_album_and_reorders(qtbot, window: MainWindow) -> None:
    open_first_album(qtbot, window)
    table = window.library.album_page.tracks
    album = table.visible_tracks()
    with qtbot.waitSignal(window.playback.track_changed, timeout=15_000):
        table.play_requested.emit(album, 0)
    table.selectRow(3)
    menu = table.context_menu()
    next(a for a in menu.actions() if a.text() == "Add to queue").trigger()
    model = window.queue_panel.model
    qtbot.waitUntil(lambda: model.rowCount() == len(album), timeout=5_000)
    assert [e.track.id for e in model.entries][:2] == [album[3].id, album[1].id]
    last = model.entries[-1]
    model.move_requested.emit(last.entry_id, 1)
    qtbot.waitUntil(lambda: model.entries[1].track.id == last.track.id, timeout=5_000)
    with qtbot.waitSignal(window.playback.track_changed, timeout=15_000) as changed:
        qtbot.mouseClick(window.findChild(QPushButton, "nextButton"), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.held_sink.advance(512) == 0 or window.now_playing.title.text()
                        == album[3].title, timeout=15_000)
    assert changed.args[0].id == album[3].id


def test_search_as_you_type_forgives_a_typo(qtbot, window: MainWindow) -> None:
    title = max((t.title for t in window.home.popular.tracks.tracks), key=len)
    word = max(title.split(), key=len)
    typo = word[:2] + word[3:]  # one letter dropped, as a hurried typist would
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.pages.currentWidget() is window.search
    assert QApplication.focusWidget() is window.search.field
    with qtbot.waitSignal(window.search.results_shown, timeout=10_000) as shown:
        qtbot.keyClicks(window.search.field, typo)
    assert shown.args == [typo]
    assert title in [t.title for t in window.search.tracks.tracks.tracks]


def test_every_control_has_an_accessible_name_and_a_tooltip(window: MainWindow) -> None:
    for name in ("sidebar", "playPauseButton", "nextButton", "previousButton", "seekSlider", "volumeSlider",
                 "shuffleButton", "repeatButton", "normalisationCheck", "queueList", "clearQueueButton",
                 "removeFromQueueButton", "albumGrid", "searchEdit", "albumTrackTable", "likeButton",
                 "likedTrackTable", "playLikedButton", "discoverWeeklyTable", "playDiscoverWeeklyButton",
                 "historyTable", "refreshHistoryButton", "clearHistoryButton"):
        widget = window.findChild(object, name)
        assert widget is not None, name
        assert widget.accessibleName() and widget.toolTip(), name


@held
def test_releasing_the_seek_slider_moves_playback_to_that_second(qtbot, window: MainWindow) -> None:
    open_first_album(qtbot, window)
    table = window.library.album_page.tracks
    with qtbot.waitSignal(window.playback.track_changed, timeout=15_000):
        table.play_requested.emit(table.visible_tracks(), 0)
    slider = window.now_playing.seek
    slider.setSliderDown(True)
    slider.setValue(3000)
    slider.setSliderDown(False)
    qtbot.waitUntil(lambda: window.held_sink.advance(256) >= 0 and 3.0 <= window.playback.position_seconds() < 3.2,
                    timeout=15_000)
    assert window.playback.engine.position().index == 0


@held
def test_the_seek_bar_draws_the_playing_tracks_waveform_from_its_manifest(
        qtbot, window: MainWindow, live_server, demo_login) -> None:
    open_first_album(qtbot, window)
    table = window.library.album_page.tracks
    track = table.visible_tracks()[1]
    with qtbot.waitSignal(window.playback.track_changed, timeout=15_000):
        table.play_requested.emit(table.visible_tracks(), 1)
    api = ApiClient(live_server.url)
    api.login(*demo_login)
    expected = base64.b64decode(api.manifest(track.id)["waveform"])
    api.close()
    assert len(expected) == 160 and max(expected) > 100  # the demo's music, not silence
    assert window.now_playing.seek.levels == expected


def test_the_rows_on_screen_have_their_metadata_before_a_click(qtbot, window: MainWindow) -> None:
    window.go_to("Home")
    popular = window.home.popular
    qtbot.waitUntil(lambda: popular.tracks.rowCount() > 0, timeout=10_000)
    shown = popular.shown_tracks()
    assert shown
    qtbot.waitUntil(lambda: all(window.playback.known_ahead(t.id) for t in shown), timeout=10_000)
    open_first_album(qtbot, window)
    album_rows = window.library.album_page.tracks.shown_tracks()
    qtbot.waitUntil(lambda: all(window.playback.known_ahead(t.id) for t in album_rows), timeout=10_000)
