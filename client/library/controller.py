"""The saved albums and followed artists of the signed-in user, read from and changed on the server off the UI thread.

Widget-less; every request runs on the thread pool and its answer comes back through this object's signals.
"""

from __future__ import annotations

from typing import Any, Protocol

from PySide6.QtCore import QObject, Signal

from client import catalog
from client.catalog import Album, ArtistSummary, FollowedArtist, SavedAlbum
from client.tasks import TaskRunner


class LibraryApi(Protocol):
    def saved_albums(self) -> list[dict[str, Any]]: ...
    def save_album(self, album_id: int, saved: bool = True) -> None: ...
    def followed_artists(self) -> list[dict[str, Any]]: ...
    def follow_artist(self, artist_id: int, followed: bool = True) -> None: ...


class SavedLibrary(QObject):
    """What the user saved and follows, as the server last told it (newest first); ``load`` reads it again.

    Signals:
        changed(): ``albums``, ``artists`` or ``loaded`` changed (a load finished, or a save or follow was confirmed).
        failed(str): a message fit for the user.
    """

    changed = Signal()
    failed = Signal(str)

    def __init__(self, api: LibraryApi, run_task: TaskRunner) -> None:
        super().__init__()
        self._api = api
        self._run_task = run_task
        self.albums: list[SavedAlbum] = []
        self.artists: list[FollowedArtist] = []
        self.loaded = False
        self._reads = 0  # loads started so far: only the latest one's answer is shown

    def is_saved(self, album_id: int) -> bool:
        return any(album.id == album_id for album in self.albums)

    def is_followed(self, artist_id: int) -> bool:
        return any(artist.id == artist_id for artist in self.artists)

    def load(self) -> None:
        """Read the saved albums and followed artists from the server, off the UI thread."""
        self._reads += 1
        reads, api = self._reads, self._api
        self._run_task(lambda: ([catalog.saved_album(raw) for raw in api.saved_albums()],
                                [catalog.followed_artist(raw) for raw in api.followed_artists()]),
                       lambda answer: self._on_loaded(reads, answer),
                       lambda message: self.failed.emit(f"Cannot read your library: {message}"))

    def set_saved(self, album: Album, saved: bool) -> None:
        """Save ``album`` to the library or take it out; shown once the server confirmed it."""
        api = self._api
        self._run_task(lambda: api.save_album(album.id, saved), lambda _none: self.load(),
                       lambda message: self.failed.emit(f"Cannot {'save' if saved else 'remove'} “{album.title}”: "
                                                        f"{message}"))

    def set_followed(self, artist: ArtistSummary, followed: bool) -> None:
        """Follow ``artist`` or stop; shown once the server confirmed it."""
        api = self._api
        self._run_task(lambda: api.follow_artist(artist.id, followed), lambda _none: self.load(),
                       lambda message: self.failed.emit(f"Cannot {'follow' if followed else 'unfollow'} "
                                                        f"{artist.name}: {message}"))

    def _on_loaded(self, reads: int, answer: tuple[list[SavedAlbum], list[FollowedArtist]]) -> None:
        if reads != self._reads:
            return  # a later load is under way: its answer has what this one missed
        self.albums, self.artists = answer
        self.loaded = True
        self.changed.emit()
