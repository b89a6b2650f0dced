"""Offline licences: a file's key granted to a user for offline play until an expiry, each grant recorded.

The validity is LEGATO_OFFLINE_LICENCE_DAYS (default 30); grants live in DATA/licences.db, apart from the catalog,
so granting never contends with a catalog reader.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

VALIDITY_ENV = "LEGATO_OFFLINE_LICENCE_DAYS"
DEFAULT_VALIDITY_DAYS = 30.0
_DAY_S = 86400.0
DB_NAME = "licences.db"
_TABLE = "offline_grants"
_grant_lock = threading.Lock()


@dataclass(frozen=True)
class OfflineGrant:
    """The right to play a file offline until ``expires_at`` (Unix seconds), ``valid_s`` after it was granted."""

    file_id: int
    granted_at: float
    valid_s: float

    @property
    def expires_at(self) -> float:
        return self.granted_at + self.valid_s

    def to_json(self) -> dict[str, float]:
        return {"granted_at": self.granted_at, "expires_at": self.expires_at, "valid_s": self.valid_s}


def validity_s() -> float:
    """How long an offline licence lasts, from the server's configuration."""
    raw = os.environ.get(VALIDITY_ENV)
    if raw is None:
        return DEFAULT_VALIDITY_DAYS * _DAY_S
    try:
        days = float(raw)
    except ValueError:
        days = -1.0
    if not days > 0:
        raise ValueError(f"{VALIDITY_ENV}={raw!r} is not a positive number of days")
    return days * _DAY_S


def grant(data_dir: Path, user_id: int, file_id: int) -> OfflineGrant:
    """Grant (or renew) ``user_id``'s offline licence for ``file_id`` from now on, and record it."""
    offline = OfflineGrant(file_id, time.time(), validity_s())
    # Requests run on a thread pool; one grant at a time keeps the first one's CREATE from racing another's.
    with _grant_lock, closing(sqlite3.connect(data_dir / DB_NAME, timeout=30)) as connection, connection:
        connection.execute(f"CREATE TABLE IF NOT EXISTS {_TABLE} (user_id INTEGER NOT NULL, file_id INTEGER NOT NULL, "
                           "granted_at REAL NOT NULL, expires_at REAL NOT NULL, PRIMARY KEY (user_id, file_id))")
        connection.execute(f"INSERT OR REPLACE INTO {_TABLE} (user_id, file_id, granted_at, expires_at) "
                           "VALUES (?, ?, ?, ?)", [user_id, file_id, offline.granted_at, offline.expires_at])
    return offline


def grants(data_dir: Path, user_id: int) -> list[OfflineGrant]:
    """The offline licences ``user_id`` holds, oldest grant first."""
    path = data_dir / DB_NAME
    if not path.exists():
        return []
    with _grant_lock, closing(sqlite3.connect(path, timeout=30)) as connection:
        if not connection.execute("SELECT 1 FROM sqlite_master WHERE name = ?", [_TABLE]).fetchone():
            return []
        rows = connection.execute(f"SELECT file_id, granted_at, expires_at FROM {_TABLE} WHERE user_id = ? "
                                  "ORDER BY granted_at", [user_id]).fetchall()
    return [OfflineGrant(int(file_id), float(granted), float(expires) - float(granted))
            for file_id, granted, expires in rows]
