"""The client's listening history and likes on disk (SQLite): every play and like as it happens, and what the server
has not been told yet. One transaction per change, so a play or a like is either kept and queued, or not at all.

It never talks to the server and never forgets a play it has not sent (only ``clear_plays`` removes plays).
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import sqlite_utils

from client import catalog
from client.catalog import Track
from client.listening import CONTEXT_KINDS, ContextKind, PlayContext, PlayEnded
from durable import write_transaction

DB_NAME = "history.db"
QUEUED, SENT, REJECTED = "queued", "sent", "rejected"


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredPlay:
    """A play as this device keeps it (``sent``: the server has it, or refused it for good)."""

    id: str
    track: Track
    started_at: datetime
    ms_played: int
    completed: bool
    skipped: bool
    context: PlayContext
    sent: bool


@dataclass(frozen=True, slots=True)
class PendingLike:
    """A like or unlike the server has not heard yet; ``seq`` tells it from a later toggle of the same track."""

    track_id: int
    liked: bool
    seq: int


def wire_time(moment: datetime) -> str:
    """``moment`` as the API writes times: ISO 8601 in UTC with a Z, to the millisecond."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    """An ISO 8601 time from the API or this store, as an aware UTC datetime (naive ones are taken as UTC)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def context_of(raw: object) -> PlayContext:
    """A play's context as the API sends it; an unknown kind counts as "other" (a newer server's)."""
    kind = raw.get("kind") if isinstance(raw, dict) else None
    ident = raw.get("id") if isinstance(raw, dict) else None
    return PlayContext(cast(ContextKind, kind if kind in CONTEXT_KINDS else "other"),
                       None if ident is None else str(ident))


class HistoryStore:
    """One connection to DATA/history.db, shared by the UI thread (records, toggles, reads) and the sender thread."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(data_dir / DB_NAME, timeout=30, check_same_thread=False)
        self._db = sqlite_utils.Database(connection)
        self._db.enable_wal()
        self._db.execute("PRAGMA synchronous = NORMAL")  # WAL: survives an app crash; an OS crash may lose the last
        self._lock = threading.Lock()
        with self._write():
            self._db.table("plays").create(
                {"id": str, "track_id": int, "track": str, "started_at": str, "ms_played": int, "completed": int,
                 "skipped": int, "context_kind": str, "context_id": str, "state": str, "reason": str},
                pk="id", not_null={"track_id", "track", "started_at", "ms_played", "state"}, if_not_exists=True)
            self._db.table("plays").create_index(["state"], if_not_exists=True)
            self._db.table("plays").create_index(["started_at"], if_not_exists=True)
            self._db.table("likes").create({"track_id": int, "track": str, "liked_at": str}, pk="track_id",
                                           if_not_exists=True)
            self._db.table("like_outbox").create({"track_id": int, "liked": int, "track": str, "seq": int},
                                                 pk="track_id", if_not_exists=True)
            self._db.table("meta").create({"key": str, "value": int}, pk="key", if_not_exists=True)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- plays --------------------------------------------------------------------------------------------------

    def record(self, play: PlayEnded) -> str:
        """Keep ``play`` and queue it for the server; its event id (the server dedups by it)."""
        event_id = str(uuid.uuid4())
        with self._write():
            self._db.table("plays").insert({
                "id": event_id, "track_id": play.track.id, "track": _track_json(play.track),
                "started_at": wire_time(play.started_at), "ms_played": max(0, play.ms_played),
                "completed": int(play.completed), "skipped": int(play.skipped), "context_kind": play.context.kind,
                "context_id": play.context.id, "state": QUEUED, "reason": None})
        return event_id

    def unsent(self, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` queued plays, oldest first, as ``POST /me/plays`` events."""
        with self._lock:
            rows = list(self._db.query("SELECT * FROM plays WHERE state = ? ORDER BY started_at, rowid LIMIT ?",
                                       [QUEUED, limit]))
        return [{"id": row["id"], "track_id": row["track_id"], "started_at": row["started_at"],
                 "ms_played": row["ms_played"], "completed": bool(row["completed"]), "skipped": bool(row["skipped"]),
                 "context": {"kind": row["context_kind"], "id": row["context_id"]}} for row in rows]

    def unsent_count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM plays WHERE state = ?", [QUEUED]).fetchone()[0])

    def mark_sent(self, event_ids: list[str], rejected: dict[str, str] | None = None) -> None:
        """The server has these plays (``rejected``: id → the reason it ignored them for good; never resent)."""
        rejected = rejected or {}
        with self._write():
            for event_id in event_ids:
                reason = rejected.get(event_id)
                self._db.execute("UPDATE plays SET state = ?, reason = ? WHERE id = ? AND state = ?",
                                 [REJECTED if reason else SENT, reason, event_id, QUEUED])

    def recent(self, limit: int) -> list[StoredPlay]:
        """The latest ``limit`` plays this device kept, newest first."""
        with self._lock:
            rows = list(self._db.query("SELECT * FROM plays ORDER BY started_at DESC, rowid DESC LIMIT ?", [limit]))
        return [StoredPlay(id=row["id"], track=catalog.track(json.loads(row["track"])),
                           started_at=parse_time(row["started_at"]), ms_played=row["ms_played"],
                           completed=bool(row["completed"]), skipped=bool(row["skipped"]),
                           context=context_of({"kind": row["context_kind"], "id": row["context_id"]}),
                           sent=row["state"] != QUEUED) for row in rows]

    def clear_plays(self) -> int:
        """Forget every play here and queue the server's clear; the clear's generation (see ``cleared``)."""
        with self._write():
            self._db.execute("DELETE FROM plays")
            generation = self._meta("clear_wanted") + 1
            self._db.table("meta").upsert({"key": "clear_wanted", "value": generation}, pk="key")
        return generation

    def clear_pending(self) -> int | None:
        """The generation of a clear the server has not done yet, or None."""
        with self._lock:
            wanted, done = self._meta("clear_wanted"), self._meta("clear_done")
        return wanted if wanted > done else None

    def cleared(self, generation: int) -> None:
        with self._write():
            if generation > self._meta("clear_done"):
                self._db.table("meta").upsert({"key": "clear_done", "value": generation}, pk="key")

    # -- likes --------------------------------------------------------------------------------------------------

    def set_liked(self, track: Track, liked: bool, at: datetime) -> None:
        """Like or unlike ``track`` here at once, and queue the change for the server."""
        with self._write():
            if liked:
                self._db.table("likes").upsert({"track_id": track.id, "track": _track_json(track),
                                                "liked_at": wire_time(at)}, pk="track_id")
            else:
                self._db.execute("DELETE FROM likes WHERE track_id = ?", [track.id])
            seq = int(self._db.execute("SELECT coalesce(max(seq), 0) + 1 FROM like_outbox").fetchone()[0])
            self._db.table("like_outbox").upsert({"track_id": track.id, "liked": int(liked),
                                                  "track": _track_json(track), "seq": seq}, pk="track_id")

    def pending_likes(self) -> list[PendingLike]:
        with self._lock:
            rows = list(self._db.query("SELECT track_id, liked, seq FROM like_outbox ORDER BY seq"))
        return [PendingLike(row["track_id"], bool(row["liked"]), row["seq"]) for row in rows]

    def like_sent(self, pending: PendingLike) -> None:
        """The server has ``pending``; a later toggle of the same track stays queued."""
        with self._write():
            self._db.execute("DELETE FROM like_outbox WHERE track_id = ? AND seq = ?", [pending.track_id, pending.seq])

    def liked(self) -> list[tuple[Track, datetime]]:
        """The liked tracks as this device knows them, newest like first."""
        with self._lock:
            rows = list(self._db.query("SELECT track, liked_at FROM likes ORDER BY liked_at DESC, rowid DESC"))
        return [(catalog.track(json.loads(row["track"])), parse_time(row["liked_at"])) for row in rows]

    def replace_likes(self, server_likes: list[tuple[Track, datetime]]) -> None:
        """Mirror the server's likes (the truth), with the toggles it has not heard yet laid on top."""
        with self._write():
            self._db.execute("DELETE FROM likes")
            for track, liked_at in server_likes:
                self._db.table("likes").upsert({"track_id": track.id, "track": _track_json(track),
                                                "liked_at": wire_time(liked_at)}, pk="track_id")
            self._db.execute("DELETE FROM likes WHERE track_id IN (SELECT track_id FROM like_outbox WHERE liked = 0)")
            self._db.execute("INSERT OR IGNORE INTO likes (track_id, track, liked_at) "
                             "SELECT track_id, track, ? FROM like_outbox WHERE liked = 1",
                             [wire_time(datetime.now(UTC))])

    # -- inside -------------------------------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[None]:
        with self._lock, write_transaction(self._db):
            yield

    def _meta(self, key: str) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return int(row[0]) if row is not None else 0


def _track_json(track: Track) -> str:
    return json.dumps(dataclasses.asdict(track))
