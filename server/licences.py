"""Offline licences: a file's key granted to a user for offline play until an expiry, each grant recorded.

The validity is LEGATO_OFFLINE_LICENCE_DAYS (default 30); the grants live in their own table of the catalog DB.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from server.catalog import Catalog

VALIDITY_ENV = "LEGATO_OFFLINE_LICENCE_DAYS"
DEFAULT_VALIDITY_DAYS = 30.0
_DAY_S = 86400.0
_TABLE = "offline_grants"


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


def grant(catalog: Catalog, user_id: int, file_id: int) -> OfflineGrant:
    """Grant (or renew) ``user_id``'s offline licence for ``file_id`` from now on and record it."""
    table = catalog.db.table(_TABLE)
    table.create({"user_id": int, "file_id": int, "granted_at": float, "expires_at": float},
                 pk=("user_id", "file_id"), foreign_keys=[("user_id", "users", "id"), ("file_id", "files", "id")],
                 if_not_exists=True)
    offline = OfflineGrant(file_id, time.time(), validity_s())
    table.upsert({"user_id": user_id, "file_id": file_id, "granted_at": offline.granted_at,
                  "expires_at": offline.expires_at}, pk=("user_id", "file_id"))
    return offline
