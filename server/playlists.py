"""Playlists on the server: who may do what, and each playlist's numbered, validated, compacted update log.

Every update is checked in an update worker before it is stored; nothing here reads or edits a playlist's
content itself, and every write of more than one statement is one transaction.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from server.catalog import Catalog
from server.exceptions import ApiError
from server.update_pool import UpdateWorkers
from sync import InvalidUpdate, LoggedUpdate, OutgoingUpdate, PullResult, PushResult

COMPACT_AFTER_UPDATES = 256
# The server's own account: it owns the playlists the server makes for one user (Discover Weekly), private
# playlists that user follows and sees, read-only; nobody can log in as it.
SYSTEM_OWNER = "Legato"
_log = logging.getLogger(__name__)


class Role(StrEnum):
    OWNER = "owner"
    COLLABORATOR = "collaborator"
    FOLLOWER = "follower"

    @property
    def can_write(self) -> bool:
        return self is not Role.FOLLOWER


@dataclass(frozen=True)
class PlaylistRecord:
    """A playlist's server-side facts (its content lives in the update log)."""

    playlist_id: str
    owner_id: int
    owner: str
    public: bool
    last_seq: int
    snapshot_seq: int

    def to_json(self, role: Role) -> dict[str, Any]:
        return {"id": self.playlist_id, "owner": self.owner, "public": self.public, "role": role.value,
                "last_seq": self.last_seq}


def not_found(playlist_id: str) -> ApiError:
    # The same answer whether the playlist is missing or private to others, so ids leak nothing.
    return ApiError(404, "not_found", f"there is no playlist {playlist_id} that you can see")


def create(catalog: Catalog, playlist_id: str, owner_id: int, public: bool) -> tuple[PlaylistRecord, bool]:
    """Register a playlist (its genesis is implied); returns it and whether it was new. Retrying is harmless.

    Safe under concurrency: of many creations of one id, one inserts and the others find the playlist.
    Someone else's id answers 404 like a playlist the caller cannot see, or 409 when they can see it.
    """
    with _joined(catalog):
        cursor = catalog.execute(
            "INSERT INTO playlists (id, owner_id, public, created, last_seq, snapshot_seq) VALUES (?, ?, ?, ?, 0, 0) "
            "ON CONFLICT (id) DO NOTHING", [playlist_id, owner_id, int(public), int(time.time())])
        created = cursor.rowcount == 1
    record = find(catalog, playlist_id)
    if record is None:
        raise not_found(playlist_id)  # deleted by its owner between our insert attempt and this read
    if record.owner_id != owner_id:
        if role_of(catalog, record, owner_id) is None:
            raise not_found(playlist_id)
        raise ApiError(409, "playlist_exists", f"playlist id {playlist_id} is taken; create it with a new id")
    return record, created


def find(catalog: Catalog, playlist_id: str) -> PlaylistRecord | None:
    row = catalog.query_one("SELECT playlists.*, users.name AS owner FROM playlists JOIN users "
                            "ON users.id = playlists.owner_id WHERE playlists.id = ?", [playlist_id])
    return None if row is None else _record(row)


def role_of(catalog: Catalog, record: PlaylistRecord, user_id: int) -> Role | None:
    """The user's role, or None when the playlist must look absent to them (followers lose a private one)."""
    if record.owner_id == user_id:
        return Role.OWNER
    row = catalog.query_one("SELECT role FROM playlist_members WHERE playlist_id = ? AND user_id = ?",
                            [record.playlist_id, user_id])
    if row is None:
        return None
    role = Role(row["role"])
    return role if role is Role.COLLABORATOR or record.public or record.owner == SYSTEM_OWNER else None


def readable(catalog: Catalog, playlist_id: str, user_id: int) -> tuple[PlaylistRecord, Role]:
    """The playlist and the user's role; 404 when the user may not even know it exists."""
    record = find(catalog, playlist_id)
    role = None if record is None else role_of(catalog, record, user_id)
    if record is None or role is None:
        raise not_found(playlist_id)
    return record, role


def writable(catalog: Catalog, playlist_id: str, user_id: int) -> PlaylistRecord:
    record, role = readable(catalog, playlist_id, user_id)
    if not role.can_write:
        raise ApiError(403, "read_only", f"you follow playlist {playlist_id} but may not edit it; ask its owner "
                       "to invite you as a collaborator")
    return record


def owned(catalog: Catalog, playlist_id: str, user_id: int) -> PlaylistRecord:
    record, role = readable(catalog, playlist_id, user_id)
    if role is not Role.OWNER:
        raise ApiError(403, "not_owner", f"only the owner ({record.owner}) may do this to playlist {playlist_id}")
    return record


def visible_to(catalog: Catalog, user_id: int) -> list[dict[str, Any]]:
    """Every playlist the user owns, collaborates on, or follows (while it is public)."""
    rows = catalog.query(
        "SELECT playlists.*, users.name AS owner, COALESCE(m.role, 'owner') AS role FROM playlists "
        "JOIN users ON users.id = playlists.owner_id "
        "LEFT JOIN playlist_members AS m ON m.playlist_id = playlists.id AND m.user_id = :user "
        "WHERE playlists.owner_id = :user OR m.role = 'collaborator' "
        "OR (m.role = 'follower' AND (playlists.public <> 0 OR users.name = :system)) "
        "ORDER BY playlists.created, playlists.id", {"user": user_id, "system": SYSTEM_OWNER})
    return [_record(row).to_json(Role(row["role"])) for row in rows]


def members(catalog: Catalog, playlist_id: str) -> dict[str, list[str]]:
    rows = catalog.query("SELECT users.name, role FROM playlist_members JOIN users ON users.id = user_id "
                         "WHERE playlist_id = ? ORDER BY users.name", [playlist_id])
    return {"collaborators": [row["name"] for row in rows if row["role"] == Role.COLLABORATOR.value],
            "followers": [row["name"] for row in rows if row["role"] == Role.FOLLOWER.value]}


def member_ids(catalog: Catalog, playlist_id: str) -> frozenset[int]:
    """The ids of the playlist's collaborators and followers (whether or not they may see it now)."""
    rows = catalog.query("SELECT user_id FROM playlist_members WHERE playlist_id = ?", [playlist_id])
    return frozenset(int(row["user_id"]) for row in rows)


def set_public(catalog: Catalog, record: PlaylistRecord, public: bool) -> None:
    with _joined(catalog):
        catalog.execute("UPDATE playlists SET public = ? WHERE id = ?", [int(public), record.playlist_id])


def add_member(catalog: Catalog, record: PlaylistRecord, user_id: int, role: Role) -> None:
    """Make the user a collaborator or follower; a collaborator who follows stays a collaborator."""
    if user_id == record.owner_id:
        return
    with _joined(catalog):
        current = catalog.query_one("SELECT role FROM playlist_members WHERE playlist_id = ? AND user_id = ?",
                                    [record.playlist_id, user_id])
        if current is None:
            catalog.execute("INSERT INTO playlist_members (playlist_id, user_id, role) VALUES (?, ?, ?)",
                            [record.playlist_id, user_id, role.value])
        elif role is Role.COLLABORATOR:
            catalog.execute("UPDATE playlist_members SET role = ? WHERE playlist_id = ? AND user_id = ?",
                            [role.value, record.playlist_id, user_id])


def remove_follower(catalog: Catalog, record: PlaylistRecord, user_id: int) -> None:
    with _joined(catalog):
        catalog.execute("DELETE FROM playlist_members WHERE playlist_id = ? AND user_id = ? AND role = ?",
                        [record.playlist_id, user_id, Role.FOLLOWER.value])


def delete(catalog: Catalog, record: PlaylistRecord) -> None:
    with _joined(catalog):
        for table in ("playlist_updates", "playlist_members"):
            catalog.execute(f"DELETE FROM {table} WHERE playlist_id = ?", [record.playlist_id])
        catalog.execute("DELETE FROM playlists WHERE id = ?", [record.playlist_id])


# -- the update log -------------------------------------------------------------------------------------------

def stored_log(catalog: Catalog, record: PlaylistRecord) -> list[bytes]:
    """The playlist as the log holds it, as blobs to load in order: its snapshot, then every update after it."""
    row = catalog.query_one("SELECT snapshot FROM playlists WHERE id = ?", [record.playlist_id])
    head = [bytes(row["snapshot"])] if row is not None and row["snapshot"] is not None else []
    return head + [update.data for update in _logged_after(catalog, record, record.snapshot_seq)]


def known_seqs(catalog: Catalog, record: PlaylistRecord, update_ids: list[str]) -> dict[str, int]:
    """The seq of each update id the log already holds (still known after compaction)."""
    marks = ", ".join("?" for _ in update_ids)
    rows = catalog.query(f"SELECT update_id, seq FROM playlist_updates WHERE playlist_id = ? AND seq <= ? "
                         f"AND update_id IN ({marks})", [record.playlist_id, record.last_seq, *update_ids])
    return {row["update_id"]: int(row["seq"]) for row in rows}


@contextmanager
def locked(catalog: Catalog, playlist_id: str, workers: UpdateWorkers) -> Iterator[None]:
    """One transaction holding the playlist's lock, so pushes to it take turns across every server process on
    the database (its row's lock on PostgreSQL, the write lock on SQLite) while other playlists go on.

    When it fails after the worker took updates in (a write or the commit), the worker forgets the playlist: it
    holds updates the log failed to store. A refused push or request leaves the worker as it was.
    """
    try:
        with catalog.transaction():
            catalog.lock("playlists", playlist_id)
            yield
    except (InvalidUpdate, ApiError):
        raise
    except BaseException:
        workers.forget(playlist_id)
        raise


def append(catalog: Catalog, record: PlaylistRecord, workers: UpdateWorkers, updates: list[OutgoingUpdate],
           author_id: int, author: str) -> tuple[PushResult, list[LoggedUpdate]]:
    """Check the new ``updates`` in the playlist's update worker, then log them, all or none.

    The log stores each update as the worker exported it again after applying it, never the pushed bytes.

    Call inside ``locked(catalog, record.playlist_id, workers)`` with ``record`` read there. Raises an
    ``InvalidUpdate`` (nothing stored) when the worker refuses the push.
    """
    assert catalog.in_transaction, "append inside locked()"
    known = known_seqs(catalog, record, [update.update_id for update in updates])
    fresh: dict[str, OutgoingUpdate] = {}
    for update in updates:
        if update.update_id not in known:
            fresh.setdefault(update.update_id, update)
    if not fresh:
        return PushResult(tuple(known[update.update_id] for update in updates), record.last_seq), []
    last_seq = record.last_seq + len(fresh)
    compact = last_seq - record.snapshot_seq >= COMPACT_AFTER_UPDATES
    verdict = workers.merge(record.playlist_id, record.last_seq, author, [update.data for update in fresh.values()],
                            lambda: stored_log(catalog, record), want_snapshot=compact)
    logged = [LoggedUpdate(record.last_seq + offset, update.update_id, data)
              for offset, (update, data) in enumerate(zip(fresh.values(), verdict.updates, strict=True), start=1)]
    _drop_unlogged(catalog, record)
    for entry in logged:
        catalog.execute("INSERT INTO playlist_updates (playlist_id, seq, update_id, author_id, data) "
                        "VALUES (?, ?, ?, ?, ?)",
                        [record.playlist_id, entry.seq, entry.update_id, author_id, entry.data])
    catalog.execute("UPDATE playlists SET last_seq = ? WHERE id = ?", [last_seq, record.playlist_id])
    if compact:
        assert verdict.snapshot is not None
        _compact(catalog, record.playlist_id, verdict.snapshot, last_seq)
    known.update({entry.update_id: entry.seq for entry in logged})
    return PushResult(tuple(known[update.update_id] for update in updates), last_seq), logged


def pull(catalog: Catalog, playlist_id: str, seq: int) -> PullResult | None:
    """``since`` on the playlist as one read snapshot holds it; None when there is no such playlist."""
    with catalog.read_snapshot():
        record = find(catalog, playlist_id)
        return None if record is None else since(catalog, record, seq)


def since(catalog: Catalog, record: PlaylistRecord, seq: int) -> PullResult:
    """What a replica that has seen the log up to ``seq`` lacks (a snapshot first if compaction passed it).

    Read ``record`` and call this inside one ``read_snapshot`` (or the push's transaction): a compaction committed
    between the two reads would have emptied rows the record says are logged.
    """
    if seq > record.last_seq:
        seq = 0  # the replica knows a log this server no longer has: hand it everything, merging is harmless
    if seq >= record.snapshot_seq or record.snapshot_seq == 0:
        return PullResult(None, record.snapshot_seq, tuple(_logged_after(catalog, record, seq)), record.last_seq)
    row = catalog.query_one("SELECT snapshot FROM playlists WHERE id = ?", [record.playlist_id])
    assert row is not None
    return PullResult(bytes(row["snapshot"]), record.snapshot_seq,
                      tuple(_logged_after(catalog, record, record.snapshot_seq)), record.last_seq)


def _drop_unlogged(catalog: Catalog, record: PlaylistRecord) -> None:
    """Rows past last_seq were never part of the log: servers before real transactions could leave them."""
    cursor = catalog.execute("DELETE FROM playlist_updates WHERE playlist_id = ? AND seq > ?",
                             [record.playlist_id, record.last_seq])
    if cursor.rowcount:
        _log.warning("playlist %s: dropped %d update rows past last_seq %d (left by an interrupted write)",
                     record.playlist_id, cursor.rowcount, record.last_seq)


def _compact(catalog: Catalog, playlist_id: str, snapshot: bytes, upto_seq: int) -> None:
    """Replace the log up to ``upto_seq`` by one snapshot; the rows stay (without data) to keep ids idempotent."""
    catalog.execute("UPDATE playlists SET snapshot = ?, snapshot_seq = ? WHERE id = ?",
                    [snapshot, upto_seq, playlist_id])
    catalog.execute("UPDATE playlist_updates SET data = NULL WHERE playlist_id = ? AND seq <= ?",
                    [playlist_id, upto_seq])


def _logged_after(catalog: Catalog, record: PlaylistRecord, seq: int) -> list[LoggedUpdate]:
    rows = catalog.query("SELECT seq, update_id, data FROM playlist_updates WHERE playlist_id = ? AND seq > ? "
                         "AND seq <= ? ORDER BY seq", [record.playlist_id, seq, record.last_seq])
    return [LoggedUpdate(int(row["seq"]), str(row["update_id"]), bytes(row["data"])) for row in rows]


def _joined(catalog: Catalog) -> AbstractContextManager[None]:
    """The caller's open write transaction (one whose news is told in it: ``PlaylistHub.telling``), else one of
    the write's own."""
    return nullcontext() if catalog.in_transaction else catalog.transaction()


def _record(row: dict[str, Any]) -> PlaylistRecord:
    return PlaylistRecord(str(row["id"]), int(row["owner_id"]), str(row["owner"]), bool(row["public"]),
                          int(row["last_seq"]), int(row["snapshot_seq"]))
