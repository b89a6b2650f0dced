"""Legato's main window: albums, their tracks, and a now-playing bar. Thin: behaviour lives in controllers."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, Qt, QTimer
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListView,
    QMainWindow,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from client.api import ApiClient
from client.models import ID_ROLE, AlbumListModel, TrackTableModel, format_duration
from client.playback import PlaybackController
from client.tasks import run_task

POSITION_POLL_MS = 200


def _named(widget: Any, object_name: str, accessible: str, tooltip: str | None = None) -> Any:
    widget.setObjectName(object_name)
    widget.setAccessibleName(accessible)
    widget.setToolTip(tooltip or accessible)
    return widget


class MainWindow(QMainWindow):
    """Albums on the left, the selected album's tracks on the right, transport at the bottom."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle("Legato")
        self.resize(960, 600)
        self._api: ApiClient | None = None
        self.playback: PlaybackController | None = None

        self.albums = AlbumListModel()
        self.tracks = TrackTableModel()
        self.album_list = _named(QListView(), "albumList", "Albums")
        self.album_list.setModel(self.albums)
        self.track_table = _named(QTableView(), "trackTable", "Tracks",
                                  "Tracks of the album; double-click to play")
        self.track_table.setModel(self.tracks)
        self.track_table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.track_table.horizontalHeader().setStretchLastSection(True)
        self.track_table.verticalHeader().hide()

        self.play_button = _named(QPushButton("Play"), "playPauseButton", "Play or pause")
        self.play_button.setEnabled(False)
        self.now_playing = _named(QLabel("Nothing playing"), "nowPlayingLabel", "Now playing")
        self.position_label = _named(QLabel("0:00 / 0:00"), "positionLabel", "Position")

        splitter = QSplitter()
        splitter.addWidget(self.album_list)
        splitter.addWidget(self.track_table)
        splitter.setStretchFactor(1, 2)
        bar = QHBoxLayout()
        bar.addWidget(self.play_button)
        bar.addWidget(self.now_playing, 1)
        bar.addWidget(self.position_label)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(splitter, 1)
        layout.addLayout(bar)
        self.setCentralWidget(central)

        self.album_list.selectionModel().currentChanged.connect(self._on_album_list_current_changed)
        self.track_table.doubleClicked.connect(self._on_track_table_double_clicked)
        self.play_button.clicked.connect(self._on_play_button_clicked)
        self._duration_s = 0.0
        self._poll = QTimer(self)
        self._poll.setInterval(POSITION_POLL_MS)
        self._poll.timeout.connect(self._on_poll_timeout)

    def show_message(self, message: str) -> None:
        self.statusBar().showMessage(message)

    def attach(self, api: ApiClient, playback: PlaybackController) -> None:
        """Use this server session and engine; loads the album list in the background."""
        self._api = api
        self.playback = playback
        playback.track_changed.connect(self._on_playback_track_changed)
        playback.state_changed.connect(self._on_playback_state_changed)
        playback.error_occurred.connect(self.show_message)
        self.show_message("Loading albums…")
        run_task(api.albums, self._on_albums_loaded, self.show_message)
        self._poll.start()

    def _on_albums_loaded(self, albums: list[dict[str, Any]]) -> None:
        self.albums.set_albums(albums)
        self.show_message(f"{len(albums)} albums")
        if albums:
            self.album_list.setCurrentIndex(self.albums.index(0))

    def _on_album_list_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._api is None or not current.isValid():
            return
        api, album_id = self._api, int(current.data(ID_ROLE))
        run_task(lambda: api.album(album_id), self._on_album_loaded, self.show_message)

    def _on_album_loaded(self, album: dict[str, Any]) -> None:
        self.tracks.set_tracks(album["tracks"])
        self.track_table.resizeColumnsToContents()

    def _on_track_table_double_clicked(self, index: QModelIndex) -> None:
        if self.playback is not None:
            self.playback.play_tracks(self.tracks.tracks, index.row())

    def _on_play_button_clicked(self) -> None:
        if self.playback is not None:
            self.playback.toggle_pause()

    def _on_playback_track_changed(self, track: dict[str, Any]) -> None:
        self._duration_s = float(track["duration_s"])
        self.now_playing.setText(f"{track['title']} — {track['artist']}")
        self.setWindowTitle(f"{track['title']} — Legato")

    def _on_playback_state_changed(self, state: str) -> None:
        self.play_button.setEnabled(state != "stopped")
        self.play_button.setText("Pause" if state == "playing" else "Play")

    def _on_poll_timeout(self) -> None:
        if self.playback is not None:
            elapsed = self.playback.position_seconds()
            self.position_label.setText(
                f"{format_duration(elapsed)} / {format_duration(self._duration_s)}")

    def closeEvent(self, event: Any) -> None:
        self._poll.stop()
        if self.playback is not None:
            self.playback.close()
        super().closeEvent(event)
