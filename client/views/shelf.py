"""What Your library lists, as plain rows: each liked song, saved album, followed artist and playlist with what it
shows and what it sorts by, and the filter and sort over them. No Qt here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from client.catalog import FollowedArtist, SavedAlbum, Track
from client.playlists import PlaylistInfo
from client.settings import LIBRARY_SECTIONS
from client.settings import LibrarySection as Section
from client.settings import LibrarySort as Sort
from client.widgets.words import count

SECTIONS = LIBRARY_SECTIONS
TITLES: dict[Section, str] = {"liked": "Liked Songs", "albums": "Albums", "artists": "Artists",
                              "playlists": "Playlists"}
# The orders each section offers, by their names there (a playlist's "artist" is its owner).
SORTS: dict[Section, dict[Sort, str]] = {
    "liked": {"recent": "Recently added", "title": "Alphabetical", "artist": "Artist"},
    "albums": {"recent": "Recently added", "title": "Alphabetical", "artist": "Artist"},
    "artists": {"recent": "Recently added", "title": "Alphabetical"},
    "playlists": {"recent": "Recently added", "title": "Alphabetical", "artist": "Owner"},
}
EMPTY: dict[Section, str] = {
    "liked": "Give a track a ♡ (in any track list or the now-playing bar) and it shows here",
    "albums": "Save an album with ♡ Save on its page and it shows here",
    "artists": "Follow an artist with Follow on their page and they show here",
    "playlists": "Make a playlist on the Playlists page, or follow one shared with you, and it shows here",
}


@dataclass(frozen=True)
class Row:
    """One row of Your library: what it shows, what it sorts by, and which album's cover it wears (if any)."""

    key: str  # the track's, album's or artist's id, or the playlist's
    title: str
    artist: str  # a playlist's owner
    detail: str
    added: str  # sorts newest last: an ISO 8601 instant, or a rank where the server gives no instant
    cover_album_id: int | None = None
    album: str = ""  # the title of that album (its placeholder until the cover arrives)
    has_cover: bool = True


def liked_rows(tracks: Sequence[Track]) -> list[Row]:
    """The liked songs, ``tracks`` newest like first."""
    return [Row(str(track.id), track.title, track.artist, track.album, f"{len(tracks) - rank:09d}", track.album_id,
                track.album) for rank, track in enumerate(tracks)]


def album_rows(albums: Sequence[SavedAlbum]) -> list[Row]:
    return [Row(str(album.id), album.title, album.artist,
                " · ".join(part for part in (album.artist, str(album.year or ""), count(album.track_count, "track"))
                           if part), album.added_at, album.id, album.title, album.has_cover) for album in albums]


def artist_rows(artists: Sequence[FollowedArtist]) -> list[Row]:
    return [Row(str(artist.id), artist.name, artist.name, count(artist.album_count, "album"), artist.added_at)
            for artist in artists]


def playlist_rows(playlists: Sequence[PlaylistInfo], user: str) -> list[Row]:
    """``playlists`` in the order this device learnt of them, each labelled yours or shared with you (and how)."""
    rows = []
    for rank, info in enumerate(playlists):
        if info.owner == user:
            whose = "Yours"
        elif info.role == "collaborator":
            whose = f"Shared with you by {info.owner} · you can edit it"
        else:
            whose = f"Shared with you by {info.owner}"
        rows.append(Row(info.playlist_id, info.name or "Untitled playlist", info.owner,
                        f"{whose} · {count(info.entry_count, 'track')}", f"{rank:09d}"))
    return rows


def arrange(rows: Sequence[Row], text: str, sort: Sort) -> list[Row]:
    """The rows whose title or artist holds every word of ``text`` (any case), in ``sort`` order."""
    words = text.casefold().split()
    kept = [row for row in rows if all(word in f"{row.title} {row.artist}".casefold() for word in words)]
    if sort == "recent":
        return sorted(kept, key=lambda row: row.added, reverse=True)
    if sort == "title":
        return sorted(kept, key=lambda row: (row.title.casefold(), row.artist.casefold(), row.key))
    return sorted(kept, key=lambda row: (row.artist.casefold(), row.title.casefold(), row.key))
