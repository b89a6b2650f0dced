"""Liked tracks (the heart): a set per user with when each was liked; only its owner reads it."""

from __future__ import annotations

import time
from typing import Any

from server.catalog import Catalog


def like(catalog: Catalog, user_id: int, track_id: int) -> None:
    """Add the track to the user's likes; liking it again keeps the first time it was liked."""
    with catalog.transaction():
        catalog.execute("INSERT INTO likes (user_id, track_id, liked_ms) VALUES (?, ?, ?) "
                        "ON CONFLICT (user_id, track_id) DO NOTHING", [user_id, track_id, int(time.time() * 1000)])


def unlike(catalog: Catalog, user_id: int, track_id: int) -> None:
    with catalog.transaction():
        catalog.execute("DELETE FROM likes WHERE user_id = ? AND track_id = ?", [user_id, track_id])


def liked(catalog: Catalog, user_id: int, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    """A page of the user's likes newest first (``track_id``, ``liked_ms``), and how many there are in all."""
    rows = catalog.query("SELECT track_id, liked_ms FROM likes WHERE user_id = ? ORDER BY liked_ms DESC, id DESC "
                         "LIMIT ? OFFSET ?", [user_id, limit, offset])
    total = catalog.query_one("SELECT COUNT(*) AS n FROM likes WHERE user_id = ?", [user_id])
    return rows, int(total["n"]) if total else 0
