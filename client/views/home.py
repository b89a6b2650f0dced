"""Home: Discover Weekly, the albums to jump back into and what is popular right now."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from client.catalog import Album, Track
from client.listening import PlayContext
from client.recommendations import DiscoverWeeklyCard
from client.views.library import AlbumGrid
from client.widgets.cover_cache import CoverCache
from client.widgets.track_table import TrackTable

POPULAR_TRACKS = 20


class HomePage(QWidget):
    """Greeting, Discover Weekly (made for ``user_name``), an album grid and the most popular tracks."""

    def __init__(self, covers: CoverCache, user_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("homePage")
        self.greeting = QLabel("<h2>Good listening</h2>")
        self.discover_weekly = DiscoverWeeklyCard(user_name)
        self.albums = AlbumGrid("homeAlbumGrid", covers)
        self.albums.setFixedHeight(220)
        self.popular = TrackTable("popularTrackTable", "Popular tracks", PlayContext("library", "popular"))
        layout = QVBoxLayout(self)
        layout.addWidget(self.greeting)
        layout.addWidget(self.discover_weekly, 1)
        layout.addWidget(QLabel("<b>Albums</b>"))
        layout.addWidget(self.albums)
        layout.addWidget(QLabel("<b>Popular right now</b>"))
        layout.addWidget(self.popular, 1)

    def show_catalog(self, albums: list[Album], tracks: list[Track]) -> None:
        self.albums.albums.set_albums(albums)
        ranked = sorted(tracks, key=lambda t: t.popularity, reverse=True)
        self.popular.set_tracks(ranked[:POPULAR_TRACKS])
