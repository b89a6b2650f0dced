"""Home: Discover Weekly, the albums to jump back into and what is popular right now."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget

from client.catalog import Album, Track
from client.listening import PlayContext
from client.recommendations import DiscoverWeeklyCard
from client.views.library import AlbumGrid
from client.widgets.cover_cache import CoverCache
from client.widgets.theme import heading
from client.widgets.track_table import TrackTable

POPULAR_TRACKS = 20
DISCOVER_WEEKLY_PX = 240
POPULAR_PX = 240


def _section(title: str) -> QLabel:
    label = QLabel(title)
    return heading(label, "section")


class HomePage(QWidget):
    """Greeting, Discover Weekly (made for ``user_name``), an album grid and the most popular tracks."""

    def __init__(self, covers: CoverCache, user_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("homePage")
        self.greeting = QLabel("Good listening")
        heading(self.greeting, "page")
        self.discover_weekly = DiscoverWeeklyCard(user_name)
        self.albums = AlbumGrid("homeAlbumGrid", covers)
        self.albums.setFixedHeight(220)
        self.popular = TrackTable("popularTrackTable", "Popular tracks", PlayContext("library", "popular"))
        self.discover_weekly.setMinimumHeight(DISCOVER_WEEKLY_PX)
        self.popular.setMinimumHeight(POPULAR_PX)
        content = QWidget()
        layout = QVBoxLayout(content)
        self._layout = layout
        layout.addWidget(self.greeting)
        layout.addWidget(self.discover_weekly, 1)
        layout.addWidget(_section("Albums"))
        layout.addWidget(self.albums)
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

    def show_welcome(self, welcome: QWidget) -> None:
        """Put the first-run welcome above everything else on Home."""
        self._layout.insertWidget(0, welcome)

    def show_catalog(self, albums: list[Album], tracks: list[Track]) -> None:
        self.albums.albums.set_albums(albums)
        ranked = sorted(tracks, key=lambda t: t.popularity, reverse=True)
        self.popular.set_tracks(ranked[:POPULAR_TRACKS])
