"""Qt item models that adapt the server's album and track records (and the play queue) for the views."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QAbstractTableModel,
    QByteArray,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)

from client import catalog
from client.catalog import Album, Track
from client.release_jitter import release_instant, utc_now
from client.widgets.cover_cache import CoverCache
from client.widgets.words import count

ID_ROLE = Qt.ItemDataRole.UserRole + 1
RECORD_ROLE = Qt.ItemDataRole.UserRole + 2
SORT_ROLE = Qt.ItemDataRole.UserRole + 3
TRACKS_MIME = "application/x-legato-tracks"
HEART, NO_HEART = "♥", "♡"
Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
log = logging.getLogger(__name__)


def format_duration(seconds: float) -> str:
    whole = max(int(seconds), 0)
    return f"{whole // 60}:{whole % 60:02d}"


def track_mime(tracks: Sequence[Track]) -> QMimeData:
    """What a drag of these tracks carries: their full records, in the API's JSON, so a drop needs no look-up."""
    mime = QMimeData()
    mime.setData(TRACKS_MIME, QByteArray(json.dumps([dataclasses.asdict(track) for track in tracks]).encode()))
    return mime


def tracks_from_mime(mime: QMimeData) -> list[Track]:
    """The track records a drag carries, parsed as the API's are ([] when it carries none, or a malformed one)."""
    if not mime.hasFormat(TRACKS_MIME):
        return []
    try:
        tracks = json.loads(bytes(mime.data(TRACKS_MIME).data()))
        if not isinstance(tracks, list):
            raise catalog.MalformedRecord(f"a drag of tracks carries a {type(tracks).__name__}, not a list")
        return [catalog.track(track) for track in tracks]
    except ValueError as exc:  # MalformedRecord is one
        log.warning("ignored a drop of tracks: %s", exc)
        return []


class AlbumListModel(QAbstractListModel):
    """Albums with their covers, "Title" over "Artist · year" (or "Coming <date>" before a scheduled release, or a
    caption of the caller's); ID_ROLE gives the album id."""

    COVER_PX = 140

    def __init__(self, covers: CoverCache) -> None:
        """Albums with real covers from ``covers`` (placeholders until each arrives)."""
        super().__init__()
        self._albums: list[Album] = []
        self._captions: list[tuple[str, str]] = []
        self._covers = covers
        covers.cover_ready.connect(self._on_covers_cover_ready)

    @property
    def albums(self) -> list[Album]:
        return list(self._albums)

    def set_albums(self, albums: Sequence[Album], captions: Sequence[tuple[str, str]] = ()) -> None:
        """Show ``albums``; ``captions`` (title, second line), one per album, replace their own words. The same
        albums in the same words again change nothing (a view re-read often, like Home, is not laid out anew)."""
        shown = list(albums)
        words = list(captions) or [(album.title, _byline(album)) for album in shown]
        if shown == self._albums and words == self._captions:
            return
        self.beginResetModel()
        self._albums, self._captions = shown, words
        self.endResetModel()

    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._albums)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        album = self._albums[index.row()]
        title, byline = self._captions[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{title}\n{byline}"
        if role == Qt.ItemDataRole.DecorationRole:
            return self._covers.pixmap(album.id, album.title, album.artist, self.COVER_PX, has_cover=album.has_cover)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{album.title} — {album.artist} ({album.year}), {count(album.track_count, 'track')}"
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{title}, {byline}"
        if role == ID_ROLE:
            return album.id
        if role == RECORD_ROLE:
            return album
        return None

    def _on_covers_cover_ready(self, album_id: int) -> None:
        for row, album in enumerate(self._albums):
            if album.id == album_id:
                index = self.index(row)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


def _byline(album: Album) -> str:
    instant = release_instant(album.release_at)
    if instant is not None and instant > utc_now():
        return f"Coming {instant.astimezone():%a %d %b %Y}"
    return f"{album.artist} · {album.year}"


class ColumnsModel(QAbstractTableModel):
    """A flat table whose header is ``COLUMNS`` and whose rows are ``row_count()``."""

    COLUMNS: tuple[str, ...] = ()

    def row_count(self) -> int:
        raise NotImplementedError

    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else self.row_count()

    def columnCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None


class TrackTableModel(ColumnsModel):
    """Tracks: number, title, artist, album, time, popularity, liked (a heart); sortable through SORT_ROLE."""

    COLUMNS: tuple[str, ...] = ("#", "Title", "Artist", "Album", "Time", "Popularity", "Liked")
    LIKED_COLUMN = 6

    def __init__(self) -> None:
        super().__init__()
        self._tracks: list[Track] = []
        self._liked: frozenset[int] = frozenset()

    def is_liked(self, track_id: int) -> bool:
        return track_id in self._liked

    def set_liked(self, track_ids: frozenset[int]) -> None:
        """Show these tracks' hearts filled (the user's likes), the others' empty."""
        if track_ids != self._liked:
            self._liked = track_ids
            if self._tracks:
                column = self.LIKED_COLUMN
                self.dataChanged.emit(self.index(0, column), self.index(len(self._tracks) - 1, column))

    @property
    def tracks(self) -> list[Track]:
        return list(self._tracks)

    def set_tracks(self, tracks: Sequence[Track]) -> None:
        self.beginResetModel()
        self._tracks = list(tracks)
        self.endResetModel()

    def row_count(self) -> int:
        return len(self._tracks)

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsDragEnabled if index.isValid() else base

    def mimeTypes(self) -> list[str]:
        return [TRACKS_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        return track_mime([self._tracks[row] for row in sorted({i.row() for i in indexes if i.isValid()})])

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        track = self._tracks[index.row()]
        column = index.column()
        if column == self.LIKED_COLUMN:
            return self._heart(track, role)
        if role == Qt.ItemDataRole.DisplayRole:
            return (track.track_no, track.title, track.artist, track.album, format_duration(track.duration_s),
                    f"{track.popularity}")[column]
        if role == SORT_ROLE:
            return (track.track_no, track.title.casefold(), track.artist.casefold(), track.album.casefold(),
                    track.duration_s, track.popularity)[column]
        if role == Qt.ItemDataRole.ToolTipRole and column in (1, 2, 3):  # the whole of a name the column cuts
            return (track.title, track.artist, track.album)[column - 1]
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (0, 4, 5):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == ID_ROLE:
            return track.id
        if role == RECORD_ROLE:
            return track
        return None

    def _heart(self, track: Track, role: int) -> Any:
        liked = track.id in self._liked
        if role == Qt.ItemDataRole.DisplayRole:
            return HEART if liked else NO_HEART
        if role == SORT_ROLE:
            return int(liked)
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            return "Liked: click to remove from Liked Songs" if liked else "Not liked: click to like"
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignCenter)
        if role == ID_ROLE:
            return track.id
        if role == RECORD_ROLE:
            return track
        return None
