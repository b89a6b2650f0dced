"""The now-playing bar on its own: icon-only controls that still name themselves, mute, the artist and album links,
titles cut to fit with the whole in a tooltip."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QPalette
from PySide6.QtWidgets import QAbstractButton, QToolButton

from client.catalog import Track
from client.views.now_playing import NowPlayingBar
from client.widgets.cover_cache import CoverCache

LONG_TITLE = "An Extremely Long Title That A Narrow Window Cannot Show Whole, Part " + "Two " * 20
TRACK = Track(id=7, title=LONG_TITLE, artist_id=3, artist="Harbour Static", album_id=5, album="Tidal Glass",
              disc_no=1, track_no=2, duration_s=200.0, duration_samples=9_600_000, sample_rate=48000,
              popularity=1, loudness_lufs=None, peak_dbfs=None)
CONTROLS = ("shuffleButton", "previousButton", "playPauseButton", "nextButton", "repeatButton", "likeButton",
            "muteButton", "queueToggleButton", "deviceButton")


@pytest.fixture
def bar(qtbot) -> NowPlayingBar:
    def no_cover(_album_id: int) -> bytes:
        raise OSError("no covers in this test")

    made = NowPlayingBar(CoverCache(no_cover))
    qtbot.addWidget(made)
    made.resize(1000, 90)
    made.show()
    qtbot.waitExposed(made)
    return made


def test_every_control_is_an_icon_with_a_name_and_a_tooltip_naming_its_key(bar: NowPlayingBar) -> None:
    for name in CONTROLS:
        button = bar.findChild(QAbstractButton, name)
        assert button is not None, name
        assert not button.icon().isNull() and button.accessibleName() and button.toolTip(), name
        if isinstance(button, QToolButton):
            assert button.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonIconOnly, name
    for name, key in (("shuffleButton", "Ctrl+S"), ("repeatButton", "Ctrl+R"), ("muteButton", "Ctrl+M"),
                      ("playPauseButton", "Space"), ("nextButton", "Ctrl+Right")):
        assert key in bar.findChild(QAbstractButton, name).toolTip(), name


def test_icons_are_drawn_at_the_screens_density(bar: NowPlayingBar) -> None:
    icon = bar.shuffle.icon()
    for scale in (1.0, 2.0):
        drawn = icon.pixmap(QSize(20, 20), scale, QIcon.Mode.Normal, QIcon.State.Off).toImage()
        assert (drawn.width(), drawn.height()) == (round(20 * scale), round(20 * scale))
        inked = sum(drawn.pixelColor(x, y).alpha() > 0 for x in range(drawn.width()) for y in range(drawn.height()))
        assert inked > 20 * scale * scale  # a glyph, not an empty square


def test_mute_silences_and_unmute_brings_back_the_level(qtbot, bar: NowPlayingBar) -> None:
    bar.volume.setValue(60)
    with qtbot.waitSignal(bar.volume_changed) as muted, qtbot.waitSignal(bar.mute_toggled) as recorded:
        bar.mute.click()
    assert muted.args == [0.0] and bar.mute.accessibleName() == "Unmute" and bar.volume.value() == 60
    assert recorded.args == [True, pytest.approx(0.6)]  # what the app keeps: muted, and the level to come back to
    with qtbot.waitSignal(bar.volume_changed) as unmuted:
        bar.mute.click()
    assert unmuted.args == [pytest.approx(0.6)]
    bar.mute.click()
    with qtbot.waitSignal(bar.volume_changed) as moved:
        bar.volume.setValue(30)  # moving the slider while muted brings the sound back at the new level
    assert moved.args == [pytest.approx(0.3)] and not bar.mute.isChecked()


def test_artist_and_album_are_links_and_a_long_title_is_cut_with_the_whole_in_its_tooltip(
        qtbot, bar: NowPlayingBar) -> None:
    width = bar.width()
    bar.show_track(TRACK)
    assert bar.title.text() == LONG_TITLE and bar.width() == width
    assert bar.title.toolTip() == LONG_TITLE
    assert bar.artist.text() == "Harbour Static — Tidal Glass"
    with qtbot.waitSignal(bar.artist_opened) as artist:
        bar.artist.linkActivated.emit("artist:3")
    with qtbot.waitSignal(bar.album_opened) as album:
        bar.artist.linkActivated.emit("album:5")
    assert (artist.args, album.args) == ([3], [5])


def test_the_seek_bar_draws_the_waveform_played_part_in_the_accent_colour(bar: NowPlayingBar) -> None:
    seek = bar.seek
    bar.show_track(TRACK)
    bar.show_waveform(bytes([255] * 80 + [0] * 80))  # loud first half, silent second half
    seek.setValue(50_000)  # a quarter of the 200 s track
    drawn = seek.grab().toImage()
    middle = drawn.height() // 2
    accent, dimmed = (seek.palette().color(role).rgb() for role in (QPalette.ColorRole.Highlight,
                                                                    QPalette.ColorRole.Mid))

    def colour_at(x: int, y: int) -> int:
        return drawn.pixelColor(x, y).rgb()

    width = drawn.width()
    played_bar = next(x for x in range(width // 8, width // 4) if colour_at(x, 2) == accent)
    assert colour_at(played_bar, drawn.height() - 3) == accent  # a full-height bar, played
    unplayed = [colour_at(x, 2) for x in range(width * 5 // 16, width * 7 // 16)]
    assert dimmed in unplayed and accent not in unplayed  # loud, not yet played
    quiet = [colour_at(x, 2) for x in range(width * 9 // 16, width * 15 // 16)]
    assert dimmed not in quiet and accent not in quiet  # silence draws no bar up there
    assert dimmed in [colour_at(x, middle) for x in range(width * 9 // 16, width * 15 // 16)]  # only a dot line
    bar.show_waveform(None)  # a track without one: the plain slider again
    assert seek.levels is None and seek.minimumHeight() == 0
    assert seek.grab().toImage() != drawn
