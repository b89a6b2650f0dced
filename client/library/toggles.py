"""The album page's "Save" and the artist page's "Follow": switches over SavedLibrary, showing what the server holds."""

from __future__ import annotations

from PySide6.QtWidgets import QPushButton, QWidget

from client.catalog import Album, ArtistSummary
from client.library.controller import SavedLibrary
from client.widgets.controls import named
from client.widgets.icons import icon


class _LibrarySwitch(QPushButton):
    """A checkable button that is checked while the library holds the thing shown; a click asks the server and the
    button follows once the library says it changed."""

    def __init__(self, library: SavedLibrary, texts: tuple[str, str], parent: QWidget | None) -> None:
        super().__init__(texts[0], parent)
        self._library = library
        self._texts = texts
        self._shown: int | None = None
        self.setCheckable(True)
        self.setEnabled(False)
        library.changed.connect(self._on_library_changed)
        self.clicked.connect(self._on_clicked)

    def _show_id(self, thing_id: int) -> None:
        self._shown = thing_id
        self.setEnabled(True)
        self._on_library_changed()

    def _holds(self, thing_id: int) -> bool:
        raise NotImplementedError

    def _ask(self, on: bool) -> None:
        raise NotImplementedError

    def _on_library_changed(self) -> None:
        held = self._shown is not None and self._holds(self._shown)
        self.setChecked(held)
        self.setText(self._texts[held])

    def _on_clicked(self, checked: bool) -> None:
        self.setChecked(not checked)  # shown as asked only once the server has it
        if self._shown is not None:
            self._ask(checked)


class SaveButton(_LibrarySwitch):
    """"♡ Save" on an album's page: the album joins Your library (or leaves it)."""

    def __init__(self, library: SavedLibrary, parent: QWidget | None = None) -> None:
        super().__init__(library, ("Save", "Saved"), parent)
        named(self, "saveAlbumButton", "Save the album to your library")
        self.setIcon(icon("heart", "heart-fill"))
        self._album: Album | None = None

    def show_album(self, album: Album) -> None:
        self._album = album
        self._show_id(album.id)

    def _holds(self, thing_id: int) -> bool:
        return self._library.is_saved(thing_id)

    def _ask(self, on: bool) -> None:
        if self._album is not None:
            self._library.set_saved(self._album, on)


class FollowButton(_LibrarySwitch):
    """"Follow" on an artist's page: the artist joins Your library (or leaves it)."""

    def __init__(self, library: SavedLibrary, parent: QWidget | None = None) -> None:
        super().__init__(library, ("Follow", "Following"), parent)
        named(self, "followArtistButton", "Follow the artist: they show in your library")
        self.setIcon(icon("user", "user-circle"))
        self._artist: ArtistSummary | None = None

    def show_artist(self, artist: ArtistSummary) -> None:
        self._artist = artist
        self._show_id(artist.id)

    def _holds(self, thing_id: int) -> bool:
        return self._library.is_followed(thing_id)

    def _ask(self, on: bool) -> None:
        if self._artist is not None:
            self._library.set_followed(self._artist, on)
