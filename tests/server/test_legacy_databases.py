"""An older server kept offline grants in DATA/licences.db and warmed slices in DATA/warm.db: the upgrade step moves
their rows into the catalog (where every instance of a fleet sees them) and renames the files, once."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from server import licences
from server.auth import create_user
from server.catalog import Catalog
from server.ingest import ingest
from server.upgrades import apply_pending
from tests.helpers.postgres import ON_BOTH_ENGINES
from tests.helpers.server_sources import stereo_tone, write_audio

pytestmark = ON_BOTH_ENGINES


def _old_file(path: Path, create: str, insert: str, rows: list[tuple[object, ...]]) -> None:
    with closing(sqlite3.connect(path)) as connection, connection:
        connection.execute(create)
        connection.executemany(insert, rows)


def test_grants_and_warmed_slices_move_from_their_own_files_into_the_catalog(tmp_path: Path) -> None:
    source = write_audio(tmp_path / "t1.flac", stereo_tone(1.0),
                         {"title": "One", "artist": "Old", "album": "Server", "track": "1"})
    data_dir = tmp_path / "data"
    assert ingest(data_dir, [source]).ok
    catalog = Catalog.open(data_dir)
    try:
        user_id = create_user(catalog, "old", "old-pw", "GB").id
        file_ids = [int(row["id"]) for row in catalog.query("SELECT id FROM files ORDER BY id")]
        catalog.execute("DELETE FROM schema_migrations WHERE name = 'legacy-databases'")  # as an older server left it
    finally:
        catalog.close()
    _old_file(data_dir / "licences.db",
              "CREATE TABLE offline_grants (user_id INTEGER NOT NULL, file_id INTEGER NOT NULL, granted_at REAL NOT "
              "NULL, expires_at REAL NOT NULL, PRIMARY KEY (user_id, file_id))",
              "INSERT INTO offline_grants VALUES (?, ?, ?, ?)",
              [(user_id, file_id, 1000.0 + n, 2000.0 + n) for n, file_id in enumerate(file_ids)])
    _old_file(data_dir / "warm.db",
              "CREATE TABLE warmed (edge TEXT NOT NULL, file_id INTEGER NOT NULL, start INTEGER NOT NULL, "
              "PRIMARY KEY (edge, file_id, start))",
              "INSERT INTO warmed VALUES (?, ?, ?)",
              [("http://edge-1", file_ids[0], 0), ("http://edge-1", file_ids[0], 65536)])

    assert "legacy-databases" in apply_pending(data_dir)

    catalog = Catalog.open(data_dir)
    try:
        moved = licences.grants(catalog, user_id)
        warmed = catalog.query("SELECT edge, file_id, start_byte FROM warmed_slices ORDER BY start_byte")
    finally:
        catalog.close()
    assert [(grant.file_id, grant.granted_at, grant.expires_at) for grant in moved] == [
        (file_id, 1000.0 + n, 2000.0 + n) for n, file_id in enumerate(file_ids)]
    assert [tuple(row.values()) for row in warmed] == [("http://edge-1", file_ids[0], 0),
                                                       ("http://edge-1", file_ids[0], 65536)]
    assert not (data_dir / "licences.db").exists() and (data_dir / "licences.db.imported").is_file()
    assert not (data_dir / "warm.db").exists() and (data_dir / "warm.db.imported").is_file()
    assert apply_pending(data_dir) == []  # once
