"""Background jobs run once across a fleet: the instance that holds a job's lock runs that round, the others skip it.

On PostgreSQL the lock is a session advisory lock (``pg_try_advisory_lock``) on the shared database, so it holds
across machines; on SQLite, whose instances share one data dir on one machine, it is an ``flock`` on
``DATA/locks/<job>.lock``. Either dies with its holder (connection closed, process killed), so a killed instance
never wedges a job; nobody waits for a lock, a round that did not get it is simply not this instance's.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from server.database import catalog_engine, connect, database_url, is_postgresql

LOCKS_DIR = "locks"


@contextmanager
def held(data_dir: Path, job: str) -> Iterator[bool]:
    """Whether this process got ``job``'s lock for the block (True: run the job; False: another instance is)."""
    if not re.fullmatch(r"[a-z][a-z0-9-]{0,40}", job):
        raise ValueError(f"a job's name is a short lower-case word, not {job!r}")
    url = database_url(data_dir)
    if is_postgresql(url):
        with _advisory(url, job) as mine:
            yield mine
    else:
        with _flocked(data_dir / LOCKS_DIR / f"{job}.lock") as mine:
            yield mine


def _key(job: str) -> int:
    """A stable signed 64-bit key for the job (advisory locks are keyed by one bigint)."""
    return int.from_bytes(hashlib.blake2b(f"legato:{job}".encode(), digest_size=8).digest(), "big", signed=True)


@contextmanager
def _advisory(url: sa.URL, job: str) -> Iterator[bool]:
    key = _key(job)
    # The catalog's engine runs in autocommit: the lock is the session's, held until unlocked or disconnected.
    with connect(catalog_engine(url)) as connection:
        mine = bool(connection.execute(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar_one())
        try:
            yield mine
        finally:
            if mine:
                connection.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": key})


@contextmanager
def _flocked(path: Path) -> Iterator[bool]:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)
