"""The catalog database (SQLite, or PostgreSQL): artists, albums and their covers, tracks, files, users,
sessions, playlists, popularity per region, scheduled releases and pre-saves, listening history (plays,
likes) and what the recommender keeps per track and per user.

Multi-row writes happen inside ``Catalog.transaction()``; on SQLite readers and writers share the file thanks to WAL.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from server.catalog_connection import CatalogConnection
from server.database import DB_NAME
from server.exceptions import UserExistsError

__all__ = ["DB_NAME", "Catalog", "NewFile", "NewTrack"]
@dataclass(frozen=True)
class NewTrack:
    """A track row about to be inserted (ids of its artist and album resolved by the catalog)."""

    title: str
    artist: str
    album: str
    album_artist: str
    disc_no: int
    track_no: int
    duration_samples: int
    sample_rate: int
    popularity: int
    regions: Sequence[str]
    release_time: str | None
    genre: str | None
    gapless: bool
    loudness_lufs: float
    peak_dbfs: float
    source_sha256: str


@dataclass(frozen=True)
class NewFile:
    """A transcoded, encrypted file row about to be inserted."""

    quality: str
    codec: str
    container: str
    mime: str
    bitrate: int
    sample_rate: int
    channels: int
    frames: int
    size_bytes: int
    chunk_size: int
    chunks: Sequence[str]
    content_sha256: str
    key: bytes
    nonce: bytes


class Catalog(CatalogConnection):
    """The catalog's queries over one connection (see ``CatalogConnection``: ``open``, ``transaction``, ``query``)."""

    # -- tracks and files ------------------------------------------------------------------------------------

    def track_id_for_source(self, source_sha256: str) -> int | None:
        row = self.query_one("SELECT id FROM tracks WHERE source_sha256 = ?", [source_sha256])
        return None if row is None else int(row["id"])

    def insert_track(self, track: NewTrack) -> int:
        """Insert ``track`` (creating its artist and album when new); call inside ``transaction()``."""
        artist_id = self._artist_id(track.artist)
        album_id = self._album_id(track)
        return self.insert("tracks", {
            "title": track.title, "artist_id": artist_id, "album_id": album_id, "disc_no": track.disc_no,
            "track_no": track.track_no, "duration_samples": track.duration_samples,
            "sample_rate": track.sample_rate, "duration_s": track.duration_samples / track.sample_rate,
            "popularity": track.popularity, "regions": json.dumps(sorted(set(track.regions))),
            "release_time": track.release_time, "genre": track.genre, "loudness_lufs": track.loudness_lufs,
            "peak_dbfs": track.peak_dbfs, "source_sha256": track.source_sha256,
        })

    def insert_file(self, track_id: int, file: NewFile) -> int:
        """Insert a transcoded file of ``track_id``; call inside ``transaction()``."""
        return self.insert("files", {
            "track_id": track_id, "quality": file.quality, "codec": file.codec, "container": file.container,
            "mime": file.mime, "bitrate": file.bitrate, "sample_rate": file.sample_rate,
            "channels": file.channels, "frames": file.frames, "size_bytes": file.size_bytes,
            "chunk_size": file.chunk_size, "chunks": json.dumps(list(file.chunks)),
            "content_sha256": file.content_sha256, "key": file.key.hex(), "nonce": file.nonce.hex(),
        })

    def track_length(self, track_id: int) -> int:
        row = self.query_one("SELECT duration_samples FROM tracks WHERE id = ?", [track_id])
        assert row is not None, f"track {track_id} is not in the catalog"
        return int(row["duration_samples"])

    def replace_track_audio(self, track_id: int, duration_samples: int, sample_rate: int, loudness_lufs: float,
                            peak_dbfs: float) -> list[int]:
        """Give ``track_id`` newly measured audio and drop its files (their ids returned, for the origin to drop
        too) so new ones can be inserted; call inside ``transaction()``."""
        stale = self._delete_files(track_id)
        self.execute("UPDATE tracks SET duration_samples = ?, sample_rate = ?, duration_s = ?, loudness_lufs = ?, "
                     "peak_dbfs = ? WHERE id = ?", [duration_samples, sample_rate, duration_samples / sample_rate,
                                                       loudness_lufs, peak_dbfs, track_id])
        return stale

    def track_album_id(self, track_id: int) -> int:
        row = self.query_one("SELECT album_id FROM tracks WHERE id = ?", [track_id])
        assert row is not None, f"track {track_id} is not in the catalog"
        return int(row["album_id"])

    def album_lossless_files(self, album_id: int) -> list[dict[str, Any]]:
        """The album's tracks in album order, each with its lossless file (id, key, nonce) and its figures."""
        return self.query(
            "SELECT tracks.id AS track_id, tracks.sample_rate, tracks.peak_dbfs, files.id AS file_id, files.key, "
            "files.nonce FROM tracks JOIN files ON files.track_id = tracks.id AND files.quality = 'lossless' "
            "WHERE tracks.album_id = ? ORDER BY tracks.disc_no, tracks.track_no, tracks.id", [album_id])

    def set_album_loudness(self, album_id: int, loudness_lufs: float, peak_dbfs: float) -> None:
        """Record the album's measured loudness and peak (one statement: safe outside ``transaction()``)."""
        self.execute("UPDATE albums SET loudness_lufs = ?, peak_dbfs = ? WHERE id = ?",
                     [loudness_lufs, peak_dbfs, album_id])

    def album_cover(self, album_id: int) -> dict[str, Any] | None:
        """The album's cover record (mime, sha256, size_bytes), if it has one."""
        return self.query_one("SELECT mime, sha256, size_bytes FROM covers WHERE album_id = ?", [album_id])

    def set_album_cover(self, album_id: int, mime: str, sha256: str, size_bytes: int) -> None:
        """Record the album's cover file; call inside ``transaction()``."""
        self.execute("INSERT INTO covers (album_id, mime, sha256, size_bytes) VALUES (?, ?, ?, ?) "
                     "ON CONFLICT (album_id) DO UPDATE SET mime = excluded.mime, sha256 = excluded.sha256, "
                     "size_bytes = excluded.size_bytes", [album_id, mime, sha256, size_bytes])

    def set_popularity(self, track_id: int, popularity: int) -> None:
        with self.transaction():
            self.execute("UPDATE tracks SET popularity = ? WHERE id = ?", [popularity, track_id])

    def set_region_popularity(self, track_id: int, region: str, popularity: int) -> None:
        """How popular the track is in one region (from the catalog until listening history fills it);
        call inside ``transaction()``."""
        self.execute("INSERT INTO popularity_by_region (track_id, region, popularity) VALUES (?, ?, ?) "
                     "ON CONFLICT (track_id, region) DO UPDATE SET popularity = excluded.popularity",
                     [track_id, region, popularity])

    def delete_track(self, track_id: int) -> list[int]:
        """Remove a track, its files' rows (and their offline grants and warmed slices), its regional popularity, its
        audio vector, its waveform and the plays and likes of it, then its album (cover, release, pre-saves and saves)
        and artist (and its follows) when nothing else is theirs; the ids of the removed files, whose origin copies
        the caller deletes."""
        with self.transaction():
            row = self.query_one("SELECT album_id, artist_id FROM tracks WHERE id = ?", [track_id])
            if row is None:
                return []
            files = self._delete_files(track_id)
            for table in ("popularity_by_region", "audio_features", "waveforms", "plays", "likes"):
                self.execute(f"DELETE FROM {table} WHERE track_id = ?", [track_id])
            self.execute("DELETE FROM tracks WHERE id = ?", [track_id])
            album = self.query_one("SELECT artist_id FROM albums WHERE id = ? AND NOT EXISTS "
                                   "(SELECT 1 FROM tracks WHERE album_id = albums.id)", [row["album_id"]])
            if album is not None:
                for table in ("covers", "releases", "presaves", "saved_albums"):
                    self.execute(f"DELETE FROM {table} WHERE album_id = ?", [row["album_id"]])
                self.execute("DELETE FROM albums WHERE id = ?", [row["album_id"]])
            orphan = "NOT EXISTS (SELECT 1 FROM tracks WHERE artist_id = ?) AND NOT EXISTS (SELECT 1 FROM albums " \
                     "WHERE artist_id = ?)"
            for artist_id in {row["artist_id"], album["artist_id"] if album else row["artist_id"]}:
                self.execute(f"DELETE FROM followed_artists WHERE artist_id = ? AND {orphan}", [artist_id] * 3)
                self.execute(f"DELETE FROM artists WHERE id = ? AND {orphan}", [artist_id] * 3)
        return files

    def _delete_files(self, track_id: int) -> list[int]:
        """Drop the track's files' rows with the offline grants and warmed slices of them; the files' ids."""
        files = [int(row["id"]) for row in self.query("SELECT id FROM files WHERE track_id = ?", [track_id])]
        for table in ("offline_grants", "warmed_slices"):
            self.execute(f"DELETE FROM {table} WHERE file_id IN (SELECT id FROM files WHERE track_id = ?)", [track_id])
        self.execute("DELETE FROM files WHERE track_id = ?", [track_id])
        return files

    def _artist_id(self, name: str) -> int:
        row = self.query_one("SELECT id FROM artists WHERE name = ?", [name])
        return int(row["id"]) if row else self.insert("artists", {"name": name})

    def _album_id(self, track: NewTrack) -> int:
        artist_id = self._artist_id(track.album_artist)
        row = self.query_one("SELECT id FROM albums WHERE artist_id = ? AND title = ?", [artist_id, track.album])
        if row is None:
            year = int(track.release_time[:4]) if track.release_time else None
            return self.insert("albums", {"title": track.album, "artist_id": artist_id, "year": year,
                                           "genre": track.genre, "gapless": int(track.gapless)})
        if track.gapless:
            self.execute("UPDATE albums SET gapless = 1 WHERE id = ?", [row["id"]])
        return int(row["id"])

    # -- users and sessions ----------------------------------------------------------------------------------

    def add_user(self, name: str, password_hash: str, region: str) -> int:
        """Create a user; raises UserExistsError when the name is taken."""
        try:
            with self.transaction():
                return self.insert("users", {"name": name, "password_hash": password_hash, "region": region})
        except sa.exc.IntegrityError as exc:
            raise UserExistsError(f"a user named {name!r} already exists; pick another name") from exc

    def user_by_name(self, name: str) -> dict[str, Any] | None:
        return self.query_one("SELECT * FROM users WHERE name = ?", [name])

    def add_session(self, token_sha256: str, user_id: int, created: int, expires: int) -> None:
        with self.transaction():
            self.execute("DELETE FROM sessions WHERE expires <= ?", [created])
            self.insert("sessions", {"token_sha256": token_sha256, "user_id": user_id, "created": created,
                                      "expires": expires})

    def session_user(self, token_sha256: str, now: int) -> dict[str, Any] | None:
        """The user owning an unexpired session with this token hash, if any."""
        return self.query_one(
            "SELECT users.* FROM sessions JOIN users ON users.id = sessions.user_id "
            "WHERE sessions.token_sha256 = ? AND sessions.expires > ?", [token_sha256, now])

    def delete_session(self, token_sha256: str) -> None:
        with self.transaction():
            self.execute("DELETE FROM sessions WHERE token_sha256 = ?", [token_sha256])

