"""A playlist's entries as a Qt table model, and the drag-and-drop formats for tracks and playlist entries.

The model never edits the playlist: a drop only says what was asked (signals), and the page refreshes it from sync.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QByteArray,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from client.catalog import Track
from client.widgets.models import (
    ID_ROLE,
    RECORD_ROLE,
    TRACKS_MIME,
    ColumnsModel,
    format_duration,
    track_mime,
    tracks_from_mime,
)
from sync import Entry

ENTRIES_MIME = "application/x-legato-playlist-entries"
Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()


def _entry_ids_from_mime(mime: QMimeData) -> list[str]:
    if not mime.hasFormat(ENTRIES_MIME):
        return []
    try:
        ids = json.loads(bytes(mime.data(ENTRIES_MIME).data()))
    except ValueError:
        return []
    return [entry_id for entry_id in ids if isinstance(entry_id, str)] if isinstance(ids, list) else []


def placements(order: list[str], moved: list[str], drop_row: int) -> list[tuple[str, int]]:
    """The single moves that put ``moved`` (in this order) where a drop at ``drop_row`` of ``order`` lands them.

    ``drop_row`` counts rows before the dragged ones are taken out. Each pair is (entry id, final index at the
    time that move applies), the contract of ``PlaylistSync.move``.
    """
    moving = [entry_id for entry_id in moved if entry_id in order]
    anchor = next((entry_id for entry_id in order[max(drop_row, 0):] if entry_id not in moving), None)
    current = list(order)
    result: list[tuple[str, int]] = []
    for entry_id in moving:
        current.remove(entry_id)
        if result:
            position = current.index(result[-1][0]) + 1
        else:
            position = current.index(anchor) if anchor is not None else len(current)
        current.insert(position, entry_id)
        result.append((entry_id, position))
    return result


class PlaylistEntriesModel(ColumnsModel):
    """One playlist's entries: #, title, artist, time. ID_ROLE gives the entry id, RECORD_ROLE the track record.

    Signals:
        move_requested(str, int): move this entry so it ends at this index.
        add_requested(list, int): add these track records at this index.
    """

    COLUMNS = ("#", "Title", "Artist", "Time")

    move_requested = Signal(str, int)
    add_requested = Signal(list, int)

    def __init__(self) -> None:
        super().__init__()
        self._entries: list[Entry] = []
        self._tracks: dict[int, Track] = {}
        self.editable = True

    @property
    def entries(self) -> list[Entry]:
        return list(self._entries)

    def set_entries(self, entries: list[Entry], tracks: dict[int, Track]) -> None:
        """Show these entries; ``tracks`` maps track ids to records (a missing one shows as loading)."""
        self.beginResetModel()
        self._entries = list(entries)
        self._tracks = tracks
        self.endResetModel()

    def tracks_resolved(self) -> None:
        """Records arrived for some of the shown tracks: repaint the rows."""
        if self._entries:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._entries) - 1, len(self.COLUMNS) - 1))

    def track(self, row: int) -> Track | None:
        return self._tracks.get(self._entries[row].track_id)

    def row_count(self) -> int:
        return len(self._entries)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        entry = self._entries[index.row()]
        track = self._tracks.get(entry.track_id)
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if track is None:
                return (str(index.row() + 1), f"Track {entry.track_id} (loading…)", "", "")[column]
            return (str(index.row() + 1), track.title, track.artist, format_duration(track.duration_s))[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"Added by {entry.added_by}"
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (0, 3):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == ID_ROLE:
            return entry.entry_id
        if role == RECORD_ROLE:
            return track
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        drop = Qt.ItemFlag.ItemIsDropEnabled if self.editable else Qt.ItemFlag.NoItemFlags
        if not index.isValid():
            return drop
        drag = Qt.ItemFlag.ItemIsDragEnabled if self.editable else Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | drag | drop

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction | Qt.DropAction.CopyAction

    def mimeTypes(self) -> list[str]:
        return [ENTRIES_MIME, TRACKS_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        rows = sorted({index.row() for index in indexes if index.isValid()})
        mime = track_mime([track for row in rows if (track := self.track(row)) is not None])
        mime.setData(ENTRIES_MIME, QByteArray(json.dumps([self._entries[row].entry_id for row in rows]).encode()))
        return mime

    def canDropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index) -> bool:
        return self.editable and (data.hasFormat(ENTRIES_MIME) or data.hasFormat(TRACKS_MIME))

    def dropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index) -> bool:
        if not self.canDropMimeData(data, action, row, column, parent):
            return False
        target = row if row >= 0 else (parent.row() if parent.isValid() else len(self._entries))
        order = [entry.entry_id for entry in self._entries]
        moves = placements(order, _entry_ids_from_mime(data), target)
        if moves:
            for entry_id, to_index in moves:
                self.move_requested.emit(entry_id, to_index)
        elif tracks := tracks_from_mime(data):
            self.add_requested.emit(tracks, target)
        # Never True: the view would then remove the dragged rows itself; the page refreshes from sync instead.
        return False
