"""Search as you type: the top result, songs, albums and artists from the server's search under headers, the matched
words in bold, debounced, stale answers dropped, and a word for the user when there is nothing to show.

It shows what the server found and matched; it never ranks or matches anything itself.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from client.catalog import SearchResults
from client.views.library import AlbumGrid
from client.views.search_marks import HighlightDelegate, Spans, marked_html
from client.widgets.controls import named
from client.widgets.cover_cache import CoverCache
from client.widgets.models import RECORD_ROLE
from client.widgets.theme import heading
from client.widgets.track_table import TrackTable
from client.widgets.words import count

# A query costs the server a few milliseconds now: wait only long enough not to ask for every keystroke of a fast
# typist (about 10 a second), so results follow the typing.
DEBOUNCE_MS = 100
PROMPT = "Search for songs, albums and artists by name: a word or two is enough, and typos are forgiven."
_TITLE_COLUMN, _ARTIST_COLUMN = 1, 2
Search = Callable[[str], SearchResults]
Runner = Callable[[Callable[[], Any], Callable[[Any], None], Callable[[str], None]], None]


class SearchPage(QWidget):
    """A search field over the top result and three sections (songs, albums, artists), each under its header.

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
        self.results = SearchResults(tracks=(), albums=(), artists=(), top=None, highlights=())
        self.field = named(QLineEdit(), "searchEdit", "Search", "Search tracks, albums and artists (Ctrl+F)")
        self.field.setPlaceholderText("What do you want to listen to?")
        self.field.setClearButtonEnabled(True)
        self.summary = named(QLabel(PROMPT), "searchSummary", "Search summary")
        self.top = named(QLabel(), "searchTopResult", "Top result", "The best match: click its name to open it")
        self.top.setTextFormat(Qt.TextFormat.RichText)
        self.tracks = TrackTable("searchTrackTable", "Tracks found")
        self.albums = AlbumGrid("searchAlbumGrid", covers)
        self.artists = named(QListWidget(), "searchArtistList", "Artists found",
                             "Artists found: double-click or Enter opens one")
        highlight = HighlightDelegate(self._track_spans, self.tracks)
        self.tracks.setItemDelegateForColumn(_TITLE_COLUMN, highlight)
        self.tracks.setItemDelegateForColumn(_ARTIST_COLUMN, highlight)
        self.artists.setItemDelegate(HighlightDelegate(self._artist_spans, self.artists))
        self.headers = {name: named(QLabel(name), f"search{name}Header", name)
                        for name in ("Songs", "Albums", "Artists")}
        for header in self.headers.values():
            heading(header, "section")
        self._sections: dict[str, QWidget] = {}
        # Plain layouts, not splitters: a section with nothing in it is hidden, and one shown again gets its space.
        lower = QHBoxLayout()
        lower.addWidget(self._section("Albums", self.albums), 1)
        lower.addWidget(self._section("Artists", self.artists), 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.field)
        layout.addWidget(self.summary)
        layout.addWidget(self.top)
        layout.addWidget(self._section("Songs", self.tracks), 3)
        layout.addLayout(lower, 2)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self._on_debounce_timeout)
        self.field.textChanged.connect(self._on_field_text_changed)
        self.artists.itemActivated.connect(self._on_artists_item_activated)
        self.top.linkActivated.connect(self._on_top_link_activated)
        self._show_sections()

    def _section(self, name: str, body: QWidget) -> QWidget:
        section = QWidget()
        section.setObjectName(f"search{name}Section")
        layout = QVBoxLayout(section)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.headers[name])
        layout.addWidget(body, 1)
        self._sections[name] = section
        return section

    def _on_field_text_changed(self, _text: str) -> None:
        self._debounce.start()

    def _on_debounce_timeout(self) -> None:
        query = self.field.text().strip()
        self._latest += 1
        ticket = self._latest
        if not query:
            self._show(ticket, query, SearchResults(tracks=(), albums=(), artists=(), top=None, highlights=()))
            return
        search = self._search
        self._run(lambda: search(query), lambda result: self._show(ticket, query, result), self.failed.emit)

    def _show(self, ticket: int, query: str, result: SearchResults) -> None:
        if ticket != self._latest:
            return  # a newer query was typed while this one was on its way
        self.results = result
        self.tracks.set_tracks(result.tracks)
        self.albums.albums.set_albums(result.albums)
        self.artists.clear()
        for artist in result.artists:
            item = QListWidgetItem(artist.name)
            item.setData(Qt.ItemDataRole.UserRole, artist.id)
            self.artists.addItem(item)
        counts = (len(result.tracks), len(result.albums), len(result.artists))
        if not query:
            self.summary.setText(PROMPT)
        elif counts == (0, 0, 0):
            self.summary.setText(f"Nothing found for “{query}”. Check the spelling, try fewer words, or search for "
                                 "an artist's or an album's name instead.")
        else:
            self.summary.setText(" · ".join(count(n, noun) for n, noun in zip(counts, ("song", "album", "artist"),
                                                                           strict=True) if n))
        self.top.setText(self._top_html())
        self._show_sections()
        self.results_shown.emit(query)

    def _show_sections(self) -> None:
        self.top.setVisible(self.results.top is not None)
        for name, found in (("Songs", self.results.tracks), ("Albums", self.results.albums),
                            ("Artists", self.results.artists)):
            self._sections[name].setVisible(bool(found))

    def _top_html(self) -> str:
        top = self.results.top
        if top is None:
            return ""
        if top.kind == "artist":
            artist = next(a for a in self.results.artists if a.id == top.id)
            name, credit = marked_html(artist.name, self.results.spans("artist", top.id, "name")), "Artist"
        elif top.kind == "album":
            album = next(a for a in self.results.albums if a.id == top.id)
            name = marked_html(album.title, self.results.spans("album", top.id, "title"))
            credit = f"Album · {html.escape(album.artist)}"
        else:
            track = next(t for t in self.results.tracks if t.id == top.id)
            name = marked_html(track.title, self.results.spans("track", top.id, "title"))
            credit = f"Song · {html.escape(track.artist)}"
        return (f"<h3>Top result</h3><a href='{top.kind}:{top.id}' style='font-size: x-large; "
                f"text-decoration: none'>{name}</a><br>{credit}")

    def _on_top_link_activated(self, link: str) -> None:
        kind, _, record_id = link.partition(":")
        if kind == "artist":
            self.artist_opened.emit(int(record_id))
        elif kind == "album":
            self.albums.album_opened.emit(int(record_id))
        else:
            shown = self.tracks.visible_tracks()
            self.tracks.play_requested.emit(shown, [t.id for t in shown].index(int(record_id)))

    def _track_spans(self, index: QModelIndex | QPersistentModelIndex) -> Spans:
        track = index.data(RECORD_ROLE)
        name = "title" if index.column() == _TITLE_COLUMN else "artist"
        return self.results.spans("track", track.id, name) if track is not None else []

    def _artist_spans(self, index: QModelIndex | QPersistentModelIndex) -> Spans:
        return self.results.spans("artist", int(index.data(Qt.ItemDataRole.UserRole)), "name")

    def _on_artists_item_activated(self, item: QListWidgetItem) -> None:
        self.artist_opened.emit(int(item.data(Qt.ItemDataRole.UserRole)))

    def focus_field(self) -> None:
        self.field.setFocus()
        self.field.selectAll()
