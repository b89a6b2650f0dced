"""One connection to the catalog on either engine (SQLite in the data dir, or PostgreSQL), through SQLAlchemy Core:
statements run on their own unless inside ``transaction()``, rows come back as dicts, the schema is brought up to
date on open. The catalog's queries (``server/catalog.py`` and the modules that take a ``Catalog``) sit above it.

What the engines do differently is said here or in ``server/database.py``, never by a caller.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self, cast

import psycopg
import sqlalchemy as sa
import sqlite_utils
from sqlalchemy.engine import URL

from durable import NestedTransaction, write_transaction
from server.database import (
    DB_NAME,
    POSTGRESQL_FUNCTIONS,
    Params,
    catalog_engine,
    connect,
    database_url,
    driver_sql,
    is_postgresql,
    refuse_nul,
)
from server.exceptions import DatabaseError
from server.schema import FOREIGN_KEYS, INDEXES, SCHEMA_VERSION, TABLES, UNIQUE_INDEXES, add_missing, schema

# Held while one process brings a PostgreSQL schema up to date, so instances starting together take turns.
_SCHEMA_LOCK_KEY = 0x4C656761  # "Lega"
_VERSION_TABLE = "legato_schema"
_schema_current: set[URL] = set()
_schema_lock = threading.Lock()


class CatalogConnection:
    """One connection; one per task (``open``, or borrowed from the server's ``CatalogPool`` for a request), never
    used by two at once. ``postgresql`` says which engine it is, for the few statements that differ."""

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection
        self.postgresql = connection.dialect.name == "postgresql"
        self._driver = connection.connection.driver_connection
        self._sqlite = None if self.postgresql else sqlite_utils.Database(cast("Any", self._driver))

    @classmethod
    def open(cls, data_dir: Path, url: URL | None = None) -> Self:
        """Open (creating if needed) the catalog: ``url``, else ``LEGATO_DATABASE_URL``, else DATA/catalog.db."""
        url = url or database_url(data_dir)
        if not is_postgresql(url):
            data_dir.mkdir(parents=True, exist_ok=True)
        catalog = cls(connect(catalog_engine(url)))
        try:
            catalog.ensure_schema()
        except BaseException:
            catalog.close()
            raise
        return catalog

    def close(self) -> None:
        if self.in_transaction:
            self._connection.exec_driver_sql("ROLLBACK")
        self._connection.close()

    @property
    def broken(self) -> bool:
        """The connection died under us (the database restarted or went away): close it, never lend it again."""
        if self._connection.invalidated:
            return True
        if self._sqlite is not None:
            return False
        driver = cast("psycopg.Connection[Any]", self._driver)
        return driver.closed or driver.info.transaction_status == psycopg.pq.TransactionStatus.UNKNOWN

    @property
    def in_transaction(self) -> bool:
        if self._sqlite is not None:
            return self._sqlite.conn.in_transaction
        status = cast("psycopg.Connection[Any]", self._driver).info.transaction_status
        # UNKNOWN is a connection that broke (the database went away): nothing is open on it to roll back.
        return status not in (psycopg.pq.TransactionStatus.IDLE, psycopg.pq.TransactionStatus.UNKNOWN)

    # -- the schema ------------------------------------------------------------------------------------------

    def ensure_schema(self, always: bool = False) -> list[str]:
        """Create what is missing: every table on a new catalog, new tables and columns on an older one; what was
        added on PostgreSQL (checked once per process unless ``always``; SQLite compares a fingerprint)."""
        if self._sqlite is not None:
            self._ensure_sqlite_schema(self._sqlite)
            return []
        url = self._connection.engine.url
        with _schema_lock:
            if not always and (url in _schema_current or self._postgresql_version() == SCHEMA_VERSION):
                _schema_current.add(url)
                return []
            with self.transaction():
                self.execute("SELECT pg_advisory_xact_lock(?)", [_SCHEMA_LOCK_KEY])
                added = add_missing(self._connection, schema())
                self.executescript(POSTGRESQL_FUNCTIONS)
                self.executescript(f"CREATE TABLE IF NOT EXISTS {_VERSION_TABLE} (version BIGINT NOT NULL); "
                                   f"DELETE FROM {_VERSION_TABLE}; "
                                   f"INSERT INTO {_VERSION_TABLE} VALUES ({SCHEMA_VERSION})")
            _schema_current.add(url)
        return added

    def _postgresql_version(self) -> int:
        """The fingerprint of the schema the database was last brought to (SQLite keeps it in user_version)."""
        if self.query_one("SELECT to_regclass(?) AS found", [_VERSION_TABLE]) == {"found": None}:
            return 0
        row = self.query_one(f"SELECT version FROM {_VERSION_TABLE}")
        return 0 if row is None else int(row["version"])

    def _ensure_sqlite_schema(self, db: sqlite_utils.Database) -> None:
        if int(db.execute("PRAGMA user_version").fetchone()[0]) == SCHEMA_VERSION:
            return
        db.enable_wal()
        with write_transaction(db):
            for name, columns in TABLES.items():
                db.table(name).create(columns, pk="id", foreign_keys=FOREIGN_KEYS.get(name, []), if_not_exists=True)
                table = db.table(name)
                present = set(table.columns_dict)
                for column, kind in columns.items():
                    if column not in present:
                        table.add_column(column, kind)
                for unique in UNIQUE_INDEXES.get(name, []):
                    table.create_index(unique, unique=True, if_not_exists=True)
                for index in INDEXES.get(name, []):
                    table.create_index(index, if_not_exists=True)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # -- statements and transactions -------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything written inside commits together or not at all. On SQLite it holds the file's write lock
        from the start (``BEGIN IMMEDIATE``), so a read-then-write inside never fails half way."""
        if self._sqlite is not None:
            with write_transaction(self._sqlite):
                yield
            return
        if self.in_transaction:
            raise NestedTransaction("a write transaction is already open on this connection")
        self._connection.exec_driver_sql("BEGIN")
        try:
            yield
        except BaseException:
            if self.in_transaction:
                self._connection.exec_driver_sql("ROLLBACK")
            raise
        try:
            self._connection.exec_driver_sql("COMMIT")
        except BaseException:
            if self.in_transaction:
                self._connection.exec_driver_sql("ROLLBACK")
            raise

    @contextmanager
    def read_snapshot(self) -> Iterator[None]:
        """One read transaction: every query inside sees the same catalog (SQLite's WAL snapshot, PostgreSQL's
        repeatable read)."""
        self._connection.exec_driver_sql(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" if self.postgresql else "BEGIN")
        try:
            yield
        finally:
            self._connection.exec_driver_sql("COMMIT")

    def lock(self, table: str, row_id: object) -> None:
        """Inside ``transaction()``: hold the row's lock until the end, so writers of that row take turns. On
        PostgreSQL a row lock (``FOR UPDATE``); SQLite's transaction already holds the whole file's."""
        assert self.in_transaction, "lock a row inside transaction()"
        if self.postgresql:
            self.execute(f"SELECT id FROM {table} WHERE id = ? FOR UPDATE", [row_id])

    def execute(self, sql: str, params: Params = ()) -> sa.CursorResult[Any]:
        """Run one statement (``?`` or ``:name`` placeholders); its result (``rowcount``, rows if any)."""
        refuse_nul(params)
        bound = dict(params) if isinstance(params, dict) else tuple(params)
        return self._connection.exec_driver_sql(driver_sql(sql, self.postgresql), bound)

    def executescript(self, script: str) -> None:
        """Run several statements without placeholders (schema, triggers), inside a transaction on PostgreSQL only
        (SQLite commits an open one first)."""
        if self._sqlite is not None:
            self._sqlite.conn.executescript(script)
        else:
            cast("psycopg.Connection[Any]", self._driver).execute(cast("Any", script))

    def query(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        result = self.execute(sql, params)
        keys = list(result.keys())
        return [dict(zip(keys, row, strict=True)) for row in result]

    def query_one(self, sql: str, params: Params = ()) -> dict[str, Any] | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def insert(self, table: str, row: dict[str, Any]) -> int:
        """Insert ``row`` into ``table``; its new id."""
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        return int(self.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING id",
                                list(row.values())).scalar_one())


def upgrade(data_dir: Path, url: URL) -> list[str]:
    """Bring the database's schema to the current one; what was added (tables, columns, indexes).

    On SQLite that is what opening the catalog does; on PostgreSQL missing tables, columns and indexes are
    created (in one transaction). Nothing is dropped or changed.
    """
    if not is_postgresql(url) and not (data_dir / DB_NAME).is_file():
        raise DatabaseError(f"there is no catalog to upgrade in {data_dir} (no {DB_NAME})")
    catalog = CatalogConnection(connect(catalog_engine(url)))
    try:
        return catalog.ensure_schema(always=True)
    finally:
        catalog.close()
