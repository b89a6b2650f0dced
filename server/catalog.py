"""The catalog database (SQLite through sqlite-utils): artists, albums and their covers, tracks, files, users,
sessions, playlists, popularity per region, scheduled releases and pre-saves, listening history (plays,
likes) and what the recommender keeps per track and per user.

Multi-row writes happen inside ``Catalog.transaction()``; readers and writers share the file thanks to WAL.
"""

from __future__ import annotations

import json
import sqlite3
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from durable import write_transaction
from server.exceptions import UserExistsError

DB_NAME = "catalog.db"
_TABLES: dict[str, dict[str, type]] = {
    "artists": {"id": int, "name": str},
    "albums": {"id": int, "title": str, "artist_id": int, "year": int, "genre": str, "gapless": int,
               "loudness_lufs": float, "peak_dbfs": float},
    "covers": {"id": int, "album_id": int, "mime": str, "sha256": str, "size_bytes": int},
    "tracks": {
        "id": int, "title": str, "artist_id": int, "album_id": int, "disc_no": int, "track_no": int,
        "duration_samples": int, "sample_rate": int, "duration_s": float, "popularity": int, "regions": str,
        "release_time": str, "genre": str, "loudness_lufs": float, "peak_dbfs": float, "source_sha256": str,
    },
    "files": {
        "id": int, "track_id": int, "quality": str, "codec": str, "container": str, "mime": str, "bitrate": int,
        "sample_rate": int, "channels": int, "frames": int, "size_bytes": int, "chunk_size": int, "chunks": str,
        "content_sha256": str, "key": str, "nonce": str,
    },
    "popularity_by_region": {"id": int, "track_id": int, "region": str, "popularity": int},
    "users": {"id": int, "name": str, "password_hash": str, "region": str},
    "sessions": {"id": int, "token_sha256": str, "user_id": int, "created": int, "expires": int},
    "playlists": {"id": str, "owner_id": int, "public": int, "created": int, "last_seq": int, "snapshot": bytes,
                  "snapshot_seq": int},
    "playlist_members": {"id": int, "playlist_id": str, "user_id": int, "role": str},
    "playlist_updates": {"id": int, "playlist_id": str, "seq": int, "update_id": str, "author_id": int,
                         "data": bytes},
    "schema_migrations": {"id": int, "name": str, "applied": int},
    "releases": {"id": int, "album_id": int, "release_at": str, "jitter_ms": int},
    "presaves": {"id": int, "user_id": int, "album_id": int, "created": str},
    "plays": {"id": int, "user_id": int, "event_id": str, "track_id": int, "started_ms": int, "ms_played": int,
              "completed": int, "skipped": int, "context_kind": str, "context_id": str, "received_ms": int},
    "likes": {"id": int, "user_id": int, "track_id": int, "liked_ms": int},
    "audio_features": {"id": int, "track_id": int, "version": int, "vector": bytes},
    "discover_weekly": {"id": int, "user_id": int, "playlist_id": str, "week_of": str, "generated_ms": int,
                        "picks": str},
}
_FOREIGN_KEYS: dict[str, list[tuple[str, str, str]]] = {
    "albums": [("artist_id", "artists", "id")],
    "covers": [("album_id", "albums", "id")],
    "tracks": [("artist_id", "artists", "id"), ("album_id", "albums", "id")],
    "files": [("track_id", "tracks", "id")],
    "popularity_by_region": [("track_id", "tracks", "id")],
    "sessions": [("user_id", "users", "id")],
    "playlists": [("owner_id", "users", "id")],
    "playlist_members": [("playlist_id", "playlists", "id"), ("user_id", "users", "id")],
    "playlist_updates": [("playlist_id", "playlists", "id"), ("author_id", "users", "id")],
    "releases": [("album_id", "albums", "id")],
    "presaves": [("user_id", "users", "id"), ("album_id", "albums", "id")],
    "plays": [("user_id", "users", "id"), ("track_id", "tracks", "id")],
    "likes": [("user_id", "users", "id"), ("track_id", "tracks", "id")],
    "audio_features": [("track_id", "tracks", "id")],
    "discover_weekly": [("user_id", "users", "id"), ("playlist_id", "playlists", "id")],
}
_UNIQUE_INDEXES: dict[str, list[list[str]]] = {
    "artists": [["name"]],
    "albums": [["artist_id", "title"]],
    "covers": [["album_id"]],
    "tracks": [["source_sha256"]],
    "files": [["track_id", "quality"]],
    "popularity_by_region": [["track_id", "region"]],
    "users": [["name"]],
    "sessions": [["token_sha256"]],
    "playlist_members": [["playlist_id", "user_id"]],
    "playlist_updates": [["playlist_id", "seq"], ["playlist_id", "update_id"]],
    "schema_migrations": [["name"]],
    "releases": [["album_id"]],
    "presaves": [["user_id", "album_id"]],
    "plays": [["user_id", "event_id"]],
    "likes": [["user_id", "track_id"]],
    "audio_features": [["track_id"]],
    "discover_weekly": [["user_id"]],
}
_INDEXES: dict[str, list[list[str]]] = {"tracks": [["album_id", "disc_no", "track_no"], ["artist_id"]],
                                        "sessions": [["expires"]],
                                        "playlists": [["owner_id"]], "playlist_members": [["user_id"]],
                                        "plays": [["user_id", "started_ms"], ["received_ms"]],
                                        "likes": [["user_id", "liked_ms"]]}
# The schema's fingerprint, kept in PRAGMA user_version: a catalog made by any other schema (an older one that
# lacks a table, a column or an index) is brought up to this one on open; a current one costs one pragma.
SCHEMA_VERSION = zlib.crc32(repr((_TABLES, _FOREIGN_KEYS, _UNIQUE_INDEXES, _INDEXES)).encode()) & 0x7FFFFFFF


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


class Catalog:
    """One connection to DATA/catalog.db; one per task (``Catalog.open``, or borrowed from the server's
    ``CatalogPool`` for a request), never used by two at once."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    @classmethod
    def open(cls, data_dir: Path) -> Catalog:
        """Open (creating if needed) the catalog in ``data_dir``."""
        data_dir.mkdir(parents=True, exist_ok=True)
        # FastAPI resolves dependencies and runs handlers on different pool threads; a request still uses
        # its connection from one thread at a time.
        connection = sqlite3.connect(data_dir / DB_NAME, timeout=30, check_same_thread=False)
        connection.execute("PRAGMA foreign_keys = ON")
        connection.create_function("casefold", 1, _casefold, deterministic=True)
        catalog = cls(sqlite_utils.Database(connection))
        catalog._ensure_schema()
        return catalog

    def close(self) -> None:
        self.db.close()

    def _ensure_schema(self) -> None:
        """Create what is missing: every table on a new catalog, new tables and columns on an older one."""
        if self._schema_version() == SCHEMA_VERSION:
            return
        self.db.enable_wal()
        with write_transaction(self.db):
            for name, columns in _TABLES.items():
                self.db.table(name).create(columns, pk="id", foreign_keys=_FOREIGN_KEYS.get(name, []),
                                     if_not_exists=True)
                table = self.db.table(name)
                present = set(table.columns_dict)
                for column, kind in columns.items():
                    if column not in present:
                        table.add_column(column, kind)
                for unique in _UNIQUE_INDEXES.get(name, []):
                    table.create_index(unique, unique=True, if_not_exists=True)
                for index in _INDEXES.get(name, []):
                    table.create_index(index, if_not_exists=True)
            self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _schema_version(self) -> int:
        row = self.db.execute("PRAGMA user_version").fetchone()
        return int(row[0])

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything written inside commits together or not at all."""
        with write_transaction(self.db):
            yield

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        return list(self.db.query(sql, params))

    def query_one(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> dict[str, Any] | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def _insert(self, table: str, row: dict[str, Any]) -> int:
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        cursor = self.db.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(row.values()))
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    # -- tracks and files ------------------------------------------------------------------------------------

    def track_id_for_source(self, source_sha256: str) -> int | None:
        row = self.query_one("SELECT id FROM tracks WHERE source_sha256 = ?", [source_sha256])
        return None if row is None else int(row["id"])

    def insert_track(self, track: NewTrack) -> int:
        """Insert ``track`` (creating its artist and album when new); call inside ``transaction()``."""
        artist_id = self._artist_id(track.artist)
        album_id = self._album_id(track)
        return self._insert("tracks", {
            "title": track.title, "artist_id": artist_id, "album_id": album_id, "disc_no": track.disc_no,
            "track_no": track.track_no, "duration_samples": track.duration_samples,
            "sample_rate": track.sample_rate, "duration_s": track.duration_samples / track.sample_rate,
            "popularity": track.popularity, "regions": json.dumps(sorted(set(track.regions))),
            "release_time": track.release_time, "genre": track.genre, "loudness_lufs": track.loudness_lufs,
            "peak_dbfs": track.peak_dbfs, "source_sha256": track.source_sha256,
        })

    def insert_file(self, track_id: int, file: NewFile) -> int:
        """Insert a transcoded file of ``track_id``; call inside ``transaction()``."""
        return self._insert("files", {
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
        stale = [int(row["id"]) for row in self.query("SELECT id FROM files WHERE track_id = ?", [track_id])]
        self.db.execute("DELETE FROM files WHERE track_id = ?", [track_id])
        self.db.execute("UPDATE tracks SET duration_samples = ?, sample_rate = ?, duration_s = ?, loudness_lufs = ?, "
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
        self.db.execute("UPDATE albums SET loudness_lufs = ?, peak_dbfs = ? WHERE id = ?",
                        [loudness_lufs, peak_dbfs, album_id])

    def album_cover(self, album_id: int) -> dict[str, Any] | None:
        """The album's cover record (mime, sha256, size_bytes), if it has one."""
        return self.query_one("SELECT mime, sha256, size_bytes FROM covers WHERE album_id = ?", [album_id])

    def set_album_cover(self, album_id: int, mime: str, sha256: str, size_bytes: int) -> None:
        """Record the album's cover file; call inside ``transaction()``."""
        self.db.execute("INSERT INTO covers (album_id, mime, sha256, size_bytes) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT (album_id) DO UPDATE SET mime = excluded.mime, sha256 = excluded.sha256, "
                        "size_bytes = excluded.size_bytes", [album_id, mime, sha256, size_bytes])

    def set_popularity(self, track_id: int, popularity: int) -> None:
        with self.transaction():
            self.db.execute("UPDATE tracks SET popularity = ? WHERE id = ?", [popularity, track_id])

    def set_region_popularity(self, track_id: int, region: str, popularity: int) -> None:
        """How popular the track is in one region (from the catalog until listening history fills it);
        call inside ``transaction()``."""
        self.db.execute("INSERT INTO popularity_by_region (track_id, region, popularity) VALUES (?, ?, ?) "
                        "ON CONFLICT (track_id, region) DO UPDATE SET popularity = excluded.popularity",
                        [track_id, region, popularity])

    def delete_track(self, track_id: int) -> list[int]:
        """Remove a track, its files' rows, its regional popularity, its audio vector and the plays and likes of it,
        then its album (cover, release and pre-saves) and artist when nothing else is theirs; the ids of the
        removed files, whose origin copies the caller deletes."""
        with self.transaction():
            row = self.query_one("SELECT album_id, artist_id FROM tracks WHERE id = ?", [track_id])
            if row is None:
                return []
            files = [int(r["id"]) for r in self.query("SELECT id FROM files WHERE track_id = ?", [track_id])]
            self.db.execute("DELETE FROM files WHERE track_id = ?", [track_id])
            for table in ("popularity_by_region", "audio_features", "plays", "likes"):
                self.db.execute(f"DELETE FROM {table} WHERE track_id = ?", [track_id])
            self.db.execute("DELETE FROM tracks WHERE id = ?", [track_id])
            album = self.query_one("SELECT artist_id FROM albums WHERE id = ? AND NOT EXISTS "
                                   "(SELECT 1 FROM tracks WHERE album_id = albums.id)", [row["album_id"]])
            if album is not None:
                for table in ("covers", "releases", "presaves"):
                    self.db.execute(f"DELETE FROM {table} WHERE album_id = ?", [row["album_id"]])
                self.db.execute("DELETE FROM albums WHERE id = ?", [row["album_id"]])
            for artist_id in {row["artist_id"], album["artist_id"] if album else row["artist_id"]}:
                self.db.execute("DELETE FROM artists WHERE id = ? AND NOT EXISTS (SELECT 1 FROM tracks WHERE "
                                "artist_id = ?) AND NOT EXISTS (SELECT 1 FROM albums WHERE artist_id = ?)",
                                [artist_id, artist_id, artist_id])
        return files

    def _artist_id(self, name: str) -> int:
        row = self.query_one("SELECT id FROM artists WHERE name = ?", [name])
        return int(row["id"]) if row else self._insert("artists", {"name": name})

    def _album_id(self, track: NewTrack) -> int:
        artist_id = self._artist_id(track.album_artist)
        row = self.query_one("SELECT id FROM albums WHERE artist_id = ? AND title = ?", [artist_id, track.album])
        if row is None:
            year = int(track.release_time[:4]) if track.release_time else None
            return self._insert("albums", {"title": track.album, "artist_id": artist_id, "year": year,
                                           "genre": track.genre, "gapless": int(track.gapless)})
        if track.gapless:
            self.db.execute("UPDATE albums SET gapless = 1 WHERE id = ?", [row["id"]])
        return int(row["id"])

    # -- users and sessions ----------------------------------------------------------------------------------

    def add_user(self, name: str, password_hash: str, region: str) -> int:
        """Create a user; raises UserExistsError when the name is taken."""
        try:
            with self.transaction():
                return self._insert("users", {"name": name, "password_hash": password_hash, "region": region})
        except sqlite3.IntegrityError as exc:
            raise UserExistsError(f"a user named {name!r} already exists; pick another name") from exc

    def user_by_name(self, name: str) -> dict[str, Any] | None:
        return self.query_one("SELECT * FROM users WHERE name = ?", [name])

    def add_session(self, token_sha256: str, user_id: int, created: int, expires: int) -> None:
        with self.transaction():
            self.db.execute("DELETE FROM sessions WHERE expires <= ?", [created])
            self._insert("sessions", {"token_sha256": token_sha256, "user_id": user_id, "created": created,
                                      "expires": expires})

    def session_user(self, token_sha256: str, now: int) -> dict[str, Any] | None:
        """The user owning an unexpired session with this token hash, if any."""
        return self.query_one(
            "SELECT users.* FROM sessions JOIN users ON users.id = sessions.user_id "
            "WHERE sessions.token_sha256 = ? AND sessions.expires > ?", [token_sha256, now])

    def delete_session(self, token_sha256: str) -> None:
        with self.transaction():
            self.db.execute("DELETE FROM sessions WHERE token_sha256 = ?", [token_sha256])


def _casefold(value: object) -> str | None:
    return value.casefold() if isinstance(value, str) else None
