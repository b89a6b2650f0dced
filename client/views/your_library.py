"""Your library: Liked Songs, saved albums, followed artists and playlists (yours and shared with you), filtered as
you type and sorted as chosen per section; the Liked Songs, each album and each playlist downloadable.

Thin: the lists come from the history, SavedLibrary and the playlists' core; nothing here waits on the network.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QPoint, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from client import catalog
from client.downloads import LIKED_PIN
from client.history import LIKED_CONTEXT
from client.library import SavedLibrary
from client.session import Session
from client.settings import LibrarySection as Section
from client.settings import LibrarySort as Sort
from client.tasks import run_task
from client.views.shelf import (
    EMPTY,
    SECTIONS,
    SORTS,
    TITLES,
    Row,
    album_rows,
    arrange,
    artist_rows,
    liked_rows,
    playlist_rows,
)
from client.widgets.controls import named
from client.widgets.icons import icon
from client.widgets.theme import heading
from offline import PinKey, TrackRef

ICON_PX = 48
_KEY_ROLE = Qt.ItemDataRole.UserRole
_PLAYLISTS_SETTLE_MS = 50  # a burst of playlist changes (a pull of many updates) becomes one refresh


class YourLibraryPage(QWidget):
    """A tab per section over one filter box and one sort control; Enter or a double-click opens (or plays) an item.

    Signals:
        album_opened(int), artist_opened(int), playlist_opened(str): show that album, artist or playlist.
        browse_requested(): show every album of the catalog.
        sort_chosen(str section, str sort): the user chose a section's order (to remember it).
    """

    album_opened = Signal(int)
    artist_opened = Signal(int)
    playlist_opened = Signal(str)
    browse_requested = Signal()
    sort_chosen = Signal(str, str)

    def __init__(self, session: Session, saved: SavedLibrary, sorts: Mapping[str, str] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        named(self, "yourLibraryPage", "Your library", "")
        self._session, self._saved = session, saved
        self.sorts: dict[Section, Sort] = {section: _sort_of(section, (sorts or {}).get(section))
                                           for section in SECTIONS}
        self._rows: dict[Section, list[Row]] = {section: [] for section in SECTIONS}
        self.shown: dict[Section, list[Row]] = {section: [] for section in SECTIONS}
        self.filter = named(QLineEdit(), "yourLibraryFilter", "Filter your library by title or artist")
        self.filter.setPlaceholderText("Filter by title or artist")
        self.filter.setClearButtonEnabled(True)
        self.sort = named(QComboBox(), "yourLibrarySort", "Sort this section")
        self.browse_button = named(QPushButton("Browse all albums"), "browseAlbumsButton",
                                   "Browse every album of the catalog")
        self.tabs = named(QTabWidget(), "yourLibraryTabs", "Sections of your library", "")
        self.lists: dict[Section, QListWidget] = {}
        self.empty: dict[Section, QLabel] = {}
        for section in SECTIONS:
            self.tabs.addTab(self._make_section(section), TITLES[section])
        self.download_button = named(QPushButton("Download"), "yourLibraryDownloadButton",
                                     "Download for offline listening")
        self.download_button.setIcon(icon("download-simple"))
        self.download_state = named(QLabel(), "yourLibraryDownloadState", "Download state of the chosen item")
        self.download_state.setWordWrap(True)
        self._lay_out()
        self._playlists_timer = QTimer(self, singleShot=True, interval=_PLAYLISTS_SETTLE_MS)
        self._connect()
        self._on_tabs_current_changed(0)
        self._on_history_likes_changed()
        self._on_saved_changed()
        self._on_playlists_timer_timeout()

    @property
    def section(self) -> Section:
        return SECTIONS[self.tabs.currentIndex()]

    def show_section(self, section: Section) -> None:
        self.tabs.setCurrentIndex(SECTIONS.index(section))

    # -- building -------------------------------------------------------------------------------------

    def _make_section(self, section: Section) -> QWidget:
        name = section.capitalize()
        items = self.lists[section] = named(QListWidget(), f"yourLibrary{name}List", f"Your {TITLES[section]}",
                                            f"Your {TITLES[section]}: Enter or a double-click "
                                            f"{'plays' if section == 'liked' else 'opens'}")
        items.setIconSize(QSize(ICON_PX, ICON_PX))
        items.setFrameShape(QFrame.Shape.NoFrame)  # the tab's pane is its frame
        items.setSpacing(2)
        items.setUniformItemSizes(True)
        items.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        items.itemActivated.connect(lambda item: self._activate(section, item))
        items.currentItemChanged.connect(lambda *_: self._show_download_state())
        items.customContextMenuRequested.connect(lambda pos: self._menu(section, pos))
        empty = self.empty[section] = named(QLabel(), f"yourLibrary{name}Empty", f"Why {TITLES[section]} is empty")
        empty.setWordWrap(True)
        empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        holder = QWidget()
        layout = QVBoxLayout(holder)
        layout.addWidget(empty)
        layout.addWidget(items, 1)
        return holder

    def _lay_out(self) -> None:
        title = heading(QLabel("Your library"), "page")
        header = QHBoxLayout()
        header.addWidget(title)
        header.addStretch(1)
        header.addWidget(self.browse_button)
        tools = QHBoxLayout()
        tools.addWidget(self.filter, 1)
        tools.addWidget(self.sort)
        actions = QHBoxLayout()
        actions.addWidget(self.download_button)
        actions.addWidget(self.download_state, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addLayout(tools)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(actions)

    def _connect(self) -> None:
        session = self._session
        self.filter.textChanged.connect(self._on_filter_text_changed)
        self.sort.activated.connect(self._on_sort_activated)
        self.tabs.currentChanged.connect(self._on_tabs_current_changed)
        self.browse_button.clicked.connect(self.browse_requested)
        self.download_button.clicked.connect(self._on_download_button_clicked)
        session.history.likes_changed.connect(self._on_history_likes_changed)
        self._saved.changed.connect(self._on_saved_changed)
        session.playlists.changed.connect(lambda _change: self._playlists_timer.start())
        self._playlists_timer.timeout.connect(self._on_playlists_timer_timeout)
        session.covers.cover_ready.connect(self._on_covers_cover_ready)
        if session.downloads is not None:
            session.downloads.snapshot_changed.connect(lambda _snapshot: self._show_download_state())

    # -- showing --------------------------------------------------------------------------------------

    def _set_rows(self, section: Section, rows: list[Row]) -> None:
        self._rows[section] = rows
        self._show(section)

    def _show(self, section: Section) -> None:
        shown = self.shown[section] = arrange(self._rows[section], self.filter.text(), self.sorts[section])
        items = self.lists[section]
        items.clear()
        for row in shown:
            item = QListWidgetItem(self._icon(section, row), f"{row.title}\n{row.detail}")
            item.setData(_KEY_ROLE, row.key)
            item.setToolTip(f"{row.title} — {row.detail}")
            items.addItem(item)
        empty = self.empty[section]
        if not self._rows[section]:
            loading = section in ("albums", "artists") and not self._saved.loaded
            empty.setText("Loading your library…" if loading else EMPTY[section])
        else:
            empty.setText(f"Nothing in {TITLES[section]} matches “{self.filter.text()}”" if not shown else "")
        empty.setVisible(not shown)
        items.setVisible(bool(shown))
        count = f" · {len(self._rows[section])}" if self._rows[section] else ""
        self.tabs.setTabText(SECTIONS.index(section), TITLES[section] + count)
        self._show_download_state()

    def _icon(self, section: Section, row: Row) -> QIcon:
        if row.cover_album_id is None:
            return icon("user" if section == "artists" else "playlist")
        return QIcon(self._session.covers.pixmap(row.cover_album_id, row.album, row.artist, ICON_PX,
                                                 has_cover=row.has_cover))

    def _show_sorts(self) -> None:
        section = self.section
        self.sort.clear()
        for sort, name in SORTS[section].items():
            self.sort.addItem(name, sort)
        self.sort.setCurrentIndex(list(SORTS[section]).index(self.sorts[section]))

    # -- downloads ------------------------------------------------------------------------------------

    def _download_key(self) -> PinKey | None:
        """What the Download button acts on: the Liked Songs whole, or the chosen album, artist or playlist."""
        section = self.section
        if section == "liked":
            return LIKED_PIN if self._rows["liked"] else None
        row = self._current_row()
        if row is None:
            return None
        return PinKey("album" if section == "albums" else "artist" if section == "artists" else "playlist", row.key)

    def _current_row(self) -> Row | None:
        index = self.lists[self.section].currentRow()
        shown = self.shown[self.section]
        return shown[index] if 0 <= index < len(shown) else None

    def _show_download_state(self) -> None:
        downloads, key = self._session.downloads, self._download_key()
        section = self.section
        what = {"liked": "the Liked Songs", "albums": "the chosen album", "artists": "the chosen artist's albums"}.get(
            section, "the chosen playlist")
        if downloads is None:
            self.download_button.setEnabled(False)
            problem = self._session.store_problem or "there is no disk cache"
            self.download_state.setText(f"Downloads need the system keystore: {problem}. The Downloads page says "
                                        "how to set one up")
            return
        status = None if key is None else downloads.pin_status(key)
        self.download_button.setEnabled(key is not None)
        self.download_button.setText("Remove download" if status is not None else "Download")
        self.download_button.setAccessibleName(("Remove the download of " if status else "Download ") + what)
        if key is None:
            self.download_state.setText("" if section == "liked" else
                                        f"Choose {'an artist' if section == 'artists' else 'an album or playlist'} "
                                        "to download")
        else:
            self.download_state.setText("" if status is None else f"Download: {status.label}")
            self.download_state.setToolTip(status.error if status is not None and status.error
                                           else self.download_state.accessibleName())

    def _download(self, key: PinKey, title: str) -> None:
        """Start the download of an album, an artist, a playlist or the Liked Songs through the Downloads machinery."""
        downloads, session = self._session.downloads, self._session
        if downloads is None:
            return
        if key.kind == "album":
            downloads.pin_album(int(key.ident), title)
        elif key.kind == "artist":
            downloads.pin_artist(int(key.ident), title)
        elif key.kind == "liked":
            downloads.pin_liked([TrackRef(track.id, track.title) for track in session.history.liked_tracks()])
        else:
            api, ids = session.api, [entry.track_id for entry in session.playlists.sync.state(key.ident).entries]
            run_task(lambda: [TrackRef(i, catalog.track(api.track(i)).title) for i in ids],
                     lambda tracks: downloads.pin_playlist(key.ident, title, tracks),
                     lambda message: downloads.error_occurred.emit(f"could not download '{title}': {message}"))
        self.download_state.setText("Download: queued")

    def _on_download_button_clicked(self) -> None:
        key, downloads = self._download_key(), self._session.downloads
        if key is None or downloads is None:
            return
        if downloads.pin_status(key) is not None:
            downloads.unpin(key)
            return
        row = self._current_row()
        self._download(key, "Liked Songs" if key.kind == "liked" or row is None else row.title)

    # -- slots ----------------------------------------------------------------------------------------

    def _activate(self, section: Section, item: QListWidgetItem) -> None:
        key = str(item.data(_KEY_ROLE))
        if section == "liked":
            liked = {str(track.id): track for track in self._session.history.liked_tracks()}
            tracks = [liked[row.key] for row in self.shown["liked"] if row.key in liked]
            start = next((index for index, track in enumerate(tracks) if str(track.id) == key), 0)
            self._session.playback.play_context(tracks, start, LIKED_CONTEXT)
        elif section == "albums":
            self.album_opened.emit(int(key))
        elif section == "artists":
            self.artist_opened.emit(int(key))
        else:
            self.playlist_opened.emit(key)

    def _menu(self, section: Section, pos: QPoint) -> None:
        items = self.lists[section]
        item = items.itemAt(pos)
        if item is None:
            return
        items.setCurrentItem(item)
        menu = QMenu(self)
        menu.addAction("Play" if section == "liked" else "Open", lambda: self._activate(section, item))
        key = self._download_key()
        if key is not None and self._session.downloads is not None:
            menu.addAction(self.download_button.text(), self._on_download_button_clicked)
        menu.popup(items.viewport().mapToGlobal(pos))

    def _on_filter_text_changed(self, _text: str) -> None:
        for section in SECTIONS:
            self._show(section)

    def _on_sort_activated(self, index: int) -> None:
        section, sort = self.section, self.sort.itemData(index)
        self.sorts[section] = sort
        self._show(section)
        self.sort_chosen.emit(section, sort)

    def _on_tabs_current_changed(self, _index: int) -> None:
        self._show_sorts()
        self._show_download_state()

    def _on_history_likes_changed(self) -> None:
        liked = self._session.history.liked_tracks()
        self._set_rows("liked", liked_rows(liked))
        downloads = self._session.downloads
        if downloads is not None and downloads.pin_status(LIKED_PIN) is not None:
            downloads.pin_liked([TrackRef(track.id, track.title) for track in liked])  # the pin follows the hearts

    def _on_saved_changed(self) -> None:
        self._set_rows("albums", album_rows(self._saved.albums))
        self._set_rows("artists", artist_rows(self._saved.artists))

    def _on_playlists_timer_timeout(self) -> None:
        sync = self._session.playlists.sync
        if not self._session.playlists.closed:
            self._set_rows("playlists", playlist_rows(sync.playlists(), sync.user))

    def _on_covers_cover_ready(self, album_id: int) -> None:
        for section in ("liked", "albums"):
            items = self.lists[section]
            for index, row in enumerate(self.shown[section]):
                if row.cover_album_id == album_id:
                    items.item(index).setIcon(self._icon(section, row))


def _sort_of(section: Section, chosen: str | None) -> Sort:
    """The remembered order of ``section`` if it still offers it, else most recently added first."""
    return next((sort for sort in SORTS[section] if sort == chosen), "recent")
