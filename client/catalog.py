"""The catalog's records as the server's API sends them: one declaration of each, used by every part of client/.

They are frozen dataclasses, parsed once where the API's JSON arrives (the functions below), so nothing inside reads
a record by a string key; a record missing a field or holding one of the wrong type is refused there, the field named.
Nothing here fetches or changes one.
"""

from __future__ import annotations

import types
from dataclasses import dataclass, fields
from typing import Any, TypeVar, get_args, get_origin, get_type_hints


@dataclass(frozen=True, slots=True, kw_only=True)
class Track:
    """A track as ``/tracks``, ``/tracks/{id}``, ``/albums/{id}`` and ``/search`` send it."""

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


@dataclass(frozen=True, slots=True, kw_only=True)
class Album:
    """An album's summary, as ``/albums`` and ``/search`` send it."""

    id: int
    title: str
    artist_id: int
    artist: str
    year: int | None  # None: its tracks carried no release date
    track_count: int
    duration_s: float
    gapless: bool
    has_cover: bool
    release_at: str | None  # ISO 8601 UTC; None: no scheduled release (playable as soon as it is in the catalog)
    release_jitter_ms: int  # the bound of each client's random wait before its first call at the release


@dataclass(frozen=True, slots=True, kw_only=True)
class AlbumWithTracks(Album):
    """An album with its tracks in disc and track order, as ``/albums/{id}`` sends it."""

    tracks: tuple[Track, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ArtistSummary:
    """An artist as ``/search`` sends it."""

    id: int
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Artist(ArtistSummary):
    """An artist with their albums, as ``/artists/{id}`` sends it."""

    albums: tuple[Album, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class SavedAlbum(Album):
    """An album in the user's library, as ``/me/albums`` sends it: its summary and when it joined (ISO 8601 UTC)."""

    added_at: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FollowedArtist(ArtistSummary):
    """An artist the user follows, as ``/me/artists`` sends it."""

    album_count: int
    added_at: str  # ISO 8601 UTC


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchTop:
    """The best of everything ``/search`` found: its kind ("track", "album" or "artist") and id."""

    kind: str
    id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Highlight:
    """A stretch of a found record's name that the query matched: characters ``[start, end)`` of its ``name``
    field ("title", "artist" or "name") in the record of ``kind`` and ``id``."""

    kind: str
    id: int
    name: str
    start: int
    end: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchResults:
    """What ``/search`` finds, best first in each list, the best of all, and what the query matched in each."""

    tracks: tuple[Track, ...]
    albums: tuple[Album, ...]
    artists: tuple[ArtistSummary, ...]
    top: SearchTop | None
    highlights: tuple[Highlight, ...]

    def spans(self, kind: str, record_id: int, name: str) -> list[tuple[int, int]]:
        """The matched ``[start, end)`` stretches of one name of one record."""
        return [(h.start, h.end) for h in self.highlights if (h.kind, h.id, h.name) == (kind, record_id, name)]


class MalformedRecord(ValueError):
    """The server sent a record without a field Legato needs, or with one of the wrong type: a server of another
    version, or a broken one."""


_R = TypeVar("_R", Track, Album, AlbumWithTracks, SavedAlbum, ArtistSummary, Artist, FollowedArtist, SearchTop,
             Highlight, SearchResults)
_RECORDS = (Track, Album, AlbumWithTracks, SavedAlbum, ArtistSummary, Artist, FollowedArtist, SearchTop, Highlight,
            SearchResults)
# Each record's fields and their types, resolved once. Every field is required: the server always sends them all.
def _field_types(kind: type) -> dict[str, Any]:
    hints = get_type_hints(kind)  # resolves every annotation: once per record, not once per field
    return {field.name: hints[field.name] for field in fields(kind)}


_HINTS: dict[type, dict[str, Any]] = {kind: _field_types(kind) for kind in _RECORDS}
_KINDS = {int: "a whole number", float: "a number", str: "a string", bool: "true or false"}


def _parse(raw: object, kind: type[_R]) -> _R:
    if not isinstance(raw, dict):
        raise MalformedRecord(f"the server sent a {type(raw).__name__}, not an object, "
                              f"for a record of type {kind.__name__}")
    missing = sorted(_HINTS[kind].keys() - raw.keys())
    if missing:
        raise MalformedRecord(f"the server sent a record of type {kind.__name__} without {', '.join(missing)}: "
                              "is it a Legato server of the same version?")
    return kind(**{name: _value(raw[name], hint, kind, name) for name, hint in _HINTS[kind].items()})


def _value(raw: object, hint: Any, kind: type, name: str) -> Any:
    """``raw`` as a value of type ``hint`` (int, float, str, bool, a record, ``X | None``, a tuple of records)."""
    if get_origin(hint) is types.UnionType:
        if raw is None:
            return None
        (hint,) = (arg for arg in get_args(hint) if arg is not type(None))
    if hint in _RECORDS:
        return _item(raw, hint, kind, name)
    if get_origin(hint) is tuple:
        if not isinstance(raw, list):
            raise MalformedRecord(f"the server sent a record of type {kind.__name__} whose {name} is a "
                                  f"{type(raw).__name__}, not a list")
        return tuple(_item(each, get_args(hint)[0], kind, f"{name}[{index}]") for index, each in enumerate(raw))
    # JSON has one kind of number: a whole one is a fine float, but true and false are not numbers.
    if hint is float and isinstance(raw, int | float) and not isinstance(raw, bool):
        return float(raw)
    if isinstance(raw, hint) and (hint is bool or not isinstance(raw, bool)):
        return raw
    raise MalformedRecord(f"the server sent a record of type {kind.__name__} whose {name} is "
                          f"{'null' if raw is None else 'a ' + type(raw).__name__}, not {_KINDS[hint]}")


def _item(raw: object, kind: type[_R], within: type, where: str) -> _R:
    try:
        return _parse(raw, kind)
    except MalformedRecord as exc:
        raise MalformedRecord(f"{exc} (in {where} of a record of type {within.__name__})") from exc


def track(raw: object) -> Track:
    """The API's JSON for a track as a Track; MalformedRecord naming the field it lacks or has wrong."""
    return _parse(raw, Track)


def album(raw: object) -> Album:
    return _parse(raw, Album)


def album_with_tracks(raw: object) -> AlbumWithTracks:
    return _parse(raw, AlbumWithTracks)


def artist(raw: object) -> Artist:
    return _parse(raw, Artist)


def saved_album(raw: object) -> SavedAlbum:
    return _parse(raw, SavedAlbum)


def followed_artist(raw: object) -> FollowedArtist:
    return _parse(raw, FollowedArtist)


_HIGHLIGHTED = {"tracks": "track", "albums": "album", "artists": "artist"}


def search_results(raw: object) -> SearchResults:
    """``/search``'s answer; each record's ``highlight`` (name → list of [start, end]) becomes Highlight records."""
    if isinstance(raw, dict):
        raw = {**raw, "highlights": [
            {"kind": kind, "id": record.get("id"), "name": name, "start": span[0], "end": span[1]}
            for key, kind in _HIGHLIGHTED.items() if isinstance(raw.get(key), list)
            for record in raw[key] if isinstance(record, dict) and isinstance(record.get("highlight"), dict)
            for name, spans in record["highlight"].items() if isinstance(spans, list)
            for span in spans if isinstance(span, list) and len(span) == 2]}
    return _parse(raw, SearchResults)
