"""The track table used wherever tracks are listed: sortable, multi-select, keyboard and context-menu driven.

It only says what the user asked for (signals); the window decides what that means.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from PySide6.QtCore import QModelIndex, QPoint, QSortFilterProxyModel, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QShowEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QMenu, QTableView, QWidget

from client.catalog import Track
from client.listening import OTHER, PlayContext
from client.widgets.models import RECORD_ROLE, SORT_ROLE, TrackTableModel

_SETTLE_MS = 150  # a scroll or a new listing this long at rest is worth fetching metadata for
_SHOWN_AT_MOST = 100


def set_up_track_view(view: QTableView) -> None:
    """What every table of tracks shares: whole-row multi-select, no editing, a stretching title column."""
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setShowGrid(False)
    view.setWordWrap(False)  # a long name is cut with … (the model's tooltip has it whole), never wrapped
    view.setTextElideMode(Qt.TextElideMode.ElideRight)
    view.verticalHeader().hide()
    view.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
    view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)


class TrackTable(QTableView):
    """A table of tracks.

    Signals:
        play_requested(list, int): play these tracks (the whole listing) from this row on.
        play_next_requested(list): put the selected tracks next in the queue.
        queue_requested(list): add the selected tracks to the end of the queue.
        playlist_add_requested(list, str): add the selected tracks to the playlist with this id.
        download_requested(list): download the selected tracks' albums.
        album_requested(int): go to this album.
        artist_requested(int): go to this artist.
        like_toggled(object): like this Track, or unlike it when liked (its heart was clicked, or the menu asked).
        radio_requested(object): start this Track's radio.
        rows_shown(list): the tracks on screen now, once the listing or the scroll has settled (to fetch their
            metadata ahead of a click).

    ``context`` says where a play from this table comes from (its owner sets it as the listing changes).
    """

    play_requested = Signal(list, int)
    play_next_requested = Signal(list)
    queue_requested = Signal(list)
    playlist_add_requested = Signal(list, str)
    download_requested = Signal(list)
    album_requested = Signal(int)
    artist_requested = Signal(int)
    like_toggled = Signal(object)
    radio_requested = Signal(object)
    rows_shown = Signal(list)

    def __init__(self, object_name: str, accessible_name: str, context: PlayContext = OTHER,
                 model: TrackTableModel | None = None, parent: QWidget | None = None) -> None:
        """A table of ``model``'s tracks (a plain TrackTableModel when None) played as ``context``."""
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setAccessibleName(accessible_name)
        self.setToolTip(f"{accessible_name}: double-click or Enter plays; click a heart to like; right-click for more")
        self.context = context
        self.tracks = model if model is not None else TrackTableModel()
        self._proxy = QSortFilterProxyModel(self)
        self._proxy.setSourceModel(self.tracks)
        self._proxy.setSortRole(SORT_ROLE)
        self.setModel(self._proxy)
        self.setSortingEnabled(True)
        self.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        set_up_track_view(self)
        self.setDragEnabled(True)
        self.customContextMenuRequested.connect(self._on_context_menu_requested)
        self.doubleClicked.connect(self._on_double_clicked)
        self.clicked.connect(self._on_clicked)
        self.playlists: list[tuple[str, str]] = []  # (id, name) offered under "Add to playlist"
        play = QAction("Play", self)
        play.setShortcut(QKeySequence(Qt.Key.Key_Return))
        play.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        play.triggered.connect(self._play_current)
        self.addAction(play)
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(_SETTLE_MS)
        self._settle.timeout.connect(self._on_settled)
        self.verticalScrollBar().valueChanged.connect(lambda _value: self._settle.start())

    def set_tracks(self, tracks: Sequence[Track]) -> None:
        self.tracks.set_tracks(tracks)
        self.resizeColumnToContents(0)
        self._settle.start()

    def shown_tracks(self) -> list[Track]:
        """The tracks in the rows on screen (the first _SHOWN_AT_MOST when the table is not laid out yet)."""
        rows = self._proxy.rowCount()
        first = max(0, self.rowAt(0))
        last = self.rowAt(self.viewport().height() - 1)
        stop = min(rows, first + _SHOWN_AT_MOST) if last < 0 else last + 1
        return [self._proxy.index(row, 0).data(RECORD_ROLE) for row in range(first, stop)]

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._settle.start()

    def _on_settled(self) -> None:
        if self.isVisible() and self._proxy.rowCount():
            self.rows_shown.emit(self.shown_tracks())

    def visible_tracks(self) -> list[Track]:
        """The tracks in the order shown (after sorting)."""
        return [self._proxy.index(row, 0).data(RECORD_ROLE) for row in range(self._proxy.rowCount())]

    def selected_tracks(self) -> list[Track]:
        rows = sorted(index.row() for index in self.selectionModel().selectedRows())
        return [self._proxy.index(row, 0).data(RECORD_ROLE) for row in rows]

    def _play_current(self) -> None:
        if self.currentIndex().isValid():
            self._on_double_clicked(self.currentIndex())

    def _on_double_clicked(self, index: QModelIndex) -> None:
        if index.column() != TrackTableModel.LIKED_COLUMN:
            self.play_requested.emit(self.visible_tracks(), index.row())

    def _on_clicked(self, index: QModelIndex) -> None:
        if index.column() == TrackTableModel.LIKED_COLUMN:
            self.like_toggled.emit(index.data(RECORD_ROLE))

    def context_menu(self) -> QMenu:
        """The menu for the current selection (built fresh: playlists may have changed)."""
        selected = self.selected_tracks()
        menu = QMenu(self)
        menu.setObjectName("trackContextMenu")
        first = selected[0] if selected else None
        rows = sorted(index.row() for index in self.selectionModel().selectedRows())
        menu.addAction("Play", lambda: self.play_requested.emit(self.visible_tracks(), rows[0] if rows else 0))
        menu.addAction("Play next", lambda: self.play_next_requested.emit(selected))
        menu.addAction("Add to queue", lambda: self.queue_requested.emit(selected))
        playlists = menu.addMenu("Add to playlist")
        playlists.setObjectName("addToPlaylistMenu")
        for playlist_id, name in self.playlists:
            playlists.addAction(name, functools.partial(self.playlist_add_requested.emit, selected, playlist_id))
        playlists.setEnabled(bool(self.playlists))
        menu.addAction("Download", lambda: self.download_requested.emit(selected))
        menu.addSeparator()
        if first is not None:
            menu.addAction("Remove from Liked Songs" if self.tracks.is_liked(first.id) else "Like",
                           lambda: self.like_toggled.emit(first))
            menu.addAction("Go to track radio", lambda: self.radio_requested.emit(first))
            menu.addAction("Go to album", lambda: self.album_requested.emit(first.album_id))
            menu.addAction("Go to artist", lambda: self.artist_requested.emit(first.artist_id))
        for action in menu.actions():
            action.setEnabled(action.isEnabled() and bool(selected))
        return menu

    def _on_context_menu_requested(self, pos: QPoint) -> None:
        self.context_menu().popup(self.viewport().mapToGlobal(pos))
