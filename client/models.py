"""Qt item models that adapt the server's album and track records for the views."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractListModel, QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

ID_ROLE = Qt.ItemDataRole.UserRole + 1
Index = QModelIndex | QPersistentModelIndex


def format_duration(seconds: float) -> str:
    whole = max(int(seconds), 0)
    return f"{whole // 60}:{whole % 60:02d}"


class AlbumListModel(QAbstractListModel):
    """Albums as "Title — Artist (year)"; ID_ROLE gives the album id."""

    def __init__(self) -> None:
        super().__init__()
        self._albums: list[dict[str, Any]] = []

    def set_albums(self, albums: list[dict[str, Any]]) -> None:
        self.beginResetModel()
        self._albums = list(albums)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._albums)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        album = self._albums[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{album['title']} — {album['artist']} ({album['year']})"
        if role == ID_ROLE:
            return album["id"]
        return None


class TrackTableModel(QAbstractTableModel):
    """An album's tracks: number, title, artist, duration; ID_ROLE gives the track id."""

    COLUMNS = ("#", "Title", "Artist", "Time")

    def __init__(self) -> None:
        super().__init__()
        self._tracks: list[dict[str, Any]] = []

    @property
    def tracks(self) -> list[dict[str, Any]]:
        return list(self._tracks)

    def set_tracks(self, tracks: list[dict[str, Any]]) -> None:
        self.beginResetModel()
        self._tracks = list(tracks)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._tracks)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        track = self._tracks[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return (track["track_no"], track["title"], track["artist"],
                    format_duration(track["duration_s"]))[index.column()]
        if role == ID_ROLE:
            return track["id"]
        return None
