"""Listening history: play events a client sends in batches, stored once each (idempotent by event id).

An event for a track the catalog lacks, or dated in the future, past the window or beyond a user's daily
bound, is ignored with its reason; nothing else is stored for it. Only the owner of a history ever reads it.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from server.catalog import Catalog

MAX_EVENTS_PER_BATCH = 500
CLOCK_SKEW_MS = 5 * 60 * 1000  # a client clock this far ahead of ours is still believed
OLDEST_MS = 400 * 24 * 3600 * 1000  # older events tell nothing the model uses, and could be a flood's cover
MAX_PLAYS_PER_DAY = 3000  # a whole day of 30-second skips; past it the events of that day are a flood
_DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class PlayEvent:
    """One play as the client recorded it (validated shape; its facts are checked by ``record``)."""

    event_id: str
    track_id: int
    started_ms: int
    ms_played: int
    completed: bool
    skipped: bool
    context_kind: str
    context_id: str | None


@dataclass(frozen=True)
class Ignored:
    event_id: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"id": self.event_id, "reason": self.reason}


@dataclass(frozen=True)
class BatchResult:
    accepted: int
    duplicates: int
    ignored: tuple[Ignored, ...]

    def to_json(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "duplicates": self.duplicates,
                "ignored": [item.to_json() for item in self.ignored]}


def record(catalog: Catalog, user_id: int, events: list[PlayEvent], now_ms: int | None = None) -> BatchResult:
    """Store the batch in one transaction; a resent event (same id) is counted as a duplicate, never twice."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    known = _known_tracks(catalog, {event.track_id for event in events})
    ignored: list[Ignored] = []
    candidates: list[PlayEvent] = []
    for event in events:
        reason = ("unknown_track" if event.track_id not in known
                  else "future" if event.started_ms > now_ms + CLOCK_SKEW_MS
                  else "too_old" if event.started_ms < now_ms - OLDEST_MS else None)
        if reason is None:
            candidates.append(event)
        else:
            ignored.append(Ignored(event.event_id, reason))
    accepted = duplicates = 0
    with catalog.transaction():
        room = _room_per_day(catalog, user_id, {event.started_ms // _DAY_MS for event in candidates})
        for event in candidates:
            day = event.started_ms // _DAY_MS
            if room[day] <= 0:
                if not _exists(catalog, user_id, event.event_id):
                    ignored.append(Ignored(event.event_id, "too_many_for_day"))
                    continue
                duplicates += 1
                continue
            cursor = catalog.execute(
                "INSERT INTO plays (user_id, event_id, track_id, started_ms, ms_played, completed, skipped, "
                "context_kind, context_id, received_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (user_id, event_id) DO NOTHING",
                [user_id, event.event_id, event.track_id, event.started_ms, event.ms_played, int(event.completed),
                 int(event.skipped), event.context_kind, event.context_id, now_ms])
            if cursor.rowcount == 1:
                accepted += 1
                room[day] -= 1
            else:
                duplicates += 1
    return BatchResult(accepted, duplicates, tuple(ignored))


def history(catalog: Catalog, user_id: int, limit: int, before_ms: int | None) -> tuple[list[dict[str, Any]],
                                                                                        int | None]:
    """The user's plays newest first (``before_ms`` pages back), and the cursor of the next page if any.

    A page never ends inside a run of plays started in the same millisecond (it takes the whole run), so the
    time cursor alone pages through every play exactly once.
    """
    columns = "event_id, track_id, started_ms, ms_played, completed, skipped, context_kind, context_id"
    rows = catalog.query(f"SELECT {columns} FROM plays WHERE user_id = ? AND started_ms < ? "
                         "ORDER BY started_ms DESC, id DESC LIMIT ?",
                         [user_id, 2**62 if before_ms is None else before_ms, limit + 1])
    if len(rows) <= limit:
        return rows, None
    edge = int(rows[limit - 1]["started_ms"])
    page = [row for row in rows if int(row["started_ms"]) > edge]
    page += catalog.query(f"SELECT {columns} FROM plays WHERE user_id = ? AND started_ms = ? ORDER BY id DESC",
                          [user_id, edge])
    return page, edge


def clear(catalog: Catalog, user_id: int) -> int:
    """Forget the user's whole history; returns how many plays were removed."""
    with catalog.transaction():
        return catalog.execute("DELETE FROM plays WHERE user_id = ?", [user_id]).rowcount


def plays_since(catalog: Catalog, received_after_ms: int) -> int:
    """How many plays arrived after ``received_after_ms`` (the trainer's "enough new plays" test)."""
    row = catalog.query_one("SELECT COUNT(*) AS n FROM plays WHERE received_ms > ?", [received_after_ms])
    return int(row["n"]) if row else 0


def iso_utc(ms: int) -> str:
    """Milliseconds since the epoch as the API's ISO 8601 UTC text (``2026-12-01T10:00:00.000Z``)."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def epoch_ms(moment: datetime) -> int:
    """An aware datetime as milliseconds since the epoch."""
    return int(moment.timestamp() * 1000)


def _known_tracks(catalog: Catalog, track_ids: set[int]) -> set[int]:
    if not track_ids:
        return set()
    marks = ",".join("?" * len(track_ids))
    return {int(row["id"]) for row in catalog.query(f"SELECT id FROM tracks WHERE id IN ({marks})",
                                                    sorted(track_ids))}


def _room_per_day(catalog: Catalog, user_id: int, days: set[int]) -> Counter[int]:
    room: Counter[int] = Counter()
    for day in days:
        row = catalog.query_one("SELECT COUNT(*) AS n FROM plays WHERE user_id = ? AND started_ms >= ? "
                                "AND started_ms < ?", [user_id, day * _DAY_MS, (day + 1) * _DAY_MS])
        room[day] = MAX_PLAYS_PER_DAY - (int(row["n"]) if row else 0)
    return room


def _exists(catalog: Catalog, user_id: int, event_id: str) -> bool:
    return catalog.query_one("SELECT 1 AS x FROM plays WHERE user_id = ? AND event_id = ?",
                             [user_id, event_id]) is not None
