"""Offline licences: a file's key granted to a user for offline play until an expiry, each grant recorded.

The validity is LEGATO_OFFLINE_LICENCE_DAYS (default 30); grants live in the catalog's ``offline_grants``, so every
instance of a fleet sees them (an older server kept them in DATA/licences.db: ``LEGACY_DB_NAME``, imported by an
upgrade step).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from server.catalog import Catalog

VALIDITY_ENV = "LEGATO_OFFLINE_LICENCE_DAYS"
DEFAULT_VALIDITY_DAYS = 30.0
_DAY_S = 86400.0
LEGACY_DB_NAME = "licences.db"


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
    """Grant (or renew) ``user_id``'s offline licence for ``file_id`` from now on, and record it."""
    offline = OfflineGrant(file_id, time.time(), validity_s())
    catalog.execute("INSERT INTO offline_grants (user_id, file_id, granted_at, expires_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (user_id, file_id) DO UPDATE SET granted_at = excluded.granted_at, "
                    "expires_at = excluded.expires_at", [user_id, file_id, offline.granted_at, offline.expires_at])
    return offline


def grants(catalog: Catalog, user_id: int) -> list[OfflineGrant]:
    """The offline licences ``user_id`` holds, oldest grant first."""
    rows = catalog.query("SELECT file_id, granted_at, expires_at FROM offline_grants WHERE user_id = ? "
                         "ORDER BY granted_at, file_id", [user_id])
    return [OfflineGrant(int(row["file_id"]), float(row["granted_at"]),
                         float(row["expires_at"]) - float(row["granted_at"])) for row in rows]
