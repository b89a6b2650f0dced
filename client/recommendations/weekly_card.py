"""The Discover Weekly card on Home: its cover, the week, Play, and each pick with the reason it was picked."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from client.listening import PlayContext
from client.recommendations.weekly import DiscoverWeekly, Pick
from client.widgets.controls import named
from client.widgets.covers import placeholder_cover
from client.widgets.models import SORT_ROLE, Index, TrackTableModel
from client.widgets.track_table import TrackTable
from client.widgets.words import count

COVER_PX = 120
HIDDEN_COLUMNS = (0, 3, 5)  # track number, album, popularity
TITLE = "Discover Weekly"


class PicksModel(TrackTableModel):
    """Discover Weekly's tracks, with a last column saying why each was picked."""

    COLUMNS: tuple[str, ...] = (*TrackTableModel.COLUMNS, "Why")
    WHY_COLUMN = len(TrackTableModel.COLUMNS)

    def __init__(self) -> None:
        super().__init__()
        self._reasons: list[str] = []

    def set_picks(self, picks: Sequence[Pick]) -> None:
        self._reasons = [pick.reason_text for pick in picks]
        self.set_tracks([pick.track for pick in picks])

    def reason(self, row: int) -> str:
        return self._reasons[row]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if index.isValid() and index.column() == self.WHY_COLUMN:
            if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole, SORT_ROLE):
                return self._reasons[index.row()]
            return None
        return super().data(index, role)


class DiscoverWeeklyCard(QWidget):
    """Discover Weekly, or why it cannot be shown. Its table is a TrackTable (menu, hearts, radio) of the picks;
    Play asks through that table's play_requested."""

    def __init__(self, user_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("discoverWeeklyCard")
        self.weekly: DiscoverWeekly | None = None
        self.cover = named(QLabel(), "discoverWeeklyCover", "Discover Weekly cover")
        self.cover.setPixmap(placeholder_cover(TITLE, user_name, COVER_PX))
        self.title = named(QLabel(f"<b>{TITLE}</b>"), "discoverWeeklyTitle", TITLE)
        self.details = named(QLabel("Loading your picks…"), "discoverWeeklyDetails", "Discover Weekly details")
        self.play_button = named(QPushButton("Play"), "playDiscoverWeeklyButton", "Play Discover Weekly")
        self.play_button.setEnabled(False)
        self.picks = PicksModel()
        self.table = TrackTable("discoverWeeklyTable", "Discover Weekly tracks", PlayContext("discover_weekly"),
                                self.picks)
        for column in HIDDEN_COLUMNS:  # a card is narrow: what, by whom, why
            self.table.hideColumn(column)
        text = QVBoxLayout()
        text.addWidget(self.title)
        text.addWidget(self.details)
        text.addWidget(self.play_button)
        text.addStretch(1)
        header = QVBoxLayout()
        header.addWidget(self.cover)
        header.addLayout(text, 1)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addLayout(header)
        row.addWidget(self.table, 1)
        self.play_button.clicked.connect(self._on_play_button_clicked)

    def show_weekly(self, weekly: DiscoverWeekly) -> None:
        self.weekly = weekly
        self.table.context = PlayContext("discover_weekly", weekly.playlist_id or None)
        self.picks.set_picks(weekly.picks)
        self.table.resizeColumnToContents(PicksModel.WHY_COLUMN)
        picked = len(weekly.picks)
        self.details.setText(f"Week of {weekly.week_of} · {count(picked, 'track')} picked for you" if picked
                             else "No picks yet: play some music and they come next week")
        self.play_button.setEnabled(bool(picked))

    def show_problem(self, message: str) -> None:
        self.details.setText(f"Discover Weekly is not available: {message}")

    def _on_play_button_clicked(self) -> None:
        if self.weekly is not None and self.weekly.picks:
            self.table.play_requested.emit(self.table.visible_tracks(), 0)
