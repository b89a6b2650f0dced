"""The database layer: URLs pick the engine, the schema built from catalog.py's declarations matches what the
SQLite catalog holds, and ``db upgrade`` brings either engine to the current schema (a real PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from server.auth import authenticate, create_user
from server.catalog import DB_NAME, Catalog
from server.catalog_connection import upgrade
from server.cli import URL_ANNOUNCEMENT, main
from server.database import DATABASE_ENV, create_engine, database_url
from server.exceptions import DatabaseError
from server.releases import release_at
from server.schema import schema
from tests.helpers.edge_cache import free_port
from tests.helpers.server_sources import stereo_tone, write_audio


def _affinity(declared: str) -> str:
    """SQLite's type affinity of a declared column type (its rules, section 3.1 of "Datatypes In SQLite")."""
    kind = declared.upper()
    if "INT" in kind:
        return "INTEGER"
    if any(word in kind for word in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if not kind or "BLOB" in kind:
        return "BLOB"
    return "REAL" if any(word in kind for word in ("REAL", "FLOA", "DOUB")) else "NUMERIC"


def _shape(connection: sa.Connection, tables: list[str]) -> dict[str, object]:
    inspector = sa.inspect(connection)
    return {name: ({column["name"] for column in inspector.get_columns(name)},
                   {(index["name"], tuple(index["column_names"]), bool(index["unique"]))
                    for index in inspector.get_indexes(name)},
                   {(tuple(key["constrained_columns"]), key["referred_table"])
                    for key in inspector.get_foreign_keys(name)})
            for name in tables}


def test_the_schema_is_the_sqlite_catalogs_own(tmp_path: Path) -> None:
    Catalog.open(tmp_path).close()
    metadata = schema()
    engine = create_engine(database_url(tmp_path))
    with engine.connect() as connection:
        made_by_catalog = _shape(connection, list(metadata.tables))
        declared = {(table.name, column.name): _affinity(column.type.compile(dialect=connection.dialect))
                    for table in metadata.sorted_tables for column in table.columns}
        stored = {(name, column["name"]): _affinity(str(column["type"]))
                  for name in metadata.tables for column in sa.inspect(connection).get_columns(name)}
    engine.dispose()
    other = tmp_path / "from-metadata"
    other.mkdir()
    engine = create_engine(database_url(other))
    metadata.create_all(engine)
    with engine.connect() as connection:
        assert _shape(connection, list(metadata.tables)) == made_by_catalog
    engine.dispose()
    assert declared == stored


@pytest.mark.parametrize("engine_kind", ["sqlite", "postgresql"])
def test_both_engines_enforce_foreign_keys(tmp_path: Path, engine_kind: str, request: pytest.FixtureRequest) -> None:
    url = database_url(tmp_path) if engine_kind == "sqlite" else sa.make_url(request.getfixturevalue("postgres_url"))
    Catalog.open(tmp_path).close()
    upgrade(tmp_path, url)
    engine = create_engine(url)
    albums = schema().tables["albums"]
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.execute(sa.insert(albums).values(title="Orphan", artist_id=404))
    engine.dispose()


def test_upgrade_creates_the_whole_schema_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    url = sa.make_url(postgres_url)
    added = upgrade(tmp_path, url)
    assert {change for change in added if change.startswith("table ")} == {f"table {name}" for name in schema().tables}
    engine = create_engine(url)
    with engine.connect() as connection:
        columns = {column["name"]: column for column in sa.inspect(connection).get_columns("playlist_updates")}
        tracks = {column["name"]: column for column in sa.inspect(connection).get_columns("tracks")}
        identity = connection.execute(sa.text("SELECT is_identity FROM information_schema.columns WHERE "
                                              "table_name = 'artists' AND column_name = 'id'")).scalar_one()
    engine.dispose()
    assert isinstance(columns["data"]["type"], sa.LargeBinary)  # BYTEA: loro updates bit-exact
    assert isinstance(columns["seq"]["type"], sa.BigInteger)
    assert isinstance(tracks["title"]["type"], sa.Text)
    assert isinstance(tracks["duration_s"]["type"], sa.Double)
    assert identity == "YES"
    assert upgrade(tmp_path, url) == []


def test_upgrade_adds_a_missing_column_and_index_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    url = sa.make_url(postgres_url)
    upgrade(tmp_path, url)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE tracks DROP COLUMN loudness_lufs"))
        connection.execute(sa.text("DROP INDEX idx_plays_received_ms"))
        connection.execute(sa.text("DROP TABLE discover_weekly"))
    assert main(["db", "upgrade", "--data", str(tmp_path), "--database", postgres_url]) == 0
    assert upgrade(tmp_path, url) == []
    with engine.connect() as connection:
        inspector = sa.inspect(connection)
        assert "loudness_lufs" in {column["name"] for column in inspector.get_columns("tracks")}
        assert "idx_plays_received_ms" in {index["name"] for index in inspector.get_indexes("plays")}
        assert "discover_weekly" in inspector.get_table_names()
    engine.dispose()


def test_upgrade_brings_an_older_sqlite_catalog_up_to_date(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Catalog.open(tmp_path).close()
    engine = create_engine(database_url(tmp_path))
    with engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE albums DROP COLUMN peak_dbfs")
        connection.exec_driver_sql("PRAGMA user_version = 0")
    assert main(["db", "upgrade", "--data", str(tmp_path)]) == 0
    with engine.connect() as connection:
        assert "peak_dbfs" in {column["name"] for column in sa.inspect(connection).get_columns("albums")}
    engine.dispose()
    assert f"{tmp_path / DB_NAME}: schema is current" in capsys.readouterr().out


def test_upgrade_refuses_a_data_dir_without_a_catalog(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade", "--data", str(tmp_path / "typo")]) == 1
    assert f"there is no catalog to upgrade in {tmp_path / 'typo'}" in capsys.readouterr().err
    assert not (tmp_path / "typo").exists()


def test_the_url_picks_the_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATABASE_ENV, raising=False)
    assert database_url(tmp_path).database == str(tmp_path / DB_NAME)
    monkeypatch.setenv(DATABASE_ENV, "postgresql://legato@db.example:5432/music")
    from_env = database_url(tmp_path)
    assert (from_env.drivername, from_env.host, from_env.database) == ("postgresql+psycopg", "db.example", "music")
    assert database_url(tmp_path, "postgresql+psycopg://me@other/cat").host == "other"


@pytest.mark.parametrize(("url", "message"), [
    ("not a url", "is not a database URL"),
    ("sqlite:///elsewhere.db", "SQLite is the default"),
    ("mysql://root@localhost/music", "runs on SQLite or on PostgreSQL"),
])
def test_a_wrong_url_is_refused_plainly(tmp_path: Path, url: str, message: str) -> None:
    with pytest.raises(DatabaseError, match=message):
        database_url(tmp_path, url)


def test_an_unreachable_postgresql_is_said_plainly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"postgresql://nobody:secret@127.0.0.1:{free_port()}/music"
    assert main(["db", "upgrade", "--data", str(tmp_path), "--database", url]) == 1
    error = capsys.readouterr().err
    assert "cannot reach the database" in error
    assert "secret" not in error


def test_serve_with_database_serves_from_postgresql(tmp_path: Path, postgres_url: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = Catalog.open(tmp_path, database_url(tmp_path, postgres_url))
    create_user(catalog, "alice", "alice-pw", "GB")
    catalog.close()
    monkeypatch.delenv(DATABASE_ENV, raising=False)
    data_dir = tmp_path / "data"
    command = [sys.executable, "-m", "server", "serve", "--data", str(data_dir), "--port", "0", "--database",
               postgres_url]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as server:
        try:
            assert server.stdout is not None
            announced = next(line for line in server.stdout if line.startswith(f"{URL_ANNOUNCEMENT}="))
            url = announced.split("=", 1)[1].strip()
            login = httpx.post(f"{url}/auth/login", json={"username": "alice", "password": "alice-pw"})
            assert login.status_code == 200, login.text
            me = httpx.get(f"{url}/me", headers={"Authorization": f"Bearer {login.json()['token']}"})
            assert me.status_code == 200 and me.json()["name"] == "alice"
        finally:
            server.terminate()
    assert not (data_dir / DB_NAME).exists()  # nothing went to SQLite


def test_serve_says_plainly_that_its_database_is_unreachable(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    before = os.environ.get(DATABASE_ENV)
    url = f"postgresql://nobody:secret@127.0.0.1:{free_port()}/music"
    assert main(["serve", "--data", str(tmp_path), "--port", "0", "--database", url]) == 1
    error = capsys.readouterr().err
    assert "cannot reach the database" in error and "secret" not in error
    assert os.environ.get(DATABASE_ENV) == before  # --database held for the run only


def test_every_data_dir_command_works_on_the_database_it_is_given(tmp_path: Path, postgres_url: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATABASE_ENV, raising=False)
    data_dir = tmp_path / "data"
    source = write_audio(tmp_path / "one.flac", stereo_tone(1.0), {"title": "One", "artist": "A", "album": "B"})
    for command in (["ingest", str(source)], ["release", "set", "--album", "1", "--at", "2031-01-01T00:00:00Z"],
                    ["user", "add", "ada", "--password", "ada-pw"]):
        ran = subprocess.run([sys.executable, "-m", "server", *command, "--data", str(data_dir), "--database",
                              postgres_url], capture_output=True, text=True, check=False)
        assert ran.returncode == 0, f"{command}: {ran.stderr}"
    catalog = Catalog.open(data_dir, database_url(data_dir, postgres_url))
    try:
        assert [row["title"] for row in catalog.query("SELECT title FROM tracks")] == ["One"]
        assert release_at(catalog, 1) == datetime(2031, 1, 1, tzinfo=UTC)
        assert authenticate(catalog, "ada", "ada-pw") is not None
    finally:
        catalog.close()
    assert not (data_dir / DB_NAME).exists()  # nothing went to SQLite
