"""The now-playing bar as listeners know it: cover, title, artist and album (links) and the heart on the left; shuffle,
previous, play/pause, next and repeat centred over the seek bar and its times; normalisation, mute, volume, the queue
and the output device on the right."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QPalette, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QStyle,
    QStyleOptionButton,
    QStylePainter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from client.catalog import Track
from client.playback.queue import Repeat
from client.settings import Settings
from client.widgets.controls import named
from client.widgets.cover_cache import CoverCache
from client.widgets.elided import ElidedLabel
from client.widgets.icons import icon
from client.widgets.models import format_duration
from client.widgets.waveform import WaveformSlider

COVER_PX = 56
ICON_PX = 20
PLAY_ICON_PX = 22
_REPEAT_CYCLE = {Repeat.OFF: Repeat.ALL, Repeat.ALL: Repeat.ONE, Repeat.ONE: Repeat.OFF}
_REPEAT_TIP = {Repeat.OFF: "Repeat: off", Repeat.ALL: "Repeat: all", Repeat.ONE: "Repeat: one"}


class IconButton(QPushButton):
    """A push button drawn as its icon alone; ``text()`` still says its state ("Play", "Pause") for QA and
    assistive tools."""

    def __init__(self, text: str, side_px: int) -> None:
        super().__init__(text)
        self.setFixedSize(side_px, side_px)
        self.setProperty("transport", True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def paintEvent(self, event: Any) -> None:
        option = QStyleOptionButton()
        self.initStyleOption(option)
        option.text = ""
        QStylePainter(self).drawControl(QStyle.ControlElement.CE_PushButton, option)


def _tool_button(object_name: str, accessible: str, tooltip: str, glyph: str, glyph_on: str | None = None,
                 checkable: bool = False) -> QToolButton:
    button = named(QToolButton(), object_name, accessible, tooltip)
    button.setText(accessible)
    button.setIcon(icon(glyph, glyph_on))
    button.setIconSize(QSize(ICON_PX, ICON_PX))
    button.setCheckable(checkable)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
    button.setCursor(Qt.CursorShape.PointingHandCursor)
    return button


class NowPlayingBar(QWidget):
    """Shows what plays and offers the transport; says what the user asked for through signals.

    Signals:
        play_pause_clicked(), next_clicked(), previous_clicked()
        seek_requested(float): seconds into the track, when the user lets go of the slider.
        volume_changed(float): 0..1 (0 while muted; the slider keeps the level to come back to).
        mute_toggled(bool, float): muted or not, and the slider's level (what unmuting comes back to).
        shuffle_toggled(bool), repeat_changed(object: Repeat), normalisation_toggled(bool)
        like_clicked(object): the heart was clicked for this Track (the one shown).
        album_opened(int), artist_opened(int): the album's or the artist's name was clicked.
        queue_toggled(bool): show (True) or hide the queue panel.
        device_clicked(): the output device button was pressed.
    """

    play_pause_clicked = Signal()
    next_clicked = Signal()
    previous_clicked = Signal()
    seek_requested = Signal(float)
    volume_changed = Signal(float)
    mute_toggled = Signal(bool, float)
    shuffle_toggled = Signal(bool)
    repeat_changed = Signal(object)
    normalisation_toggled = Signal(bool)
    like_clicked = Signal(object)
    album_opened = Signal(int)
    artist_opened = Signal(int)
    queue_toggled = Signal(bool)
    device_clicked = Signal()

    def __init__(self, covers: CoverCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("nowPlayingBar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self._duration_s = 0.0
        self._repeat = Repeat.OFF
        self._track: Track | None = None
        self._covers = covers
        covers.cover_ready.connect(self._on_covers_cover_ready)
        self.cover = named(QLabel(), "coverLabel", "Cover art")
        self.cover.setFixedSize(COVER_PX, COVER_PX)
        self.title = named(ElidedLabel("Nothing playing"), "nowPlayingLabel", "Now playing", "")
        self.artist = named(ElidedLabel(""), "nowPlayingArtistLabel", "Artist and album",
                            "Click the artist or the album to open it")
        self.like = _tool_button("likeButton", "Like", "Save to Liked Songs", "heart", "heart-fill", checkable=True)
        self.like.setEnabled(False)
        self._build_transport()
        self._build_right()
        self._lay_out()
        self._connect()

    def _build_transport(self) -> None:
        self.shuffle = _tool_button("shuffleButton", "Shuffle", "Shuffle (Ctrl+S)", "shuffle", checkable=True)
        self.previous = named(IconButton("Previous", 36), "previousButton", "Previous track", "Previous (Ctrl+Left)")
        self.previous.setIcon(icon("skip-back-fill"))
        self.play = named(IconButton("Play", 40), "playPauseButton", "Play or pause", "Play or pause (Space)")
        self._play_icon = icon("play-fill", role=QPalette.ColorRole.Window)
        self._pause_icon = icon("pause-fill", role=QPalette.ColorRole.Window)
        self.play.setIcon(self._play_icon)
        self.play.setIconSize(QSize(PLAY_ICON_PX, PLAY_ICON_PX))
        self.next = named(IconButton("Next", 36), "nextButton", "Next track", "Next (Ctrl+Right)")
        self.next.setIcon(icon("skip-forward-fill"))
        for button in (self.previous, self.next):
            button.setIconSize(QSize(ICON_PX, ICON_PX))
        self.repeat = _tool_button("repeatButton", "Repeat", "", "repeat", checkable=True)
        self._repeat_icons = {Repeat.OFF: self.repeat.icon(), Repeat.ALL: self.repeat.icon(),
                              Repeat.ONE: icon("repeat-once")}
        for control in (self.previous, self.play, self.next):
            control.setEnabled(False)
        self.elapsed = named(QLabel("0:00"), "elapsedLabel", "Elapsed time")
        self.seek = named(WaveformSlider(), "seekSlider", "Seek")
        self.seek.setRange(0, 0)
        self.remaining = named(QLabel("-0:00"), "remainingLabel", "Remaining time")
        self.set_repeat(Repeat.OFF)

    def _build_right(self) -> None:
        self.normalise = named(QCheckBox("Normalize"), "normalisationCheck", "Loudness normalisation",
                               "Play every track at the same loudness (−14 LUFS)")
        self.mute = _tool_button("muteButton", "Mute", "Mute (Ctrl+M)", "speaker-high", "speaker-x", checkable=True)
        self.volume = named(QSlider(Qt.Orientation.Horizontal), "volumeSlider", "Volume",
                            "Volume (Ctrl+Up, Ctrl+Down)")
        self.volume.setRange(0, 100)
        self.volume.setValue(80)
        self.volume.setFixedWidth(96)
        self.queue = _tool_button("queueToggleButton", "Queue", "Show or hide the queue (Ctrl+Shift+Q)", "queue",
                                  checkable=True)
        self.queue.setChecked(True)
        self.device = _tool_button("deviceButton", "Output device", "Output device: system default (change in "
                                   "Settings)", "desktop")

    def _lay_out(self) -> None:
        text = QVBoxLayout()
        text.setSpacing(2)
        text.addStretch(1)
        text.addWidget(self.title)
        text.addWidget(self.artist)
        text.addStretch(1)
        left = QHBoxLayout()
        left.setSpacing(12)
        left.addWidget(self.cover)
        left.addLayout(text, 1)
        left.addWidget(self.like)
        transport = QHBoxLayout()
        transport.setSpacing(10)
        transport.addStretch(1)
        for button in (self.shuffle, self.previous, self.play, self.next, self.repeat):
            transport.addWidget(button)
        transport.addStretch(1)
        progress = QHBoxLayout()
        progress.addWidget(self.elapsed)
        progress.addWidget(self.seek, 1)
        progress.addWidget(self.remaining)
        middle = QVBoxLayout()
        middle.setSpacing(4)
        middle.addLayout(transport)
        middle.addLayout(progress)
        right = QHBoxLayout()
        right.setSpacing(6)
        right.addStretch(1)
        for control in (self.normalise, self.mute, self.volume, self.queue, self.device):
            right.addWidget(control)
        row = QHBoxLayout(self)
        row.setContentsMargins(14, 10, 14, 10)
        row.setSpacing(24)
        # The sides stretch alike, so the transport stays in the middle of the bar however wide the window is.
        for stretch, part in ((1, left), (2, middle), (1, right)):
            side = QWidget()
            side.setLayout(part)
            part.setContentsMargins(0, 0, 0, 0)
            row.addWidget(side, stretch)

    def _connect(self) -> None:
        self.play.clicked.connect(self.play_pause_clicked)
        self.next.clicked.connect(self.next_clicked)
        self.previous.clicked.connect(self.previous_clicked)
        self.seek.sliderReleased.connect(self._on_seek_slider_released)
        self.volume.valueChanged.connect(self._on_volume_value_changed)
        self.mute.toggled.connect(self._on_mute_toggled)
        self.shuffle.toggled.connect(self.shuffle_toggled)
        self.repeat.clicked.connect(self._on_repeat_clicked)
        self.normalise.toggled.connect(self.normalisation_toggled)
        self.like.clicked.connect(self._on_like_clicked)
        self.artist.linkActivated.connect(self._on_artist_link_activated)
        self.queue.toggled.connect(self.queue_toggled)
        self.device.clicked.connect(self.device_clicked)

    def show_options(self, settings: Settings) -> None:
        """Show the volume, mute, shuffle, repeat and normalisation ``settings`` hold, asking for no change."""
        for control in (self.volume, self.mute, self.shuffle, self.normalise):
            control.blockSignals(True)
        self.volume.setValue(round(settings.volume * 100))
        self.mute.setChecked(settings.muted)
        self._label_mute(settings.muted)
        self.shuffle.setChecked(settings.shuffle)
        self.normalise.setChecked(settings.normalisation)
        for control in (self.volume, self.mute, self.shuffle, self.normalise):
            control.blockSignals(False)
        self.set_repeat(Repeat(settings.repeat))
        device = settings.output_device or "system default"
        self.device.setToolTip(f"Output device: {device} (change in Settings)")

    def show_track(self, track: Track) -> None:
        self._track = track
        self._duration_s = track.duration_s
        self.title.setText(track.title)
        self.artist.set_parts([(track.artist, f"artist:{track.artist_id}"), (track.album, f"album:{track.album_id}")])
        self.cover.setPixmap(self._cover_pixmap(track))
        self.seek.setRange(0, int(self._duration_s * 1000))
        self.like.setEnabled(True)

    def show_waveform(self, levels: bytes | None) -> None:
        """Draw the shown track's waveform on the seek bar (None: the plain bar)."""
        self.seek.set_levels(levels)

    def show_liked(self, liked: bool) -> None:
        """Fill the heart or empty it (the shown track's like, as the likes say)."""
        self.like.setChecked(liked)
        self.like.setAccessibleName("Liked" if liked else "Like")
        self.like.setToolTip("Remove from Liked Songs" if liked else "Save to Liked Songs")

    def show_state(self, state: str) -> None:
        playing = state == "playing"
        self.play.setText("Pause" if playing else "Play")
        self.play.setIcon(self._pause_icon if playing else self._play_icon)
        for control in (self.previous, self.play, self.next):
            control.setEnabled(state != "stopped" or self._duration_s > 0)

    def show_position(self, seconds: float) -> None:
        if not self.seek.isSliderDown():
            self.seek.setValue(int(seconds * 1000))
        self.elapsed.setText(format_duration(seconds))
        self.remaining.setText("-" + format_duration(max(self._duration_s - seconds, 0.0)))

    @property
    def repeat_mode(self) -> Repeat:
        return self._repeat

    def set_repeat(self, mode: Repeat) -> None:
        self._repeat = mode
        self.repeat.setChecked(mode != Repeat.OFF)
        self.repeat.setIcon(self._repeat_icons[mode])
        self.repeat.setToolTip(f"{_REPEAT_TIP[mode]}; click for the next mode (Ctrl+R)")

    def _on_like_clicked(self) -> None:
        if self._track is not None:
            self.like_clicked.emit(self._track)

    def _on_artist_link_activated(self, link: str) -> None:
        kind, _, record_id = link.partition(":")
        (self.artist_opened if kind == "artist" else self.album_opened).emit(int(record_id))

    def _on_volume_value_changed(self, value: int) -> None:
        if self.mute.isChecked():
            self.mute.setChecked(False)  # moving the slider brings the sound back, at the new level
        else:
            self.volume_changed.emit(value / 100)

    def _on_mute_toggled(self, muted: bool) -> None:
        self._label_mute(muted)
        self.volume_changed.emit(0.0 if muted else self.volume.value() / 100)
        self.mute_toggled.emit(muted, self.volume.value() / 100)

    def _label_mute(self, muted: bool) -> None:
        self.mute.setAccessibleName("Unmute" if muted else "Mute")
        self.mute.setToolTip("Unmute (Ctrl+M)" if muted else "Mute (Ctrl+M)")

    def _on_seek_slider_released(self) -> None:
        self.seek_requested.emit(self.seek.value() / 1000)

    def _on_repeat_clicked(self) -> None:
        self.set_repeat(_REPEAT_CYCLE[self._repeat])
        self.repeat_changed.emit(self._repeat)

    def _on_covers_cover_ready(self, album_id: int) -> None:
        if self._track is not None and self._track.album_id == album_id:
            self.cover.setPixmap(self._cover_pixmap(self._track))

    def _cover_pixmap(self, track: Track) -> QPixmap:
        return self._covers.pixmap(track.album_id, track.album, track.artist, COVER_PX)
