"""Where the server keeps its state: a URL picks the engine (the data dir's SQLite ``catalog.db`` by default, or
PostgreSQL through psycopg 3), and SQLAlchemy Core's schema is built from ``server/catalog.py``'s declarations.

Never a second copy of the schema: every table, column, key and index here comes from catalog.py.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine

from server.catalog import _FOREIGN_KEYS, _INDEXES, _TABLES, _UNIQUE_INDEXES, DB_NAME, Catalog
from server.exceptions import DatabaseError

DATABASE_ENV = "LEGATO_DATABASE_URL"
# BIGINT on PostgreSQL; INTEGER on SQLite, where only an "INTEGER PRIMARY KEY" is the rowid (as sqlite-utils makes).
_INTEGER = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TYPES: dict[type, sa.types.TypeEngine[Any]] = {int: _INTEGER, str: sa.Text(), float: sa.Double(),
                                                bytes: sa.LargeBinary()}


def database_url(data_dir: Path, url: str | None = None) -> URL:
    """The database to use: ``url`` (``--database``), else ``LEGATO_DATABASE_URL``, else DATA/catalog.db."""
    raw = url or os.environ.get(DATABASE_ENV, "")
    if not raw:
        return URL.create("sqlite", database=str(data_dir / DB_NAME))
    try:
        parsed = sa.make_url(raw)
    except sa.exc.ArgumentError:
        raise DatabaseError(f"{raw!r} is not a database URL; give postgresql://USER@HOST:PORT/NAME") from None
    if parsed.get_backend_name() == "sqlite":
        raise DatabaseError("SQLite is the default: leave out --database (and LEGATO_DATABASE_URL) to use "
                            f"{data_dir / DB_NAME}")
    if parsed.get_backend_name() != "postgresql" or parsed.get_driver_name() not in ("psycopg", "psycopg2"):
        raise DatabaseError(f"{parsed.render_as_string()!r}: the server runs on SQLite or on PostgreSQL "
                            "(postgresql://USER@HOST:PORT/NAME)")
    return parsed.set(drivername="postgresql+psycopg")


def is_postgresql(url: URL) -> bool:
    return url.get_backend_name() == "postgresql"


def create_engine(url: URL) -> Engine:
    """An engine for ``url``: a PostgreSQL connection is checked before each use (a restarted server's are dead);
    a SQLite one is set up as ``Catalog.open`` sets up its own (foreign keys enforced, 30 s for a busy file)."""
    if is_postgresql(url):
        return sa.create_engine(url, pool_pre_ping=True)
    engine = sa.create_engine(url, connect_args={"timeout": 30})
    sa.event.listen(engine, "connect", _enforce_foreign_keys)
    return engine


def _enforce_foreign_keys(connection: sqlite3.Connection, _record: object) -> None:
    connection.execute("PRAGMA foreign_keys = ON")


def schema() -> sa.MetaData:
    """The catalog's tables as SQLAlchemy sees them, from catalog.py's declarations: ``id`` is each table's
    primary key (an identity on integer ones), every other column nullable, indexes named as sqlite-utils names
    them (``idx_<table>_<columns>``)."""
    metadata = sa.MetaData()
    for name, columns in _TABLES.items():
        references = {column: f"{table}.{key}" for column, table, key in _FOREIGN_KEYS.get(name, [])}
        table = sa.Table(name, metadata, *(_column(column, kind, references.get(column))
                                           for column, kind in columns.items()))
        for unique in _UNIQUE_INDEXES.get(name, []):
            sa.Index(_index_name(name, unique), *(table.c[column] for column in unique), unique=True)
        for index in _INDEXES.get(name, []):
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


def upgrade(data_dir: Path, url: URL) -> list[str]:
    """Bring the database's schema to the current one; what was added (tables, columns, indexes).

    On SQLite that is what opening the catalog does; on PostgreSQL missing tables, columns and indexes are
    created (in one transaction). Nothing is dropped or changed.
    """
    if not is_postgresql(url):
        if not (data_dir / DB_NAME).is_file():
            raise DatabaseError(f"there is no catalog to upgrade in {data_dir} (no {DB_NAME})")
        Catalog.open(data_dir).close()
        return []
    engine = create_engine(url)
    try:
        with connected(engine) as connection:
            return _add_missing(connection, schema())
    finally:
        engine.dispose()


def _add_missing(connection: sa.Connection, metadata: sa.MetaData) -> list[str]:
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


@contextmanager
def connected(engine: Engine) -> Iterator[sa.Connection]:
    """One connection to ``engine`` in one transaction (committed at the end), an unreachable server said plainly."""
    try:
        connection = engine.connect()
    except sa.exc.OperationalError as exc:
        raise DatabaseError(f"cannot reach the database {engine.url.render_as_string()} ({exc.orig})") from exc
    with connection, connection.begin():
        yield connection
