"""Home's rows of cards: what ``GET /me/home`` answers (parsed once here) and the titled horizontal row each is
shown in, with a plain word in place of the cards while they load, when there are none, or when the server is gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QFrame, QLabel, QListView, QVBoxLayout, QWidget

from client import catalog
from client.catalog import Album
from client.views.library import AlbumGrid
from client.widgets.controls import named
from client.widgets.cover_cache import CoverCache
from client.widgets.theme import heading
from client.widgets.words import count

ROW_PX = 214  # one row of cards and room for a horizontal scroll bar


@dataclass(frozen=True, slots=True)
class TopArtist:
    """An artist the user heard most lately, shown with the cover of their album heard most."""

    artist_id: int
    name: str
    plays: int
    album: Album


@dataclass(frozen=True, slots=True)
class HomeRows:
    recently_played: tuple[Album, ...]
    jump_back_in: tuple[tuple[Album, int], ...]  # each album and how many of its tracks were heard
    top_artists: tuple[TopArtist, ...]
    new_releases: tuple[Album, ...]
    region: str
    popular_in_region: tuple[Album, ...]

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> HomeRows:
        parsed: dict[int, Album] = {}  # the same album often shows in several rows: parse it once

        def album(record: Any) -> Album:
            album_id = record.get("id") if isinstance(record, dict) else None
            if not isinstance(album_id, int) or album_id not in parsed:
                found = catalog.album(record)
                parsed[found.id] = found
                return found
            return parsed[album_id]

        return cls(tuple(album(a) for a in raw["recently_played"]),
                   tuple((album(row["album"]), int(row["tracks_heard"])) for row in raw["jump_back_in"]),
                   tuple(TopArtist(int(a["artist_id"]), str(a["name"]), int(a["plays"]), album(a["album"]))
                         for a in raw["top_artists"]),
                   tuple(album(a) for a in raw["new_releases"]), str(raw["region"]),
                   tuple(album(a) for a in raw["popular_in_region"]))


class ArtistGrid(AlbumGrid):
    """Artists as cards (the cover of their album heard most, their name, their plays); opening one opens the
    artist, its play button plays that album. Signals: artist_opened(int artist id)."""

    artist_opened = Signal(int)

    def __init__(self, object_name: str, covers: CoverCache, parent: QWidget | None = None) -> None:
        super().__init__(object_name, covers, parent)
        self.setAccessibleName("Artists")
        self.setToolTip("Artists: double-click or Enter opens one; Ctrl+Enter or the play button on a hovered "
                        "cover plays their album you heard most")
        self.artists: tuple[TopArtist, ...] = ()

    def set_artists(self, artists: tuple[TopArtist, ...]) -> None:
        self.artists = artists
        self.albums.set_albums([artist.album for artist in artists],
                               [(artist.name, count(artist.plays, "play")) for artist in artists])

    def _on_activated(self, index: QModelIndex) -> None:
        self.artist_opened.emit(self.artists[index.row()].artist_id)


def as_strip(grid: AlbumGrid) -> AlbumGrid:
    """Lay ``grid``'s cards out in one row that scrolls sideways."""
    grid.setFlow(QListView.Flow.LeftToRight)
    grid.setWrapping(False)
    grid.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    grid.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    grid.setFixedHeight(ROW_PX)
    grid.setFrameShape(QFrame.Shape.NoFrame)
    grid.viewport().setAutoFillBackground(False)  # cards on the page itself, not on a box of their own
    return grid


class CardRow(QWidget):
    """A titled row of cards, or the word ``status`` says in their place."""

    def __init__(self, name: str, title: str, grid: AlbumGrid, empty: str, parent: QWidget | None = None) -> None:
        """A row named ``name`` (``<name>Row``, ``<name>Status``), showing ``empty`` when it has no cards."""
        super().__init__(parent)
        self.setObjectName(f"{name}Row")
        self.title = heading(named(QLabel(title), f"{name}Title", title), "section")
        self.status = named(QLabel("Loading…"), f"{name}Status", f"{title}: status")
        self.status.setWordWrap(True)
        self.grid = as_strip(grid)
        self.grid.hide()
        self._empty = empty
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.status)
        layout.addWidget(self.grid)

    def set_title(self, title: str) -> None:
        self.title.setText(title)

    def show_albums(self, albums: tuple[Album, ...], captions: list[tuple[str, str]] | None = None) -> None:
        self.grid.albums.set_albums(albums, captions or ())
        self._show_cards(bool(albums))

    def show_artists(self, artists: tuple[TopArtist, ...]) -> None:
        assert isinstance(self.grid, ArtistGrid)
        self.grid.set_artists(artists)
        self._show_cards(bool(artists))

    def show_problem(self, message: str) -> None:
        self.status.setText(f"Cannot be shown right now: {message}. It is read again when you come back to Home.")
        self.status.show()
        self.grid.hide()

    def _show_cards(self, any_cards: bool) -> None:
        self.status.setText("" if any_cards else self._empty)
        self.status.setVisible(not any_cards)
        self.grid.setVisible(any_cards)
