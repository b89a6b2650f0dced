"""The now-playing bar: cover, title and artist, the heart, transport, seek slider with times, volume,
shuffle/repeat."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from client.catalog import Track
from client.playback.queue import Repeat
from client.settings import Settings
from client.widgets.controls import named
from client.widgets.cover_cache import CoverCache
from client.widgets.models import HEART, NO_HEART, format_duration

COVER_PX = 56
_REPEAT_CYCLE = {Repeat.OFF: Repeat.ALL, Repeat.ALL: Repeat.ONE, Repeat.ONE: Repeat.OFF}
_REPEAT_TEXT = {Repeat.OFF: "Repeat: off", Repeat.ALL: "Repeat: all", Repeat.ONE: "Repeat: one"}


class NowPlayingBar(QWidget):
    """Shows what plays and offers the transport; says what the user asked for through signals.

    Signals:
        play_pause_clicked(), next_clicked(), previous_clicked()
        seek_requested(float): seconds into the track, when the user lets go of the slider.
        volume_changed(float): 0..1.
        shuffle_toggled(bool), repeat_changed(object: Repeat), normalisation_toggled(bool)
        like_clicked(object): the heart was clicked for this Track (the one shown).
    """

    play_pause_clicked = Signal()
    next_clicked = Signal()
    previous_clicked = Signal()
    seek_requested = Signal(float)
    volume_changed = Signal(float)
    shuffle_toggled = Signal(bool)
    repeat_changed = Signal(object)
    normalisation_toggled = Signal(bool)
    like_clicked = Signal(object)

    def __init__(self, covers: CoverCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("nowPlayingBar")
        self._duration_s = 0.0
        self._repeat = Repeat.OFF
        self._track: Track | None = None
        self._covers = covers
        covers.cover_ready.connect(self._on_covers_cover_ready)
        self.cover = named(QLabel(), "coverLabel", "Cover art")
        self.cover.setFixedSize(COVER_PX, COVER_PX)
        self.title = named(QLabel("Nothing playing"), "nowPlayingLabel", "Now playing")
        self.artist = named(QLabel(""), "nowPlayingArtistLabel", "Artist")
        self.like = named(QToolButton(), "likeButton", "Like", "Save to Liked Songs")
        self.like.setText(NO_HEART)
        self.like.setCheckable(True)
        self.like.setEnabled(False)
        icons = self.style()
        self.previous = named(QPushButton(icons.standardIcon(QStyle.StandardPixmap.SP_MediaSkipBackward), ""),
                              "previousButton", "Previous track", "Previous (Ctrl+Left)")
        self.play = named(QPushButton("Play"), "playPauseButton", "Play or pause", "Play or pause (Space)")
        self.next = named(QPushButton(icons.standardIcon(QStyle.StandardPixmap.SP_MediaSkipForward), ""),
                          "nextButton", "Next track", "Next (Ctrl+Right)")
        self.shuffle = named(QToolButton(), "shuffleButton", "Shuffle")
        self.shuffle.setText("Shuffle")
        self.shuffle.setCheckable(True)
        self.repeat = named(QToolButton(), "repeatButton", "Repeat", "Repeat: off / all / one")
        self.repeat.setText(_REPEAT_TEXT[Repeat.OFF])
        self.elapsed = named(QLabel("0:00"), "elapsedLabel", "Elapsed time")
        self.seek = named(QSlider(Qt.Orientation.Horizontal), "seekSlider", "Seek")
        self.seek.setRange(0, 0)
        self.remaining = named(QLabel("-0:00"), "remainingLabel", "Remaining time")
        self.volume = named(QSlider(Qt.Orientation.Horizontal), "volumeSlider", "Volume")
        self.volume.setRange(0, 100)
        self.volume.setValue(80)
        self.volume.setFixedWidth(100)
        self.normalise = named(QCheckBox("Normalize"), "normalisationCheck", "Loudness normalisation",
                               "Play every track at the same loudness (−14 LUFS)")
        for control in (self.previous, self.play, self.next):
            control.setEnabled(False)

        text = QVBoxLayout()
        text.addWidget(self.title)
        text.addWidget(self.artist)
        transport = QHBoxLayout()
        for button in (self.shuffle, self.previous, self.play, self.next, self.repeat):
            transport.addWidget(button)
        progress = QHBoxLayout()
        progress.addWidget(self.elapsed)
        progress.addWidget(self.seek, 1)
        progress.addWidget(self.remaining)
        middle = QVBoxLayout()
        middle.addLayout(transport)
        middle.addLayout(progress)
        row = QHBoxLayout(self)
        row.addWidget(self.cover)
        row.addLayout(text, 1)
        row.addWidget(self.like)
        row.addLayout(middle, 2)
        row.addWidget(self.normalise)
        row.addWidget(self.volume)

        self.play.clicked.connect(self.play_pause_clicked)
        self.next.clicked.connect(self.next_clicked)
        self.previous.clicked.connect(self.previous_clicked)
        self.seek.sliderReleased.connect(self._on_seek_slider_released)
        self.volume.valueChanged.connect(lambda value: self.volume_changed.emit(value / 100))
        self.shuffle.toggled.connect(self.shuffle_toggled)
        self.repeat.clicked.connect(self._on_repeat_clicked)
        self.normalise.toggled.connect(self.normalisation_toggled)
        self.like.clicked.connect(self._on_like_clicked)

    def show_options(self, settings: Settings) -> None:
        """Show the volume, shuffle, repeat and normalisation ``settings`` hold, without asking for any change."""
        for control in (self.volume, self.shuffle, self.normalise):
            control.blockSignals(True)
        self.volume.setValue(round(settings.volume * 100))
        self.shuffle.setChecked(settings.shuffle)
        self.normalise.setChecked(settings.normalisation)
        for control in (self.volume, self.shuffle, self.normalise):
            control.blockSignals(False)
        self.set_repeat(Repeat(settings.repeat))

    def show_track(self, track: Track) -> None:
        self._track = track
        self._duration_s = track.duration_s
        self.title.setText(track.title)
        self.artist.setText(f"{track.artist} — {track.album}")
        self.cover.setPixmap(self._cover_pixmap(track))
        self.seek.setRange(0, int(self._duration_s * 1000))
        self.like.setEnabled(True)

    def show_liked(self, liked: bool) -> None:
        """Fill the heart or empty it (the shown track's like, as the likes say)."""
        self.like.setChecked(liked)
        self.like.setText(HEART if liked else NO_HEART)
        self.like.setAccessibleName("Liked" if liked else "Like")
        self.like.setToolTip("Remove from Liked Songs" if liked else "Save to Liked Songs")

    def show_state(self, state: str) -> None:
        self.play.setText("Pause" if state == "playing" else "Play")
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
        self.repeat.setText(_REPEAT_TEXT[mode])

    def _on_like_clicked(self) -> None:
        if self._track is not None:
            self.like_clicked.emit(self._track)

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
