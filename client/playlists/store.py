"""The client's playlists on disk (SQLite through sqlite-utils): each playlist's CRDT state and its unpushed edits.

Every write is one transaction, so an edit is either fully persisted and queued, or not at all.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from durable import write_transaction

DB_NAME = "playlists.db"
COMPACT_AFTER_UPDATES = 200


@dataclass(frozen=True)
class StoredPlaylist:
    """A playlist as persisted: its server facts and every blob needed to rebuild its CRDT, in order."""

    playlist_id: str
    owner: str
    role: str
    public: bool
    on_server: bool
    last_seq: int
    blobs: tuple[bytes, ...]
    detached: bool = False


@dataclass(frozen=True)
class PendingUpdate:
    playlist_id: str
    update_id: str
    data: bytes


class PlaylistStore:
    """One connection to DATA/playlists.db; the caller serialises access (PlaylistSync holds a lock)."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(data_dir / DB_NAME, timeout=30, check_same_thread=False)
        self._db = sqlite_utils.Database(connection)
        self._db.enable_wal()
        # In WAL mode this survives an app crash; only an OS crash may lose the last edits (which then resync).
        self._db.execute("PRAGMA synchronous = NORMAL")
        with write_transaction(self._db):
            self._db.table("playlists").create(
                {"id": str, "owner": str, "role": str, "public": int, "on_server": int, "last_seq": int,
                 "snapshot": bytes}, pk="id", if_not_exists=True)
            self._db.table("updates").create({"id": int, "playlist_id": str, "data": bytes}, pk="id",
                                              if_not_exists=True)
            self._db.table("outbox").create({"id": int, "playlist_id": str, "update_id": str, "data": bytes},
                                             pk="id", if_not_exists=True)
            if "detached" not in self._db.table("playlists").columns_dict:
                # Set when the server says the playlist is gone while edits of it are still unpushed.
                self._db.execute("ALTER TABLE playlists ADD COLUMN detached INTEGER NOT NULL DEFAULT 0")
            self._db.table("updates").create_index(["playlist_id"], if_not_exists=True)
            self._db.table("outbox").create_index(["playlist_id"], if_not_exists=True)

    def close(self) -> None:
        self._db.close()

    def load(self) -> list[StoredPlaylist]:
        playlists = []
        for row in self._db.query("SELECT * FROM playlists ORDER BY rowid"):
            tail = [bytes(update["data"]) for update in self._db.query(
                "SELECT data FROM updates WHERE playlist_id = ? ORDER BY id", [row["id"]])]
            head = [bytes(row["snapshot"])] if row["snapshot"] is not None else []
            playlists.append(StoredPlaylist(row["id"], row["owner"], row["role"], bool(row["public"]),
                                            bool(row["on_server"]), int(row["last_seq"]), tuple(head + tail),
                                            bool(row["detached"])))
        return playlists

    def add_playlist(self, playlist_id: str, owner: str, role: str, public: bool, on_server: bool,
                     snapshot: bytes) -> None:
        with write_transaction(self._db):
            self._db.execute("INSERT OR REPLACE INTO playlists (id, owner, role, public, on_server, last_seq, "
                             "snapshot) VALUES (?, ?, ?, ?, ?, 0, ?)",
                             [playlist_id, owner, role, int(public), int(on_server), snapshot])

    def update_facts(self, playlist_id: str, **facts: Any) -> None:
        """Change server facts (owner, role, public, on_server, last_seq, detached) of a playlist."""
        assignments = ", ".join(f"{column} = ?" for column in facts)
        with write_transaction(self._db):
            self._db.execute(f"UPDATE playlists SET {assignments} WHERE id = ?", [*facts.values(), playlist_id])

    def remove_playlist(self, playlist_id: str) -> None:
        with write_transaction(self._db):
            for table in ("updates", "outbox"):
                self._db.execute(f"DELETE FROM {table} WHERE playlist_id = ?", [playlist_id])
            self._db.execute("DELETE FROM playlists WHERE id = ?", [playlist_id])

    def save_local(self, playlist_id: str, update_id: str, data: bytes) -> None:
        """Persist a local edit and queue it for pushing, together."""
        with write_transaction(self._db):
            self._db.execute("INSERT INTO updates (playlist_id, data) VALUES (?, ?)", [playlist_id, data])
            self._db.execute("INSERT INTO outbox (playlist_id, update_id, data) VALUES (?, ?, ?)",
                             [playlist_id, update_id, data])

    def save_remote(self, playlist_id: str, blobs: list[bytes], last_seq: int) -> None:
        with write_transaction(self._db):
            for blob in blobs:
                self._db.execute("INSERT INTO updates (playlist_id, data) VALUES (?, ?)", [playlist_id, blob])
            self._db.execute("UPDATE playlists SET last_seq = MAX(last_seq, ?) WHERE id = ?", [last_seq, playlist_id])

    def needs_compaction(self, playlist_id: str) -> bool:
        row = self._db.execute("SELECT COUNT(*) FROM updates WHERE playlist_id = ?", [playlist_id]).fetchone()
        return int(row[0]) >= COMPACT_AFTER_UPDATES

    def compact(self, playlist_id: str, snapshot: bytes) -> None:
        """Replace the stored blobs by one snapshot of the current state (the outbox is kept)."""
        with write_transaction(self._db):
            self._db.execute("UPDATE playlists SET snapshot = ? WHERE id = ?", [snapshot, playlist_id])
            self._db.execute("DELETE FROM updates WHERE playlist_id = ?", [playlist_id])

    def pending(self, playlist_id: str, limit: int) -> list[PendingUpdate]:
        rows = self._db.query("SELECT update_id, data FROM outbox WHERE playlist_id = ? ORDER BY id LIMIT ?",
                              [playlist_id, limit])
        return [PendingUpdate(playlist_id, row["update_id"], bytes(row["data"])) for row in rows]

    def pending_playlists(self) -> set[str]:
        """The playlists with edits waiting to be pushed."""
        return {str(row["playlist_id"]) for row in self._db.query("SELECT DISTINCT playlist_id FROM outbox")}

    def pending_count(self, playlist_id: str) -> int:
        row = self._db.execute("SELECT COUNT(*) FROM outbox WHERE playlist_id = ?", [playlist_id]).fetchone()
        return int(row[0])

    def acknowledge(self, playlist_id: str, update_ids: list[str], last_seq: int | None = None) -> None:
        """Drop pushed updates from the outbox (and advance ``last_seq`` when nothing else was missed)."""
        marks = ", ".join("?" for _ in update_ids)
        with write_transaction(self._db):
            self._db.execute(f"DELETE FROM outbox WHERE playlist_id = ? AND update_id IN ({marks})",
                             [playlist_id, *update_ids])
            if last_seq is not None:
                self._db.execute("UPDATE playlists SET last_seq = MAX(last_seq, ?) WHERE id = ?",
                                 [last_seq, playlist_id])
