"""The Playlists page: the user's playlists (new, rename, delete, share) and the chosen one's entries.

Local edits go straight to the sync core; anything that needs the server runs on the thread pool, never here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QModelIndex, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from client.catalog import Track
from client.playlists.controller import PlaylistsController
from client.playlists.model import PlaylistEntriesModel
from client.playlists.records import (
    DetachedPlaylist,
    PlaylistChange,
    PlaylistInfo,
    ReadOnlyPlaylist,
    UnknownPlaylist,
)
from client.tasks import run_task
from client.widgets.controls import named
from client.widgets.models import ID_ROLE
from client.widgets.theme import heading
from client.widgets.track_table import set_up_track_view
from client.widgets.words import count
from offline import TrackRef
from sync import SyncError

ResolveTracks = Callable[[list[int]], list[Track]]
RunTask = Callable[[Callable[[], Any], Callable[[Any], None], Callable[[str], None]], None]
_EDIT_ERRORS = (ReadOnlyPlaylist, UnknownPlaylist, DetachedPlaylist, SyncError)


class PlaylistsPage(QWidget):
    """Playlists on the left, the selected one's entries on the right; collaborators' edits show as they arrive.

    Signals:
        play_requested(list, int): play these track records from this index.
        playlist_shown(str, str, list): the playlist on view (id, name, its tracks as offline.TrackRef) whenever
            its tracks change.
        playlists_changed(list): the editable playlists as (id, name), for "Add to playlist" menus.
        error_occurred(str): a message fit for the user.
        radio_requested(object): start this Track's radio (from an entry's menu).
    """

    play_requested = Signal(list, int)
    radio_requested = Signal(object)
    playlists_changed = Signal(list)
    playlist_shown = Signal(str, str, list)
    error_occurred = Signal(str)

    def __init__(self, playlists: PlaylistsController, resolve_tracks: ResolveTracks | None,
                 run: RunTask = run_task, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("playlistsPage")
        self._controller = playlists
        self._sync = playlists.sync
        self._resolve = resolve_tracks
        self._run = run
        self._tracks: dict[int, Track] = {}
        self._resolving: set[int] = set()
        self._offered: list[tuple[str, str]] | None = None
        self._dirty = False
        self._last_shown: tuple[str, str, tuple[int, ...]] | None = None
        self.current_id: str | None = None

        self.playlist_list = named(QListWidget(), "playlistList", "Playlists", "Your playlists and shared ones")
        self.name_edit = named(QLineEdit(), "playlistNameEdit", "Playlist name",
                               "Name for a new playlist, or the new name of the selected one")
        self.name_edit.setPlaceholderText("Playlist name")
        self.new_button = named(QPushButton("New"), "newPlaylistButton", "New playlist",
                                "Create a playlist with the name above")
        self.rename_button = named(QPushButton("Rename"), "renamePlaylistButton", "Rename playlist",
                                   "Give the selected playlist the name above")
        self.delete_button = named(QPushButton("Delete"), "deletePlaylistButton", "Delete playlist",
                                   "Delete the selected playlist everywhere (or stop following it)")
        self.share_edit = named(QLineEdit(), "shareUserEdit", "Collaborator's user name",
                                "User name of the person to invite")
        self.share_edit.setPlaceholderText("User name")
        self.share_button = named(QPushButton("Share"), "sharePlaylistButton", "Share playlist",
                                  "Invite this user to edit the selected playlist")
        self.title = heading(named(QLabel(), "playlistTitle", "Playlist title"), "page")
        self.status = named(QLabel(), "playlistStatusLabel", "Playlist status")
        self.entries = PlaylistEntriesModel()
        self.table = self._make_table()
        self.setLayout(self._make_layout())

        self.playlist_list.currentItemChanged.connect(self._on_playlist_list_current_item_changed)
        self.new_button.clicked.connect(self._on_new_button_clicked)
        self.rename_button.clicked.connect(self._on_rename_button_clicked)
        self.delete_button.clicked.connect(self._on_delete_button_clicked)
        self.share_button.clicked.connect(self._on_share_button_clicked)
        self.share_edit.returnPressed.connect(self._on_share_button_clicked)
        self.entries.move_requested.connect(self._on_entries_move_requested)
        self.entries.add_requested.connect(self._on_entries_add_requested)
        playlists.changed.connect(self._on_playlists_changed, Qt.ConnectionType.QueuedConnection)
        playlists.failed.connect(self._on_playlists_failed, Qt.ConnectionType.QueuedConnection)
        self._refresh()

    # -- what the window and tests call ---------------------------------------------------------------

    def select(self, playlist_id: str) -> None:
        for row in range(self.playlist_list.count()):
            if self.playlist_list.item(row).data(ID_ROLE) == playlist_id:
                self.playlist_list.setCurrentRow(row)
                return

    def add_tracks(self, playlist_id: str, tracks: list[Track], index: int | None = None) -> None:
        """Add these track records (in order) at ``index``, or at the end."""
        self._tracks.update({track.id: track for track in tracks})
        try:
            for offset, track in enumerate(tracks):
                self._sync.add(playlist_id, track.id, None if index is None else index + offset)
        except _EDIT_ERRORS as exc:
            self.error_occurred.emit(f"Cannot add to the playlist: {exc}")

    def remove_selected(self) -> None:
        if self.current_id is None:
            return
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        ids = [self.entries.entries[row].entry_id for row in rows]
        try:
            for entry_id in ids:
                self._sync.remove(self.current_id, entry_id)
        except _EDIT_ERRORS as exc:
            self.error_occurred.emit(f"Cannot remove from the playlist: {exc}")

    def context_menu(self) -> QMenu:
        menu = QMenu(self)
        menu.setObjectName("playlistEntryMenu")
        selected = bool(self.table.selectionModel().selectedRows())
        play = menu.addAction("Play", self._play_current)
        remove = menu.addAction("Remove from playlist", self.remove_selected)
        radio = menu.addAction("Go to track radio", self._radio_current)
        play.setEnabled(selected)
        radio.setEnabled(selected and self._current_track() is not None)
        remove.setEnabled(selected and self.entries.editable)
        return menu

    # -- building -------------------------------------------------------------------------------------

    def _make_table(self) -> QTableView:
        table: QTableView = named(QTableView(), "playlistTrackTable", "Playlist tracks",
                      "Drag to reorder or drop tracks here; double-click plays; Delete removes")
        table.setModel(self.entries)
        set_up_track_view(table)
        table.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        table.setDefaultDropAction(Qt.DropAction.MoveAction)
        table.setDragDropOverwriteMode(False)
        table.setDropIndicatorShown(True)
        table.customContextMenuRequested.connect(self._on_table_context_menu_requested)
        table.doubleClicked.connect(self._on_table_double_clicked)
        for key, slot in ((Qt.Key.Key_Delete, self.remove_selected), (Qt.Key.Key_Return, self._play_current)):
            action = QAction(self)
            action.setShortcut(QKeySequence(key))
            action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            action.triggered.connect(slot)
            table.addAction(action)
        return table

    def _make_layout(self) -> QHBoxLayout:
        edit_row = QHBoxLayout()
        for button in (self.new_button, self.rename_button, self.delete_button):
            edit_row.addWidget(button)
        share_row = QHBoxLayout()
        share_row.addWidget(self.share_edit, 1)
        share_row.addWidget(self.share_button)
        left = QVBoxLayout()
        left.addWidget(self.playlist_list, 1)
        left.addWidget(self.name_edit)
        left.addLayout(edit_row)
        left.addLayout(share_row)
        right = QVBoxLayout()
        right.addWidget(self.title)
        self.status_row = QHBoxLayout()
        self.status_row.addWidget(self.status, 1)
        right.addLayout(self.status_row)
        right.addWidget(self.table, 1)
        splitter = QSplitter()
        for column in (left, right):
            holder = QWidget()
            holder.setLayout(column)
            splitter.addWidget(holder)
        splitter.setStretchFactor(1, 3)
        layout = QHBoxLayout()
        layout.addWidget(splitter)
        return layout

    # -- refreshing from the sync core ----------------------------------------------------------------

    def _refresh(self) -> None:
        self._dirty = False
        if self._controller.closed:
            return
        infos = sorted(self._sync.playlists(), key=lambda info: (info.name.casefold(), info.playlist_id))
        self._show_list(infos)
        current = next((info for info in infos if info.playlist_id == self.current_id), None)
        self._show_playlist(current)
        offered = [(info.playlist_id, info.name) for info in infos if info.role != "follower"]
        if offered != self._offered:
            self._offered = offered
            self.playlists_changed.emit(offered)

    def _show_list(self, infos: list[PlaylistInfo]) -> None:
        self.playlist_list.blockSignals(True)
        self.playlist_list.clear()
        for info in infos:
            item = QListWidgetItem(info.name or "Untitled playlist")
            item.setData(ID_ROLE, info.playlist_id)
            owner = "yours" if info.owner == self._sync.user else f"{info.role}, owned by {info.owner}"
            item.setToolTip(f"{count(info.entry_count, 'track')} · {owner}")
            self.playlist_list.addItem(item)
            if info.playlist_id == self.current_id:
                self.playlist_list.setCurrentItem(item)
        self.playlist_list.blockSignals(False)

    def _show_playlist(self, info: PlaylistInfo | None) -> None:
        if info is None:
            self.current_id = None
            self.title.setText("")
            self.status.setText("Choose a playlist, or name a new one and press New")
            self.entries.set_entries([], self._tracks)
            self._enable_editing(False)
            return
        selected = {index.data(ID_ROLE) for index in self.table.selectionModel().selectedRows()}
        state = self._sync.state(info.playlist_id)
        editable = info.role != "follower"
        self.entries.editable = editable
        self.entries.set_entries(list(state.entries), self._tracks)
        self._reselect(selected)
        self.title.setText(state.name or "Untitled playlist")
        waiting = f" · {info.unpushed_edits} edits waiting to sync" if info.unpushed_edits else ""
        access = "" if editable else " · read-only: you follow it"
        if info.detached:
            editable = self.entries.editable = False
            waiting = (f" · gone from the server; your {info.unpushed_edits} unsynced edits are kept on this "
                       "device (Delete discards them)")
        self.status.setText(f"{count(len(state.entries), 'track')} · by {info.owner}{access}{waiting}")
        self._enable_editing(editable, owner=info.role == "owner" and not info.detached)
        self._resolve_missing([entry.track_id for entry in state.entries])
        shown = (info.playlist_id, state.name, tuple(entry.track_id for entry in state.entries))
        if shown != self._last_shown:
            self._last_shown = shown
            known = self._tracks
            tracks = [TrackRef(track_id, known[track_id].title if track_id in known else f"track {track_id}")
                      for track_id in shown[2]]
            self.playlist_shown.emit(info.playlist_id, state.name or "Untitled playlist", tracks)

    def _reselect(self, entry_ids: set[str]) -> None:
        selection = self.table.selectionModel()
        for row, entry in enumerate(self.entries.entries):
            if entry.entry_id in entry_ids:
                selection.select(self.entries.index(row, 0), selection.SelectionFlag.Select
                                 | selection.SelectionFlag.Rows)

    def _enable_editing(self, editable: bool, owner: bool = False) -> None:
        has_playlist = self.current_id is not None
        self.rename_button.setEnabled(editable)
        self.delete_button.setEnabled(has_playlist)
        self.share_button.setEnabled(owner)
        self.share_edit.setEnabled(owner)

    def _resolve_missing(self, track_ids: list[int]) -> None:
        missing = sorted({track_id for track_id in track_ids} - self._tracks.keys() - self._resolving)
        if not missing or self._resolve is None:
            return
        resolve = self._resolve
        self._resolving.update(missing)

        def done(tracks: list[Track]) -> None:
            self._resolving.difference_update(missing)
            self._tracks.update({track.id: track for track in tracks})
            self.entries.tracks_resolved()

        def failed(message: str) -> None:
            self._resolving.difference_update(missing)
            self.error_occurred.emit(f"Cannot show some playlist tracks: {message}")

        self._run(lambda: resolve(missing), done, failed)

    def _refresh_soon(self) -> None:
        """Coalesce a burst of changes (an album added, a pull of many updates) into one refresh."""
        if not self._dirty and not self._controller.closed:
            self._dirty = True
            QTimer.singleShot(0, self, self._refresh)

    # -- slots ----------------------------------------------------------------------------------------

    def _on_playlists_changed(self, change: PlaylistChange) -> None:
        self._refresh_soon()

    def _on_playlists_failed(self, playlist_id: str, message: str) -> None:
        self.error_occurred.emit(f"Playlist sync: {message}")

    def _on_playlist_list_current_item_changed(self, item: QListWidgetItem | None, _previous: Any) -> None:
        self.current_id = None if item is None else str(item.data(ID_ROLE))
        self.table.clearSelection()
        self._refresh()

    def _on_new_button_clicked(self) -> None:
        name = self.name_edit.text().strip() or "New playlist"
        try:
            playlist_id = self._sync.create(name)
        except _EDIT_ERRORS as exc:
            self.error_occurred.emit(f"Cannot create the playlist: {exc}")
            return
        self.current_id = playlist_id
        self.name_edit.clear()
        self._refresh()

    def _on_rename_button_clicked(self) -> None:
        name = self.name_edit.text().strip()
        if self.current_id is None or not name:
            self.error_occurred.emit("Choose a playlist and type its new name first")
            return
        try:
            self._sync.rename(self.current_id, name)
        except _EDIT_ERRORS as exc:
            self.error_occurred.emit(f"Cannot rename the playlist: {exc}")
            return
        self.name_edit.clear()

    def _on_delete_button_clicked(self) -> None:
        if self.current_id is None:
            return
        playlist_id, sync = self.current_id, self._sync
        self.delete_button.setEnabled(False)
        self._run(lambda: sync.delete(playlist_id), lambda _: self._refresh(),
                  lambda message: self._on_server_failed("Cannot delete the playlist", message))

    def _on_share_button_clicked(self) -> None:
        user = self.share_edit.text().strip()
        if self.current_id is None or not user:
            self.error_occurred.emit("Choose a playlist and type the user name to invite first")
            return
        playlist_id, sync = self.current_id, self._sync
        self.share_button.setEnabled(False)

        def done(_: object) -> None:
            self.share_edit.clear()
            self.status.setText(f"{user} can now edit this playlist")
            self.share_button.setEnabled(True)

        self._run(lambda: sync.invite(playlist_id, user), done,
                  lambda message: self._on_server_failed(f"Cannot share with {user}", message))

    def _on_server_failed(self, what: str, message: str) -> None:
        self.error_occurred.emit(f"{what}: {message}")
        self._refresh()

    def _on_entries_move_requested(self, entry_id: str, to_index: int) -> None:
        if self.current_id is None:
            return
        try:
            self._sync.move(self.current_id, entry_id, to_index)
        except _EDIT_ERRORS as exc:
            self.error_occurred.emit(f"Cannot move the track: {exc}")

    def _on_entries_add_requested(self, tracks: list[Track], index: int) -> None:
        if self.current_id is not None:
            self.add_tracks(self.current_id, tracks, index)

    def _on_table_double_clicked(self, index: QModelIndex) -> None:
        self._play_from(index.row())

    def _on_table_context_menu_requested(self, pos: QPoint) -> None:
        self.context_menu().popup(self.table.viewport().mapToGlobal(pos))

    def _current_track(self) -> Track | None:
        index = self.table.currentIndex()
        return self.entries.track(index.row()) if index.isValid() else None

    def _radio_current(self) -> None:
        if (track := self._current_track()) is not None:
            self.radio_requested.emit(track)

    def _play_current(self) -> None:
        if self.table.currentIndex().isValid():
            self._play_from(self.table.currentIndex().row())

    def _play_from(self, row: int) -> None:
        """Play the loaded tracks from this entry (one still loading is skipped, not played as nothing)."""
        tracks = [track for r in range(self.entries.rowCount()) if (track := self.entries.track(r)) is not None]
        start = sum(1 for r in range(row) if self.entries.track(r) is not None)
        if tracks:
            self.play_requested.emit(tracks, min(start, len(tracks) - 1))
