"""The catalog's tables, declared once (columns, foreign keys, indexes), and SQLAlchemy Core's view of them.

Both engines get their tables from here: sqlite-utils creates SQLite's, SQLAlchemy PostgreSQL's; never a second
copy of a table elsewhere.
"""

from __future__ import annotations

import zlib
from typing import Any

import sqlalchemy as sa

TABLES: dict[str, dict[str, type]] = {
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
    "saved_albums": {"id": int, "user_id": int, "album_id": int, "added_ms": int},
    "followed_artists": {"id": int, "user_id": int, "artist_id": int, "added_ms": int},
    "audio_features": {"id": int, "track_id": int, "version": int, "vector": bytes},
    "discover_weekly": {"id": int, "user_id": int, "playlist_id": str, "week_of": str, "generated_ms": int,
                        "picks": str},
    "offline_grants": {"id": int, "user_id": int, "file_id": int, "granted_at": float, "expires_at": float},
    "warmed_slices": {"id": int, "edge": str, "file_id": int, "start_byte": int},
    "waveforms": {"id": int, "track_id": int, "levels": bytes},
}
FOREIGN_KEYS: dict[str, list[tuple[str, str, str]]] = {
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
    "saved_albums": [("user_id", "users", "id"), ("album_id", "albums", "id")],
    "followed_artists": [("user_id", "users", "id"), ("artist_id", "artists", "id")],
    "audio_features": [("track_id", "tracks", "id")],
    "discover_weekly": [("user_id", "users", "id"), ("playlist_id", "playlists", "id")],
    "offline_grants": [("user_id", "users", "id"), ("file_id", "files", "id")],
    "warmed_slices": [("file_id", "files", "id")],
    "waveforms": [("track_id", "tracks", "id")],
}
UNIQUE_INDEXES: dict[str, list[list[str]]] = {
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
    "saved_albums": [["user_id", "album_id"]],
    "followed_artists": [["user_id", "artist_id"]],
    "audio_features": [["track_id"]],
    "discover_weekly": [["user_id"]],
    "offline_grants": [["user_id", "file_id"]],
    "warmed_slices": [["edge", "file_id", "start_byte"]],
    "waveforms": [["track_id"]],
}
INDEXES: dict[str, list[list[str]]] = {"tracks": [["album_id", "disc_no", "track_no"], ["artist_id"]],
                                        "sessions": [["expires"]],
                                        "playlists": [["owner_id"]], "playlist_members": [["user_id"]],
                                        "plays": [["user_id", "started_ms"], ["received_ms"]],
                                        "likes": [["user_id", "liked_ms"]]}
# The schema's fingerprint, kept in PRAGMA user_version: a catalog made by any other schema (an older one that
# lacks a table, a column or an index) is brought up to this one on open; a current one costs one pragma.
SCHEMA_VERSION = zlib.crc32(repr((TABLES, FOREIGN_KEYS, UNIQUE_INDEXES, INDEXES)).encode()) & 0x7FFFFFFF


# BIGINT on PostgreSQL; INTEGER on SQLite, where only an "INTEGER PRIMARY KEY" is the rowid (as sqlite-utils makes).
_INTEGER = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TYPES: dict[type, sa.types.TypeEngine[Any]] = {int: _INTEGER, str: sa.Text(), float: sa.Double(),
                                                bytes: sa.LargeBinary()}


def schema() -> sa.MetaData:
    """The catalog's tables as SQLAlchemy sees them, from catalog.py's declarations: ``id`` is each table's
    primary key (an identity on integer ones), every other column nullable, indexes named as sqlite-utils names
    them (``idx_<table>_<columns>``)."""
    metadata = sa.MetaData()
    for name, columns in TABLES.items():
        references = {column: f"{table}.{key}" for column, table, key in FOREIGN_KEYS.get(name, [])}
        table = sa.Table(name, metadata, *(_column(column, kind, references.get(column))
                                           for column, kind in columns.items()))
        for unique in UNIQUE_INDEXES.get(name, []):
            sa.Index(_index_name(name, unique), *(table.c[column] for column in unique), unique=True)
        for index in INDEXES.get(name, []):
            sa.Index(_index_name(name, index), *(table.c[column] for column in index))
    return metadata


def _column(name: str, kind: type, reference: str | None) -> sa.Column[Any]:
    foreign = (sa.ForeignKey(reference),) if reference else ()
    if name != "id":
        return sa.Column(name, _TYPES[kind], *foreign)
    if kind is int:
        return sa.Column(name, _TYPES[kind], sa.Identity(), *foreign, primary_key=True)
    return sa.Column(name, _TYPES[kind], *foreign, primary_key=True)


def _index_name(table: str, columns: list[str]) -> str:
    return f"idx_{table}_{'_'.join(columns)}"


def add_missing(connection: sa.Connection, metadata: sa.MetaData) -> list[str]:
    """Create the tables, columns and indexes of ``metadata`` the database lacks (nothing dropped or changed);
    what was added."""
    inspector = sa.inspect(connection)
    present = set(inspector.get_table_names())
    added: list[str] = []
    for table in metadata.sorted_tables:
        if table.name not in present:
            table.create(connection)
            added.append(f"table {table.name}")
            continue
        columns = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in columns:
                kind = column.type.compile(dialect=connection.dialect)
                connection.execute(sa.text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}'))
                added.append(f"column {table.name}.{column.name}")
        indexes = {index["name"] for index in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in indexes:
                index.create(connection)
                added.append(f"index {index.name}")
    return added
