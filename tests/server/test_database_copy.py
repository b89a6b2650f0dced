"""``legato-server db copy``: a demo data dir's SQLite catalog moved into a real, empty PostgreSQL database, every
row of every table arriving (counts and a content checksum per table), bytes bit-exact, ids continuing."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from server import search_changes
from server.catalog import Catalog
from server.cli import main
from server.database import create_engine, database_url
from server.schema import schema

# Every byte value, NULs and a lone 0xFF included: what a text column would mangle.
_AWKWARD = bytes(range(256)) + b"\x00\xff\x00"


def _digests(url: sa.URL) -> dict[str, tuple[int, str]]:
    """Each table's row count and a SHA-256 of its rows in id order (values with their Python types)."""
    engine = create_engine(url)
    digests = {}
    with engine.connect() as connection:
        for table in schema().sorted_tables:
            digest, count = hashlib.sha256(), 0
            for row in connection.execute(sa.select(table).order_by(table.c.id)):
                digest.update(repr(tuple(row)).encode())
                count += 1
            digests[table.name] = (count, digest.hexdigest())
    engine.dispose()
    return digests


@pytest.fixture
def household(demo_data: Path, tmp_path: Path) -> Path:
    """A copy of the demo data dir with a playlist, its update log, a user's play, saved album and followed artist,
    and an awkward track vector (the rows whose bytes columns, loro snapshots and updates, float32 vectors, must
    arrive bit-exact), and the search change log (kept outside the declared schema)."""
    data_dir = tmp_path / "household"
    shutil.copytree(demo_data, data_dir)
    catalog = Catalog.open(data_dir)
    with catalog.transaction():
        user = catalog.query_one("SELECT id FROM users ORDER BY id LIMIT 1")
        track = catalog.query_one("SELECT id FROM tracks ORDER BY id LIMIT 1")
        assert user is not None and track is not None
        catalog.execute("INSERT INTO playlists (id, owner_id, public, created, last_seq, snapshot, snapshot_seq) "
                        "VALUES ('pl-1', ?, 1, 1700000000, 2, ?, 1)", [user["id"], _AWKWARD])
        for seq, data in ((1, b"\x00first"), (2, _AWKWARD[::-1])):
            catalog.execute("INSERT INTO playlist_updates (playlist_id, seq, update_id, author_id, data) "
                            "VALUES ('pl-1', ?, ?, ?, ?)", [seq, f"u{seq}", user["id"], data])
        catalog.execute("INSERT INTO audio_features (track_id, version, vector) VALUES (?, 1, ?) "
                        "ON CONFLICT (track_id) DO UPDATE SET vector = excluded.vector", [track["id"], _AWKWARD])
        catalog.execute("INSERT INTO plays (user_id, event_id, track_id, started_ms, ms_played, completed, "
                        "skipped, context_kind, context_id, received_ms) VALUES (?, 'ev-ü', ?, 1, 2, 1, 0, "
                        "'album', NULL, 3)", [user["id"], track["id"]])
        catalog.execute("INSERT INTO saved_albums (user_id, album_id, added_ms) SELECT ?, album_id, 4 FROM tracks "
                        "WHERE id = ?", [user["id"], track["id"]])
        catalog.execute("INSERT INTO followed_artists (user_id, artist_id, added_ms) SELECT ?, artist_id, 5 "
                        "FROM tracks WHERE id = ?", [user["id"], track["id"]])
    search_changes.install(catalog)
    catalog.execute("UPDATE tracks SET popularity = popularity + 1")
    catalog.close()
    return data_dir


def test_every_row_arrives_bit_exact(household: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    before = _digests(database_url(household))
    assert main(["db", "copy", "--data", str(household), "--to", postgres_url]) == 0
    copied = _digests(sa.make_url(postgres_url))
    assert copied == before
    assert all(before[name][0] > 0 for name in ("tracks", "files", "users", "playlist_updates", "audio_features",
                                                    "saved_albums", "followed_artists"))
    assert _digests(database_url(household)) == before  # the source is only read
    engine = create_engine(sa.make_url(postgres_url))
    with engine.connect() as connection:
        vector = connection.execute(sa.text("SELECT vector FROM audio_features WHERE track_id = "
                                         "(SELECT MIN(id) FROM tracks)")).scalar_one()
        update = connection.execute(sa.text("SELECT data FROM playlist_updates WHERE playlist_id = 'pl-1' "
                                         "AND seq = 2")).scalar_one()
    engine.dispose()
    assert (bytes(vector), bytes(update)) == (_AWKWARD, _AWKWARD[::-1])
    out = capsys.readouterr().out
    assert f"tracks: {before['tracks'][0]} rows" in out
    assert re.search(r"^search_changes: not copied \([1-9][0-9]* rows; not in the declared schema yet\)$", out, re.M)
    assert f"copied {sum(count for count, _ in before.values())} rows of {len(before)} tables" in out


def test_ids_continue_past_the_copied_ones(household: Path, postgres_url: str) -> None:
    assert main(["db", "copy", "--data", str(household), "--to", postgres_url]) == 0
    engine = create_engine(sa.make_url(postgres_url))
    with engine.begin() as connection:
        largest = connection.execute(sa.text("SELECT MAX(id) FROM artists")).scalar_one()
        added = connection.execute(sa.text("INSERT INTO artists (name) VALUES ('New') RETURNING id")).scalar_one()
        first_like = connection.execute(sa.text("INSERT INTO likes (user_id, track_id, liked_ms) SELECT MIN(id), "
                                                "(SELECT MIN(id) FROM tracks), 1 FROM users RETURNING id")).scalar_one()
    engine.dispose()
    assert added == largest + 1
    assert first_like == 1  # an empty table's identity starts where a new one would


def test_a_target_holding_rows_is_refused(household: Path, postgres_url: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "copy", "--data", str(household), "--to", postgres_url]) == 0
    before = _digests(sa.make_url(postgres_url))
    assert main(["db", "copy", "--data", str(household), "--to", postgres_url]) == 1
    said = capsys.readouterr().err
    assert re.search(r"the target database already holds rows \(in artists, (.+, )?users, ", said), said
    assert _digests(sa.make_url(postgres_url)) == before


# SQLite keeps whatever it is given; PostgreSQL refuses text in a BIGINT and a NUL in TEXT, midway through a copy.
@pytest.mark.parametrize(("spoil", "said"), [
    ("UPDATE plays SET ms_played = 'a lot'", 'PostgreSQL refused a row of plays: invalid input syntax for type '
     'bigint: "a lot" (COPY plays, line 1, column ms_played: "a lot"); nothing was copied'),
    ("UPDATE tracks SET genre = 'ambient' || char(0) || 'drone' WHERE id = 7", "PostgreSQL refused a row of "
     "tracks: PostgreSQL text fields cannot contain NUL (0x00) bytes (the row with id 7); nothing was copied"),
])
def test_a_failed_copy_leaves_the_target_empty(household: Path, postgres_url: str, spoil: str, said: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    catalog = Catalog.open(household)
    catalog.execute(spoil)
    catalog.close()
    assert main(["db", "copy", "--data", str(household), "--to", postgres_url]) == 1
    assert said in capsys.readouterr().err
    engine = create_engine(sa.make_url(postgres_url))
    with engine.connect() as connection:
        assert sa.inspect(connection).get_table_names() == []
    engine.dispose()


def test_the_target_must_be_postgresql(household: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "copy", "--data", str(household), "--to", f"sqlite:///{household}/other.db"]) == 1
    assert "SQLite is the default" in capsys.readouterr().err


def test_a_schema_db_upgrade_made_is_filled(household: Path, postgres_url: str) -> None:
    assert main(["db", "upgrade", "--data", str(household), "--database", postgres_url]) == 0
    assert main(["db", "copy", "--data", str(household), "--to", postgres_url]) == 0
    assert _digests(sa.make_url(postgres_url)) == _digests(database_url(household))


def test_a_data_dir_without_a_catalog_is_refused(tmp_path: Path, postgres_url: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "copy", "--data", str(tmp_path / "typo"), "--to", postgres_url]) == 1
    assert f"there is no catalog to copy in {tmp_path / 'typo'}" in capsys.readouterr().err
    assert not (tmp_path / "typo").exists()
