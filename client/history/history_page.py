"""History: what the user played, newest first (this device's plays, and other devices' when the server answers),
and the button that clears it everywhere."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QPushButton, QTableView, QVBoxLayout, QWidget

from client.history.controller import History, HistoryController
from client.history.store import StoredPlay
from client.widgets.controls import named
from client.widgets.models import RECORD_ROLE, ColumnsModel, Index, format_duration

_CONTEXT_NAMES = {"album": "Album", "playlist": "Playlist", "search": "Search", "radio": "Radio",
                  "discover_weekly": "Discover Weekly", "library": "Library", "queue": "Queue", "other": "—"}


class HistoryModel(ColumnsModel):
    """Plays: when, title, artist, how long heard, how it ended, where it was played from."""

    COLUMNS = ("When", "Title", "Artist", "Heard", "Ended", "From")

    def __init__(self) -> None:
        super().__init__()
        self._plays: list[StoredPlay] = []

    @property
    def plays(self) -> list[StoredPlay]:
        return list(self._plays)

    def set_plays(self, plays: list[StoredPlay]) -> None:
        self.beginResetModel()
        self._plays = list(plays)
        self.endResetModel()

    def row_count(self) -> int:
        return len(self._plays)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        play = self._plays[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            ended = "played through" if play.completed else "skipped" if play.skipped else "stopped"
            return (play.started_at.astimezone().strftime("%Y-%m-%d %H:%M"), play.track.title, play.track.artist,
                    format_duration(play.ms_played / 1000), ended,
                    _CONTEXT_NAMES[play.context.kind])[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole and not play.sent:
            return "Not on the server yet: it is sent when the server can be reached"
        if role == RECORD_ROLE:
            return play
        return None


class HistoryPage(QWidget):
    """The history table, Refresh and Clear history (after a confirmation)."""

    def __init__(self, history: HistoryController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("historyPage")
        self._history = history
        self.title = QLabel("<h2>History</h2>")
        self.status = named(QLabel(), "historyStatus", "History status")
        self.refresh_button = named(QPushButton("Refresh"), "refreshHistoryButton", "Refresh the history")
        self.clear_button = named(QPushButton("Clear history"), "clearHistoryButton", "Clear the listening history",
                                  "Forget every play, on this device and on the server")
        self.model = HistoryModel()
        self.table = named(QTableView(), "historyTable", "Listening history")
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        header = QHBoxLayout()
        header.addWidget(self.title)
        header.addWidget(self.status, 1)
        header.addWidget(self.refresh_button)
        header.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.table, 1)
        self.refresh_button.clicked.connect(history.load_history)
        self.clear_button.clicked.connect(self._on_clear_button_clicked)
        history.history_loaded.connect(self._on_history_loaded)
        history.plays_changed.connect(self._on_history_plays_changed)

    def showEvent(self, event: Any) -> None:
        self._history.load_history()
        super().showEvent(event)

    def clear(self) -> None:
        """Clear the history without asking (what Clear history does once confirmed)."""
        self._history.clear_history()

    def _on_clear_button_clicked(self) -> None:
        answer = QMessageBox.question(self, "Clear history", "Forget every play, here and on the server? "
                                      "Your recommendations then start afresh.")
        if answer == QMessageBox.StandardButton.Yes:
            self.clear()

    def _on_history_plays_changed(self) -> None:
        if self.isVisible():
            self._history.load_history()

    def _on_history_loaded(self, history: History) -> None:
        self.model.set_plays(list(history.plays))
        where = "" if history.from_server else " (this device only: the server cannot be reached)"
        self.status.setText(f"{len(history.plays)} plays{where}" if history.plays else f"Nothing played yet{where}")
