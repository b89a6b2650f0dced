"""The catalog's records as the server's API sends them: one declaration of each, used by every part of client/.

They are the JSON objects themselves (TypedDicts), so mypy checks every field a view or controller reads; the
functions below check a record's fields once, where it arrives from the API. Nothing here fetches or changes one.
"""

from __future__ import annotations

from typing import Any, TypedDict, TypeVar, cast, get_type_hints


class Track(TypedDict):
    """A track as ``/tracks``, ``/albums/{id}`` and ``/search`` send it."""

    id: int
    title: str
    artist_id: int
    artist: str
    album_id: int
    album: str
    disc_no: int
    track_no: int
    duration_s: float
    duration_samples: int
    sample_rate: int
    popularity: int
    loudness_lufs: float | None
    peak_dbfs: float | None


class Album(TypedDict):
    """An album's summary, as ``/albums`` and ``/search`` send it."""

    id: int
    title: str
    artist_id: int
    artist: str
    year: int
    track_count: int
    duration_s: float
    gapless: bool
    has_cover: bool


class AlbumWithTracks(Album):
    """An album with its tracks in disc and track order, as ``/albums/{id}`` sends it."""

    tracks: list[Track]


class ArtistSummary(TypedDict):
    """An artist as ``/search`` sends it."""

    id: int
    name: str


class Artist(ArtistSummary):
    """An artist with their albums, as ``/artists/{id}`` sends it."""

    albums: list[Album]


class SearchResults(TypedDict):
    """What ``/search`` finds, best first in each list."""

    tracks: list[Track]
    albums: list[Album]
    artists: list[ArtistSummary]


_R = TypeVar("_R", Track, Album, AlbumWithTracks, ArtistSummary, Artist, SearchResults)


# Every field of each record is required (the server always sends them all).
_RECORDS = (Track, Album, AlbumWithTracks, ArtistSummary, Artist, SearchResults)
_FIELDS: dict[type, frozenset[str]] = {kind: frozenset(get_type_hints(kind)) for kind in _RECORDS}


class MalformedRecord(ValueError):
    """The server sent a record without a field Legato needs: a server of another version, or a broken one."""


def _checked(raw: Any, kind: type[_R]) -> _R:
    if not isinstance(raw, dict):
        raise MalformedRecord(f"the server sent a {type(raw).__name__}, not an object, "
                              f"for a record of type {kind.__name__}")
    missing = sorted(_FIELDS[kind] - raw.keys())
    if missing:
        raise MalformedRecord(f"the server sent a {kind.__name__} record without {', '.join(missing)}: "
                              "is it a Legato server of the same version?")
    return cast(_R, raw)


def track(raw: Any) -> Track:
    """The API's JSON for a track, checked to hold every field of a Track."""
    return _checked(raw, Track)


def album(raw: Any) -> Album:
    return _checked(raw, Album)


def album_with_tracks(raw: Any) -> AlbumWithTracks:
    checked = _checked(raw, AlbumWithTracks)
    for each in checked["tracks"]:
        track(each)
    return checked


def artist(raw: Any) -> Artist:
    checked = _checked(raw, Artist)
    for each in checked["albums"]:
        album(each)
    return checked


def search_results(raw: Any) -> SearchResults:
    checked = _checked(raw, SearchResults)
    for each_track in checked["tracks"]:
        track(each_track)
    for each_album in checked["albums"]:
        album(each_album)
    for each_artist in checked["artists"]:
        _checked(each_artist, ArtistSummary)
    return checked
