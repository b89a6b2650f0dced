"""From listening history to implicit-feedback confidences: one number per (user, track) the model learns from.

The weights (why these): a play heard for 30 s or more is the seed's implicit like, and repeats matter with
diminishing returns (log), so a track played 50 times is not 50 times the evidence of one played once; a Like
is a deliberate act, worth several full plays; a skip before 30 s with no full play and no like is a weak
negative (the user heard it and moved on), kept weak because skips are also how people browse.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from server.catalog import Catalog

HEARD_MS = 30_000
HEARD_WEIGHT = 6.0  # confidence added per log(1 + full plays)
LIKE_WEIGHT = 12.0  # a like: about what seven full plays add
SKIP_WEIGHT = 0.5  # per skip (up to MAX_SKIPS), as a negative confidence with preference 0
MAX_SKIPS = 4


@dataclass(frozen=True)
class Interactions:
    """Confidences as a (users, tracks) CSR matrix: > 0 a positive, < 0 a weak negative (preference 0)."""

    user_ids: np.ndarray  # int64, the matrix's rows
    track_ids: np.ndarray  # int64, the matrix's columns
    confidence: sp.csr_matrix
    newest_received_ms: int  # the newest play this was built from (the trainer's "new plays" mark)


def confidence(heard: np.ndarray, skips: np.ndarray, liked: np.ndarray) -> np.ndarray:
    """The confidence of each (user, track) pair from its full plays, short skips and like (0 or 1)."""
    positive = HEARD_WEIGHT * np.log1p(heard) + LIKE_WEIGHT * liked
    negative = -(1.0 + SKIP_WEIGHT * np.minimum(skips, MAX_SKIPS))
    return np.where(positive > 0, 1.0 + positive, np.where(skips > 0, negative, 0.0)).astype(np.float32)

# 1 or 0 for a play (flags are integers on both engines, which sum numbers, not truth values)
_HEARD = "CASE WHEN ms_played >= :heard OR completed <> 0 THEN 1 ELSE 0 END"
_SKIP = "CASE WHEN skipped <> 0 AND ms_played < :heard THEN 1 ELSE 0 END"


def load(catalog: Catalog, track_ids: np.ndarray) -> Interactions:
    """Every user's confidences over the columns ``track_ids`` (tracks missing from it are left out)."""
    rows = catalog.query(
        "SELECT user_id, track_id, SUM(heard) AS heard, SUM(skip) AS skips, MAX(liked) AS liked FROM ("
        f" SELECT user_id, track_id, {_HEARD} AS heard, {_SKIP} AS skip, 0 AS liked FROM plays"
        " UNION ALL SELECT user_id, track_id, 0, 0, 1 FROM likes) AS events GROUP BY user_id, track_id",
        {"heard": HEARD_MS})
    newest = catalog.query_one("SELECT COALESCE(MAX(received_ms), 0) AS newest FROM plays")
    column = {int(track_id): index for index, track_id in enumerate(track_ids)}
    kept = [row for row in rows if int(row["track_id"]) in column]
    user_ids = np.array(sorted({int(row["user_id"]) for row in kept}), dtype=np.int64)
    user_row = {int(user_id): index for index, user_id in enumerate(user_ids)}
    values = confidence(np.array([row["heard"] for row in kept], dtype=np.float64),
                        np.array([row["skips"] for row in kept], dtype=np.float64),
                        np.array([row["liked"] for row in kept], dtype=np.float64))
    matrix = sp.csr_matrix((values, ([user_row[int(row["user_id"])] for row in kept],
                                     [column[int(row["track_id"])] for row in kept])),
                           shape=(len(user_ids), len(track_ids)), dtype=np.float32)
    matrix.eliminate_zeros()
    return Interactions(user_ids, np.asarray(track_ids, dtype=np.int64), matrix,
                        int(newest["newest"]) if newest else 0)


def user_confidences(catalog: Catalog, user_id: int) -> dict[int, float]:
    """One user's confidence per track (the taste a Discover Weekly is made from)."""
    rows = catalog.query(
        "SELECT track_id, SUM(heard) AS heard, SUM(skip) AS skips, MAX(liked) AS liked FROM ("
        f" SELECT track_id, {_HEARD} AS heard, {_SKIP} AS skip, 0 AS liked FROM plays WHERE user_id = :user"
        " UNION ALL SELECT track_id, 0, 0, 1 FROM likes WHERE user_id = :user) AS events GROUP BY track_id",
        {"heard": HEARD_MS, "user": user_id})
    values = confidence(np.array([row["heard"] for row in rows], dtype=np.float64),
                        np.array([row["skips"] for row in rows], dtype=np.float64),
                        np.array([row["liked"] for row in rows], dtype=np.float64))
    return {int(row["track_id"]): float(value) for row, value in zip(rows, values, strict=True) if value != 0}


def played(catalog: Catalog, user_id: int) -> set[int]:
    """Every track the user ever started (heard or skipped): Discover Weekly never offers them."""
    return {int(row["track_id"]) for row in catalog.query("SELECT DISTINCT track_id FROM plays WHERE user_id = ?",
                                                          [user_id])}


def heard_latest_first(catalog: Catalog, user_id: int) -> list[int]:
    """The tracks the user heard (30 s or more), each once, the most recently heard first."""
    rows = catalog.query("SELECT track_id, MAX(started_ms) AS last FROM plays WHERE user_id = ? "
                         "AND (ms_played >= ? OR completed <> 0) GROUP BY track_id ORDER BY last DESC",
                         [user_id, HEARD_MS])
    return [int(row["track_id"]) for row in rows]
