"""Search as you type: tracks, albums and artists from the server's search, debounced, stale answers dropped."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from client.catalog import SearchResults
from client.views.library import AlbumGrid
from client.widgets.controls import named
from client.widgets.cover_cache import CoverCache
from client.widgets.track_table import TrackTable

DEBOUNCE_MS = 250
Search = Callable[[str], SearchResults]
Runner = Callable[[Callable[[], Any], Callable[[Any], None], Callable[[str], None]], None]


class SearchPage(QWidget):
    """A search field over three result sections.

    Signals:
        results_shown(str): the query whose results are now on screen.
        artist_opened(int): an artist was chosen.
        failed(str): a search could not be run (message for the user).
    """

    results_shown = Signal(str)
    artist_opened = Signal(int)
    failed = Signal(str)

    def __init__(self, run: Runner, search: Search, covers: CoverCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("searchPage")
        self._run = run
        self._search = search
        self._latest = 0
        self.field = named(QLineEdit(), "searchEdit", "Search", "Search tracks, albums and artists (Ctrl+F)")
        self.field.setPlaceholderText("What do you want to listen to?")
        self.field.setClearButtonEnabled(True)
        self.summary = named(QLabel(""), "searchSummary", "Search summary")
        self.tracks = TrackTable("searchTrackTable", "Tracks found")
        self.albums = AlbumGrid("searchAlbumGrid", covers)
        self.artists = named(QListWidget(), "searchArtistList", "Artists found",
                             "Artists found: double-click or Enter opens one")
        lower = QSplitter()
        lower.addWidget(self.albums)
        lower.addWidget(self.artists)
        sections = QSplitter(Qt.Orientation.Vertical)
        sections.addWidget(self.tracks)
        sections.addWidget(lower)
        layout = QVBoxLayout(self)
        layout.addWidget(self.field)
        layout.addWidget(self.summary)
        layout.addWidget(sections, 1)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self._on_debounce_timeout)
        self.field.textChanged.connect(self._on_field_text_changed)
        self.artists.itemActivated.connect(self._on_artists_item_activated)

    def _on_field_text_changed(self, _text: str) -> None:
        self._debounce.start()

    def _on_debounce_timeout(self) -> None:
        query = self.field.text().strip()
        self._latest += 1
        ticket = self._latest
        if not query:
            self._show(ticket, query, SearchResults(tracks=(), albums=(), artists=()))
            return
        search = self._search
        self._run(lambda: search(query), lambda result: self._show(ticket, query, result), self.failed.emit)

    def _show(self, ticket: int, query: str, result: SearchResults) -> None:
        if ticket != self._latest:
            return  # a newer query was typed while this one was on its way
        self.tracks.set_tracks(result.tracks)
        self.albums.albums.set_albums(result.albums)
        self.artists.clear()
        for artist in result.artists:
            item = QListWidgetItem(artist.name)
            item.setData(Qt.ItemDataRole.UserRole, artist.id)
            self.artists.addItem(item)
        counts = (len(result.tracks), len(result.albums), len(result.artists))
        self.summary.setText(f"{counts[0]} tracks, {counts[1]} albums, {counts[2]} artists" if query else "")
        self.results_shown.emit(query)

    def _on_artists_item_activated(self, item: QListWidgetItem) -> None:
        self.artist_opened.emit(int(item.data(Qt.ItemDataRole.UserRole)))

    def focus_field(self) -> None:
        self.field.setFocus()
        self.field.selectAll()
