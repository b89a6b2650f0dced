"""Home's rows for one user in one answer: the albums they played lately, those they left mid-way, their top
artists, the new and coming releases and what is popular in their region. Only the caller's own plays are read.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from server import browse, releases
from server.catalog import Catalog

ROW = 12  # cards in a row
RECENT_DAYS = 90  # "Recently played" looks this far back
LEFT_DAYS = 30  # "Jump back in" and "Your top artists" look this far back
NEW_DAYS = 90  # an album whose scheduled release came less than this long ago is still new

_ALBUMS_PLAYED = """
    SELECT tracks.album_id AS album_id, MAX(plays.started_ms) AS last_ms, COUNT(DISTINCT plays.track_id) AS heard
    FROM plays JOIN tracks ON tracks.id = plays.track_id
    WHERE plays.user_id = ? AND plays.started_ms >= ?
    GROUP BY tracks.album_id ORDER BY last_ms DESC, tracks.album_id
"""
_ARTISTS_PLAYED = """
    SELECT tracks.artist_id AS artist_id, tracks.album_id AS album_id, artists.name AS name,
           SUM(plays.ms_played) AS ms_played, COUNT(*) AS plays
    FROM plays JOIN tracks ON tracks.id = plays.track_id JOIN artists ON artists.id = tracks.artist_id
    WHERE plays.user_id = ? AND plays.started_ms >= ?
    GROUP BY tracks.artist_id, tracks.album_id, artists.name
"""
# Each album by its tracks' mean popularity in the region (the catalog's own where the region has no figure), only
# tracks licensed there, never an album not out yet.
_POPULAR_IN_REGION = """
    SELECT tracks.album_id AS album_id, AVG(COALESCE(regional.popularity, tracks.popularity)) AS score
    FROM tracks
    LEFT JOIN popularity_by_region AS regional ON regional.track_id = tracks.id AND regional.region = ?
    LEFT JOIN releases ON releases.album_id = tracks.album_id
    WHERE tracks.regions LIKE ? AND (releases.release_at IS NULL OR releases.release_at <= ?)
    GROUP BY tracks.album_id ORDER BY score DESC, tracks.album_id LIMIT ?
"""


def rows(catalog: Catalog, user_id: int, region: str, now: datetime) -> dict[str, Any]:
    """Every row of Home for ``user_id`` (of ``region``) at ``now``: album summaries as ``/albums`` sends them."""
    now_ms = int(now.timestamp() * 1000)
    played = catalog.query(_ALBUMS_PLAYED, [user_id, now_ms - RECENT_DAYS * 86_400_000])
    new = _new_release_ids(catalog, now)
    popular = [int(row["album_id"]) for row in catalog.query(
        _POPULAR_IN_REGION, [region, f'%"{region}"%', releases.format_instant(now), ROW])]
    artists = _top_artists(catalog, user_id, now_ms - LEFT_DAYS * 86_400_000)
    albums = browse.albums_by_id(catalog, sorted({int(row["album_id"]) for row in played} | set(new) | set(popular)
                                                 | {artist["album_id"] for artist in artists}))
    left_from = now_ms - LEFT_DAYS * 86_400_000
    left = [(albums[int(row["album_id"])], int(row["heard"])) for row in played
            if int(row["last_ms"]) >= left_from and int(row["album_id"]) in albums
            and int(row["heard"]) < int(albums[int(row["album_id"])]["track_count"])]
    return {
        "recently_played": [albums[int(row["album_id"])] for row in played[:ROW] if int(row["album_id"]) in albums],
        "jump_back_in": [{"album": album, "tracks_heard": heard} for album, heard in left[:ROW]],
        "top_artists": [{"artist_id": artist["artist_id"], "name": artist["name"], "plays": artist["plays"],
                         "ms_played": artist["ms_played"], "album": albums[artist["album_id"]]}
                        for artist in artists if artist["album_id"] in albums],
        "new_releases": [albums[album_id] for album_id in new if album_id in albums],
        "region": region,
        "popular_in_region": [albums[album_id] for album_id in popular if album_id in albums],
    }


def _new_release_ids(catalog: Catalog, now: datetime) -> list[int]:
    """Scheduled albums still to come (soonest first), then those out in the last NEW_DAYS (newest first), then the
    catalog's newest by year, ROW in all."""
    since = releases.format_instant(now - timedelta(days=NEW_DAYS))
    scheduled = catalog.query("SELECT album_id, release_at FROM releases WHERE release_at >= ? "
                              "ORDER BY release_at, album_id", [since])
    at_now = releases.format_instant(now)
    coming = [int(row["album_id"]) for row in scheduled if str(row["release_at"]) > at_now]
    out = [int(row["album_id"]) for row in reversed(scheduled) if str(row["release_at"]) <= at_now]
    chosen = (coming + out)[:ROW]
    newest = catalog.query("SELECT albums.id FROM albums LEFT JOIN releases ON releases.album_id = albums.id "
                           "WHERE releases.release_at IS NULL OR releases.release_at <= ? "
                           "ORDER BY COALESCE(albums.year, 0) DESC, albums.id DESC LIMIT ?", [at_now, 2 * ROW])
    return chosen + [album_id for album_id in (int(row["id"]) for row in newest)
                     if album_id not in chosen][:ROW - len(chosen)]


def _top_artists(catalog: Catalog, user_id: int, from_ms: int) -> list[dict[str, Any]]:
    """The artists heard longest since ``from_ms``, each with the album of theirs heard longest (its cover)."""
    artists: dict[int, dict[str, Any]] = {}
    for row in catalog.query(_ARTISTS_PLAYED, [user_id, from_ms]):
        ms, album_id = int(row["ms_played"]), int(row["album_id"])
        artist = artists.setdefault(int(row["artist_id"]), {"artist_id": int(row["artist_id"]), "name": row["name"],
                                                            "ms_played": 0, "plays": 0, "album_id": album_id,
                                                            "album_ms": ms})
        artist["ms_played"] += ms
        artist["plays"] += int(row["plays"])
        if (ms, -album_id) > (artist["album_ms"], -artist["album_id"]):
            artist["album_ms"], artist["album_id"] = ms, album_id
    ranked = sorted(artists.values(), key=lambda artist: (-artist["ms_played"], artist["artist_id"]))[:ROW]
    return [{key: value for key, value in artist.items() if key != "album_ms"} for artist in ranked]
