"""The queue panel: what plays next, reorderable by drag and drop, with remove and clear."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from client.playback.queue import Entry
from client.widgets.controls import named
from client.widgets.models import ID_ROLE, format_duration
from client.widgets.theme import heading

ENTRY_MIME = "application/x-legato-queue-entry"
Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()


class QueueModel(QAbstractListModel):
    """The upcoming entries; a drop asks for a move through ``move_requested`` instead of editing itself.

    Signals:
        move_requested(int, int): entry id, new position among the upcoming entries.
    """

    move_requested = Signal(int, int)

    def __init__(self) -> None:
        super().__init__()
        self._entries: list[Entry] = []

    @property
    def entries(self) -> list[Entry]:
        return list(self._entries)

    def set_entries(self, entries: list[Entry]) -> None:
        self.beginResetModel()
        self._entries = list(entries)
        self.endResetModel()

    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._entries)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        entry = self._entries[index.row()]
        track = entry.track
        if role == Qt.ItemDataRole.DisplayRole:
            marker = "▸ " if entry.queued else ""
            return f"{marker}{track.title} — {track.artist}  {format_duration(track.duration_s)}"
        if role == Qt.ItemDataRole.ToolTipRole:
            source = "In your queue" if entry.queued else "Next from the album or playlist"
            return f"{track.title} — {track.artist} ({track.album}), {format_duration(track.duration_s)}\n{source}"
        if role == ID_ROLE:
            return entry.entry_id
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsDropEnabled
        if index.isValid():
            return base | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled
        return base

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [ENTRY_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        mime = QMimeData()
        rows = sorted({index.row() for index in indexes})
        mime.setData(ENTRY_MIME, QByteArray(",".join(str(self._entries[r].entry_id) for r in rows).encode()))
        return mime

    def dropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index) -> bool:
        if action != Qt.DropAction.MoveAction or not data.hasFormat(ENTRY_MIME):
            return False
        target = row if row >= 0 else (parent.row() if parent.isValid() else len(self._entries))
        ids = [int(part) for part in bytes(data.data(ENTRY_MIME).data()).decode().split(",") if part]
        rows = {e.entry_id: i for i, e in enumerate(self._entries)}
        for offset, entry_id in enumerate(ids):
            # A drop position counts rows before the dragged ones are taken out.
            position = target + offset - (1 if rows.get(entry_id, target) < target else 0)
            self.move_requested.emit(entry_id, max(position, 0))
        return False  # the controller edits the queue; the model is refreshed from it


class QueuePanel(QWidget):
    """The queue beside the pages.

    Signals:
        remove_requested(list): entry ids to take out of the queue.
        clear_requested()
    """

    remove_requested = Signal(list)
    clear_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("queuePanel")
        self.model = QueueModel()
        self.view = named(QListView(), "queueList", "Play queue",
                          "Up next: drag to reorder, Delete removes")
        self.view.setModel(self.model)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.view.setDefaultDropAction(Qt.DropAction.MoveAction)
        # Lines are cut with … to the panel's width (whole in their tooltips) rather than scrolling sideways.
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.setUniformItemSizes(True)
        self.remove = named(QPushButton("Remove"), "removeFromQueueButton", "Remove selected from the queue")
        self.clear = named(QPushButton("Clear"), "clearQueueButton", "Clear the queue")
        buttons = QHBoxLayout()
        buttons.addWidget(self.remove)
        buttons.addWidget(self.clear)
        layout = QVBoxLayout(self)
        title = QLabel("Up next")
        heading(title, "section")
        layout.addWidget(title)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        self.remove.clicked.connect(self._on_remove_clicked)
        self.clear.clicked.connect(self.clear_requested)

    def _on_remove_clicked(self) -> None:
        ids = [index.data(ID_ROLE) for index in self.view.selectionModel().selectedIndexes()]
        if ids:
            self.remove_requested.emit(ids)

    def keyPressEvent(self, event: Any) -> None:
        if event.key() == Qt.Key.Key_Delete:
            self._on_remove_clicked()
        else:
            super().keyPressEvent(event)
