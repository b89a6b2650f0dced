"""``legato-server db copy``: every row of every catalog table, from a data dir's SQLite catalog into an empty
PostgreSQL database, in one transaction there (all or nothing), tables in foreign-key order, streamed by COPY.

It reads one consistent snapshot of the SQLite file (a running household server may keep writing) and never
writes to it beyond what opening the catalog brings up to date.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import URL

from server.catalog import DB_NAME, Catalog
from server.database import connected, create_engine, is_postgresql, sqlite_url
from server.exceptions import DatabaseError
from server.schema import schema

BATCH_ROWS = 5000


def copy_catalog(data_dir: Path, target: URL, progress: Callable[[str], None]) -> dict[str, int]:
    """Copy the catalog of ``data_dir`` into the PostgreSQL database ``target``; the rows copied per table."""
    if not is_postgresql(target):
        raise DatabaseError("db copy moves a data dir's SQLite catalog to PostgreSQL: give --to postgresql://…")
    if not (data_dir / DB_NAME).is_file():
        raise DatabaseError(f"there is no catalog to copy in {data_dir} (no {DB_NAME})")
    Catalog.open(data_dir, sqlite_url(data_dir)).close()  # an older data dir's catalog gains the current schema first
    metadata = schema()
    source, destination = create_engine(sqlite_url(data_dir)), create_engine(target)
    try:
        with connected(destination) as into, source.connect() as read:
            _refuse_rows(into, metadata)
            metadata.create_all(into)
            # One read transaction: every table from the same snapshot of the SQLite file.
            read = read.execution_options(isolation_level="AUTOCOMMIT")
            read.exec_driver_sql("BEGIN")
            copied = {table.name: _copy_table(read, into, table, progress) for table in metadata.sorted_tables}
            _report_undeclared(read, metadata, progress)
            read.exec_driver_sql("ROLLBACK")
            _advance_identities(into, metadata)
    finally:
        source.dispose()
        destination.dispose()
    return copied


def _refuse_rows(into: sa.Connection, metadata: sa.MetaData) -> None:
    present = set(sa.inspect(into).get_table_names())
    filled = [table.name for table in metadata.sorted_tables
              if table.name in present and into.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first()]
    if filled:
        raise DatabaseError(f"the target database already holds rows (in {', '.join(filled)}); db copy fills only "
                            "an empty database: create a new one (createdb) or empty it first")


def _copy_table(read: sa.Connection, into: sa.Connection, table: sa.Table,
                progress: Callable[[str], None]) -> int:
    """The table's rows in id order, streamed into PostgreSQL's COPY (several times the rows/s of INSERTs)."""
    rows = read.execution_options(yield_per=BATCH_ROWS).execute(sa.select(table).order_by(table.c.id))
    postgres = cast("psycopg.Connection[Any]", into.connection.driver_connection)
    columns = ", ".join(f'"{column.name}"' for column in table.columns)
    count, written = 0, None
    try:
        with postgres.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
            for batch in rows.partitions():
                for row in batch:
                    written = row.id
                    copy.write_row(row)
                count += len(batch)
                progress(f"{table.name}: {count} rows")
    except psycopg.DataError as exc:  # SQLite keeps whatever it is given; PostgreSQL's types may refuse it
        # The server's context names the column and the row ("COPY plays, line 7, …": the 7th row in id order);
        # psycopg's own refusals (a NUL in text) come at the row being written.
        where = exc.diag.context or f"the row with id {written}"
        raise DatabaseError(f"PostgreSQL refused a row of {table.name}: {str(exc).splitlines()[0]} ({where}); "
                            "nothing was copied") from exc
    if count == 0:
        progress(f"{table.name}: empty")
    return count


def _report_undeclared(read: sa.Connection, metadata: sa.MetaData, progress: Callable[[str], None]) -> None:
    """Say which tables of the SQLite file stay behind: those its modules keep outside catalog.py's declarations
    (offline grants, warming progress, the search change log) are not part of the schema yet."""
    for name in sorted(set(sa.inspect(read).get_table_names()) - set(metadata.tables)):
        count = read.execute(sa.select(sa.func.count()).select_from(sa.table(name))).scalar_one()
        progress(f"{name}: not copied ({count} rows; not in the declared schema yet)")


def _advance_identities(into: sa.Connection, metadata: sa.MetaData) -> None:
    """Each identity continues past the largest copied id (rows were inserted with their own ids)."""
    for table in metadata.sorted_tables:
        if table.c.id.identity is not None:
            into.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                 f"COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {table.name}"))
