"""Liked Songs: every track the user gave a heart, newest first, playable as one collection."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from client.history.controller import HistoryController
from client.listening import PlayContext
from client.widgets.controls import named
from client.widgets.track_table import TrackTable
from client.widgets.words import count

LIKED_CONTEXT = PlayContext("library", "liked")


class LikedSongsPage(QWidget):
    """The liked tracks in a TrackTable (its hearts unlike), refreshed whenever the likes change."""

    def __init__(self, history: HistoryController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("likedSongsPage")
        self._history = history
        self.title = QLabel("<h2>Liked Songs</h2>")
        self.count = named(QLabel(), "likedSongsCount", "How many liked songs")
        self.play_button = named(QPushButton("Play"), "playLikedButton", "Play Liked Songs")
        self.tracks = TrackTable("likedTrackTable", "Liked songs", LIKED_CONTEXT)
        header = QHBoxLayout()
        header.addWidget(self.title)
        header.addWidget(self.count)
        header.addStretch(1)
        header.addWidget(self.play_button)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.tracks, 1)
        self.play_button.clicked.connect(self._on_play_button_clicked)
        history.likes_changed.connect(self._on_history_likes_changed)
        self._on_history_likes_changed()

    def _on_history_likes_changed(self) -> None:
        liked = self._history.liked_tracks()
        self.tracks.set_tracks(liked)
        self.count.setText(count(len(liked), "song") if liked else "No liked songs yet: click a track's heart")
        self.play_button.setEnabled(bool(liked))

    def _on_play_button_clicked(self) -> None:
        self.tracks.play_requested.emit(self.tracks.visible_tracks(), 0)
