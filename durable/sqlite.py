"""One real SQLite write transaction over a sqlite-utils ``Database``: all its statements commit, or none.

sqlite-utils 4 commits every ``Database.execute()`` write on its own when no transaction is open, and
``with db.conn:`` opens none, so a multi-statement write must open its transaction itself: this module does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlite_utils


class NestedTransaction(RuntimeError):
    """A write transaction was opened inside another one on the same connection (a programming error)."""


@contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``; any exception (KeyboardInterrupt included) rolls everything back.

    IMMEDIATE takes the write lock up front, so a read-then-write inside never fails half way with
    SQLITE_BUSY when another connection writes first; it waits up to the connection's timeout instead.
    """
    conn = db.conn
    if conn.in_transaction:
        raise NestedTransaction("a write transaction is already open on this connection")
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
