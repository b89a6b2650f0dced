"""Home: a greeting, Discover Weekly, rows of cards made from the user's listening (recently played, jump back in,
top artists), new releases, what is popular in their region, and the most popular tracks. Rows load off the UI
thread each time Home is shown."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget

from client.catalog import Track
from client.listening import PlayContext
from client.recommendations import DiscoverWeeklyCard
from client.views.home_rows import ArtistGrid, CardRow, HomeRows
from client.views.library import AlbumGrid
from client.widgets.cover_cache import CoverCache
from client.widgets.theme import heading
from client.widgets.track_table import TrackTable

POPULAR_TRACKS = 20
DISCOVER_WEEKLY_PX = 240
POPULAR_PX = 240
RunTask = Callable[[Callable[[], Any], Callable[[Any], None], Callable[[str], None]], None]


def _section(title: str) -> QLabel:
    label = QLabel(title)
    return heading(label, "section")


class HomePage(QWidget):
    """Greeting, Discover Weekly (made for ``user_name``), the rows ``load_rows`` reads (run by ``run_task``) and
    the most popular tracks. ``albums`` is the New releases grid.

    Signals: rows_shown(): every row shows what the last load found (or why it could not).
    """

    rows_shown = Signal()

    def __init__(self, covers: CoverCache, user_name: str, run_task: RunTask, load_rows: Callable[[], HomeRows],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("homePage")
        self._run_task = run_task
        self._load_rows = load_rows
        self._loading = False
        self.rows: HomeRows | None = None  # what the rows show, once all of them show it
        self._fills: list[Callable[[], None]] = []  # the rows of a load still to fill
        self.greeting = QLabel("Good listening")
        heading(self.greeting, "page")
        self.discover_weekly = DiscoverWeeklyCard(user_name)
        self.recently_played = CardRow("recentlyPlayed", "Recently played", AlbumGrid("recentlyPlayedGrid", covers),
                                       "Nothing played yet: play something and it shows here.")
        self.jump_back_in = CardRow("jumpBackIn", "Jump back in", AlbumGrid("jumpBackInGrid", covers),
                                    "No album left half-heard: the ones you stop part-way through show here.")
        self.artist_grid = ArtistGrid("topArtistsGrid", covers)
        self.top_artists = CardRow("topArtists", "Your top artists", self.artist_grid,
                                   "No top artists yet: the artists you play most this month show here.")
        self.albums = AlbumGrid("homeAlbumGrid", covers)
        self.new_releases = CardRow("newReleases", "New releases", self.albums,
                                    "No new releases in the catalog right now.")
        self.popular_in_region = CardRow("popularInRegion", "Popular in your region",
                                         AlbumGrid("popularInRegionGrid", covers),
                                         "Nothing licensed in your region is popular yet.")
        self.popular = TrackTable("popularTrackTable", "Popular tracks", PlayContext("library", "popular"))
        self.discover_weekly.setMinimumHeight(DISCOVER_WEEKLY_PX)
        self.popular.setMinimumHeight(POPULAR_PX)
        content = QWidget()
        layout = QVBoxLayout(content)
        self._layout = layout
        layout.addWidget(self.greeting)
        layout.addWidget(self.discover_weekly, 1)
        for row in self.card_rows():
            layout.addWidget(row)
        layout.addWidget(_section("Popular right now"))
        layout.addWidget(self.popular, 1)
        # Home holds more than a small window shows: it scrolls rather than make the window's minimum taller.
        scroll = QScrollArea()
        scroll.setObjectName("homeScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

    def card_rows(self) -> list[CardRow]:
        return [self.recently_played, self.jump_back_in, self.top_artists, self.new_releases, self.popular_in_region]

    def grids(self) -> list[AlbumGrid]:
        """Every grid of cards on Home (each opens and plays albums; the top artists' also opens artists)."""
        return [row.grid for row in self.card_rows()]

    def show_welcome(self, welcome: QWidget) -> None:
        """Put the first-run welcome above everything else on Home."""
        self._layout.insertWidget(0, welcome)

    def show_catalog(self, tracks: list[Track]) -> None:
        ranked = sorted(tracks, key=lambda t: t.popularity, reverse=True)
        self.popular.set_tracks(ranked[:POPULAR_TRACKS])

    def refresh(self) -> None:
        """Read the rows again off the UI thread (unless a read is under way), then show them."""
        if not self._loading:
            self._loading = True
            self._run_task(self._load_rows, self._on_rows_loaded, self._on_rows_failed)

    def showEvent(self, event: Any) -> None:
        self.refresh()
        super().showEvent(event)

    def _on_rows_loaded(self, rows: HomeRows) -> None:
        # One row per turn of the event loop: each changed row is laid out and painted before the next is filled,
        # so no single turn holds the loop for all of them. ``rows`` is set once every row shows its cards.
        self._fills = [lambda: self.recently_played.show_albums(rows.recently_played),
                       lambda: self.jump_back_in.show_albums(
                           tuple(album for album, _ in rows.jump_back_in),
                           [(album.title, f"{heard} of {album.track_count} tracks heard")
                            for album, heard in rows.jump_back_in]),
                       lambda: self.top_artists.show_artists(rows.top_artists),
                       lambda: self.new_releases.show_albums(rows.new_releases),
                       lambda: self.popular_in_region.set_title(f"Popular in your region ({rows.region})"),
                       lambda: self.popular_in_region.show_albums(rows.popular_in_region)]
        self._fill_next_row(rows)

    def _fill_next_row(self, rows: HomeRows) -> None:
        if self._fills:
            self._fills.pop(0)()
            QTimer.singleShot(0, self, lambda: self._fill_next_row(rows))
            return
        self._loading = False
        self.rows = rows
        self.rows_shown.emit()

    def _on_rows_failed(self, message: str) -> None:
        self._loading = False
        self._fills = []
        for row in self.card_rows():
            row.show_problem(message)
        self.rows_shown.emit()
