"""Where the server keeps its state: a URL picks the engine (the data dir's SQLite ``catalog.db`` by default, or
PostgreSQL through psycopg 3), SQLAlchemy Core's schema is built from ``server/schema.py``'s declarations, and the
catalog's SQL (written once, with ``?`` or ``:name`` placeholders) is handed to either driver in its own style.

Never a second copy of the schema or of a query: what differs between the engines is said here, once.
"""

from __future__ import annotations

import functools
import os
import re
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine

from server.exceptions import ApiError, DatabaseError

DATABASE_ENV = "LEGATO_DATABASE_URL"
DB_NAME = "catalog.db"
Params = Sequence[Any] | Mapping[str, Any]
# What SQLite has and PostgreSQL lacks, given to PostgreSQL once per database: GROUP_CONCAT (the search index's
# regions of an album or artist; DISTINCT works on any aggregate, the order of the parts is free on both).
POSTGRESQL_FUNCTIONS = """
CREATE OR REPLACE FUNCTION legato_concat(parts TEXT, part TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE AS
    $$ SELECT CASE WHEN parts IS NULL THEN part WHEN part IS NULL THEN parts ELSE parts || ',' || part END $$;
CREATE OR REPLACE AGGREGATE group_concat(TEXT) (SFUNC = legato_concat, STYPE = TEXT);
"""
# A quoted literal or identifier (copied as it is), a cast (::), or a placeholder or percent sign to rewrite.
_SQL_TOKENS = re.compile(r"'(?:[^']|'')*'|\"[^\"]*\"|::|\?|:(\w+)|%")
_engines: dict[URL, Engine] = {}
_engines_lock = threading.Lock()

def database_url(data_dir: Path, url: str | None = None) -> URL:
    """The database to use: ``url`` (``--database``), else ``LEGATO_DATABASE_URL``, else DATA/catalog.db."""
    raw = url or os.environ.get(DATABASE_ENV, "")
    if not raw:
        return sqlite_url(data_dir)
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


def sqlite_url(data_dir: Path) -> URL:
    """The data dir's own SQLite catalog, whatever else is configured (what ``db copy`` reads)."""
    return URL.create("sqlite", database=str(data_dir / DB_NAME))


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


def catalog_engine(url: URL) -> Engine:
    """The process's engine for the catalog at ``url``, whose connections run each statement on its own unless
    the catalog opens a transaction itself (as sqlite3 and sqlite-utils do). PostgreSQL's connections are pooled
    (opening one costs a few round trips); SQLite's are not (``CatalogPool`` keeps the server's open)."""
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            if is_postgresql(url):
                engine = sa.create_engine(url, pool_pre_ping=True, isolation_level="AUTOCOMMIT", pool_size=5,
                                          max_overflow=64)
            else:
                engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool,
                                          connect_args={"timeout": 30, "check_same_thread": False})
                sa.event.listen(engine, "connect", _enforce_foreign_keys)
            _engines[url] = engine
        return engine


def dispose_engines() -> None:
    """Close every idle pooled connection of every catalog engine (connections still lent close when returned)."""
    with _engines_lock:
        engines = list(_engines.values())
        _engines.clear()
    for engine in engines:
        engine.dispose()


def _forget_inherited_connections() -> None:
    """In a forked child (the demo's ``ProcessPoolExecutor`` workers): the pooled connections it
    inherited are the parent's sockets, and two processes talking over one corrupts both sessions (PostgreSQL's
    "prepared statement already exists"). The child's engines start pools of their own, leaving the parent's
    connections open for the parent; a lock some other parent thread held at the fork is one nobody will release."""
    global _engines_lock
    _engines_lock = threading.Lock()
    for engine in _engines.values():
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_inherited_connections)


def connect(engine: Engine) -> sa.Connection:
    """A connection of ``engine``; an unreachable server said plainly."""
    try:
        return engine.connect()
    except sa.exc.OperationalError as exc:
        raise DatabaseError(f"cannot reach the database {engine.url.render_as_string()} ({exc.orig})") from exc


def driver_sql(sql: str, postgresql: bool) -> str:
    """``sql`` as the driver takes it: SQLite's own ``?`` and ``:name``, or psycopg's ``%s`` and ``%(name)s``."""
    return _psycopg_style(sql) if postgresql else sql


@functools.lru_cache(maxsize=2048)
def _psycopg_style(sql: str) -> str:
    def rewrite(token: re.Match[str]) -> str:
        text = token.group(0)
        if text == "?":
            return "%s"
        if text == "%":
            return "%%"
        if token.group(1):
            return f"%({token.group(1)})s"
        return text.replace("%", "%%")  # psycopg reads placeholders inside literals too
    return _SQL_TOKENS.sub(rewrite, sql)


def refuse_nul(params: Params) -> None:
    """ApiError 422 for text holding a NUL character: PostgreSQL cannot store one, and no name, id or tag needs
    it, so neither engine is handed one."""
    values = params.values() if isinstance(params, Mapping) else params
    for value in values:
        if isinstance(value, str) and "\x00" in value:
            raise ApiError(422, "nul_in_text", f"{value[:40]!r} holds a NUL character (\\x00), which no text here "
                           "may hold; remove it")


@contextmanager
def connected(engine: Engine) -> Iterator[sa.Connection]:
    """One connection to ``engine`` in one transaction (committed at the end), an unreachable server said plainly."""
    connection = connect(engine)
    with connection, connection.begin():
        yield connection
