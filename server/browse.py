"""Read-only catalog queries shaped as the API's JSON records (albums, artists, tracks, manifests, search)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from server import search as ranking
from server import waveform
from server.catalog import Catalog
from server.origin import ENCRYPTION
from server.releases import DEFAULT_JITTER_MS
from server.search_index import SearchIndex
from server.search_text import highlights

_ALBUM_SUMMARY = f"""
    SELECT albums.id, albums.title, albums.artist_id, artists.name AS artist, albums.year,
           COUNT(tracks.id) AS track_count, COALESCE(SUM(tracks.duration_s), 0.0) AS duration_s, albums.gapless,
           EXISTS (SELECT 1 FROM covers WHERE covers.album_id = albums.id) AS has_cover,
           (SELECT release_at FROM releases WHERE releases.album_id = albums.id) AS release_at,
           COALESCE((SELECT jitter_ms FROM releases WHERE releases.album_id = albums.id), {DEFAULT_JITTER_MS})
               AS release_jitter_ms
    FROM albums JOIN artists ON artists.id = albums.artist_id LEFT JOIN tracks ON tracks.album_id = albums.id
"""
_ALBUM_GROUP = " GROUP BY albums.id, artists.id ORDER BY artists.name, albums.year, albums.title, albums.id"
_TRACK = """
    SELECT tracks.id, tracks.title, tracks.artist_id, artists.name AS artist, tracks.album_id,
           albums.title AS album, tracks.disc_no, tracks.track_no, tracks.duration_s, tracks.duration_samples,
           tracks.sample_rate, tracks.popularity, tracks.regions, tracks.release_time, tracks.loudness_lufs,
           tracks.peak_dbfs
    FROM tracks JOIN artists ON artists.id = tracks.artist_id JOIN albums ON albums.id = tracks.album_id
"""
_TRACK_ORDER = " ORDER BY tracks.album_id, tracks.disc_no, tracks.track_no, tracks.id"
_ARTIST = """
    SELECT artists.id, artists.name, COUNT(albums.id) AS album_count
    FROM artists LEFT JOIN albums ON albums.artist_id = artists.id
"""
_ARTIST_GROUP = " GROUP BY artists.id ORDER BY artists.name, artists.id"


def artists(catalog: Catalog) -> list[dict[str, Any]]:
    """Every artist, with the number of albums credited to them (0 for artists known only from tracks)."""
    return catalog.query(_ARTIST + _ARTIST_GROUP)


def artist(catalog: Catalog, artist_id: int) -> dict[str, Any] | None:
    row = catalog.query_one("SELECT id, name FROM artists WHERE id = ?", [artist_id])
    if row is None:
        return None
    row["albums"] = [_album(r) for r in catalog.query(_ALBUM_SUMMARY + " WHERE albums.artist_id = ?"
                                                      + _ALBUM_GROUP, [artist_id])]
    return row


def albums(catalog: Catalog) -> list[dict[str, Any]]:
    return [_album(row) for row in catalog.query(_ALBUM_SUMMARY + _ALBUM_GROUP)]


def album(catalog: Catalog, album_id: int) -> dict[str, Any] | None:
    row = catalog.query_one(_ALBUM_SUMMARY + " WHERE albums.id = ?" + _ALBUM_GROUP, [album_id])
    if row is None:
        return None
    summary = _album(row)
    summary["tracks"] = [_track(r) for r in catalog.query(
        _TRACK + " WHERE tracks.album_id = ?" + _TRACK_ORDER, [album_id])]
    return summary


def tracks(catalog: Catalog, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    """A page of tracks in album order, and how many tracks there are in all."""
    page = catalog.query(_TRACK + _TRACK_ORDER + " LIMIT ? OFFSET ?", [limit, offset])
    total = catalog.query_one("SELECT COUNT(*) AS n FROM tracks")
    return [_track(row) for row in page], int(total["n"]) if total else 0


def track(catalog: Catalog, track_id: int) -> dict[str, Any] | None:
    row = catalog.query_one(_TRACK + " WHERE tracks.id = ?", [track_id])
    return None if row is None else _track(row)


def tracks_by_id(catalog: Catalog, track_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The Track JSON of each of ``track_ids`` the catalog holds, by id (for lists in another order)."""
    return _by_id(catalog, _TRACK + " WHERE tracks.id IN ({})", track_ids, _track)


def albums_by_id(catalog: Catalog, album_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The album summary (as ``/albums`` lists it) of each of ``album_ids`` the catalog holds, by id."""
    return _by_id(catalog, _ALBUM_SUMMARY + " WHERE albums.id IN ({})" + _ALBUM_GROUP, album_ids, _album)


def artists_by_id(catalog: Catalog, artist_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The artist (as ``/artists`` lists it) of each of ``artist_ids`` the catalog holds, by id."""
    return _by_id(catalog, _ARTIST + " WHERE artists.id IN ({})" + _ARTIST_GROUP, artist_ids, dict)


def _by_id(catalog: Catalog, query: str, ids: list[int],
           shape: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """The rows of ``query`` (its ``{}`` the id placeholders) for ``ids``, shaped, by id; 500 ids a query."""
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        rows = catalog.query(query.format(",".join("?" * len(chunk))), chunk)
        found.update((int(row["id"]), shape(row)) for row in rows)
    return found


def manifest(catalog: Catalog, track_id: int) -> dict[str, Any] | None:
    """What a client needs to fetch, verify and decode a track's files (never their keys)."""
    row = catalog.query_one(
        "SELECT tracks.id, tracks.duration_samples, tracks.sample_rate, tracks.loudness_lufs, tracks.peak_dbfs, "
        "tracks.album_id, tracks.disc_no, tracks.track_no, albums.loudness_lufs AS album_loudness_lufs, "
        "albums.peak_dbfs AS album_peak_dbfs, waveforms.levels AS waveform FROM tracks "
        "JOIN albums ON albums.id = tracks.album_id LEFT JOIN waveforms ON waveforms.track_id = tracks.id "
        "WHERE tracks.id = ?", [track_id])
    if row is None:
        return None
    files = catalog.query(
        "SELECT id, quality, codec, container, mime, bitrate, sample_rate, channels, frames, size_bytes, "
        "chunk_size, chunks FROM files WHERE track_id = ? ORDER BY bitrate DESC, id", [track_id])
    for file in files:
        file["chunks"] = json.loads(file["chunks"])
        file["encryption"] = ENCRYPTION
        file["url"] = f"/files/{file['id']}"
    return {"track_id": row["id"], "duration_samples": row["duration_samples"], "sample_rate": row["sample_rate"],
            "loudness_lufs": row["loudness_lufs"], "peak_dbfs": row["peak_dbfs"], "album_id": row["album_id"],
            "disc_no": row["disc_no"], "track_no": row["track_no"],
            "album_loudness_lufs": row["album_loudness_lufs"], "album_peak_dbfs": row["album_peak_dbfs"],
            "waveform": waveform.encoded(row["waveform"]), "files": files}


def file_record(catalog: Catalog, file_id: int) -> dict[str, Any] | None:
    """A file's serving and licensing facts: size, content hash, key, nonce and its track's regions."""
    row = catalog.query_one(
        "SELECT files.id, files.mime, files.size_bytes, files.content_sha256, files.key, files.nonce, "
        "tracks.regions FROM files JOIN tracks ON tracks.id = files.track_id WHERE files.id = ?", [file_id])
    if row is not None:
        row["regions"] = json.loads(row["regions"])
    return row


def search(catalog: Catalog, index: SearchIndex, text: str, region: str, limit: int) -> dict[str, Any]:
    """Tracks, albums and artists licensed in ``region`` that ``text`` asks for (typos forgiven), best first, each
    with the spans of its names the query matched (``highlight``), and the best of them all (``top``)."""
    found = ranking.search(index, catalog, text, region, limit)
    shaped: dict[str, Any] = {}
    for key, hits, by_id, names in (("tracks", found.tracks, tracks_by_id, ("title", "artist")),
                                    ("albums", found.albums, albums_by_id, ("title", "artist")),
                                    ("artists", found.artists, artists_by_id, ("name",))):
        ids = [hit.id for hit in hits]
        rows = by_id(catalog, ids)
        shaped[key] = [{**rows[i], "highlight": {name: highlights(str(rows[i][name]), found.query_words)
                                                 for name in names}} for i in ids if i in rows]
    top = found.top
    shaped["top"] = None if top is None else {"kind": top.kind, "id": top.id}
    return shaped


def _album(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "gapless": bool(row["gapless"]), "duration_s": float(row["duration_s"]),
            "has_cover": bool(row["has_cover"])}


def _track(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "regions": json.loads(row["regions"])}
