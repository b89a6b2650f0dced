"""The download queue on disk (SQLite through sqlite-utils, WAL): pins, their tracks, each track's download state,
and the expiry of each offline licence. Every change is one transaction, so a kill -9 leaves it consistent."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import sqlite_utils

from cache import FileManifest
from durable import write_transaction
from offline.records import ItemState, PinKey, TrackRef

_ACTIVE = ("downloading", "waiting")


@dataclass(frozen=True)
class QueuedItem:
    """A track's row in the queue: its manifest once known, state, last error, and queue order."""

    track_id: int
    title: str
    state: ItemState
    manifest: FileManifest | None
    error: str | None
    bytes_done: int
    seq: int


Release = Callable[[list[QueuedItem]], None]
"""Lets go of what was downloaded for these items; raising undoes the change that released them."""


@dataclass(frozen=True)
class PinRow:
    key: PinKey
    title: str
    track_ids: tuple[int, ...]


class DownloadQueue:
    """Persistent queue state. Thread-safe: one connection, used under a lock."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite_utils.Database(sqlite3.connect(path, check_same_thread=False, timeout=30))
        self._db.enable_wal()
        self._db.execute("PRAGMA synchronous = FULL")
        self._create_schema()
        with self._lock, write_transaction(self._db):
            # Downloads that were running when the app stopped (or was killed) start again from the queue.
            self._db.execute("UPDATE items SET state = 'queued' WHERE state IN (?, ?)", list(_ACTIVE))

    def close(self) -> None:
        with self._lock:
            self._db.conn.close()

    # -- pins --------------------------------------------------------------------------------------------

    def set_pin(self, key: PinKey, title: str, tracks: Sequence[TrackRef], release: Release) -> list[int]:
        """Pin ``key`` to exactly ``tracks`` (new ones queued); tracks no pin holds any more are handed to
        ``release`` and forgotten, all in one transaction (undone if ``release`` raises). Returns their ids."""
        with self._lock, write_transaction(self._db):
            self._db.execute("INSERT OR REPLACE INTO pins (key, title) VALUES (?, ?)", [str(key), title])
            self._db.execute("DELETE FROM pin_tracks WHERE pin_key = ?", [str(key)])
            for position, track in enumerate(tracks):
                self._db.execute("INSERT OR IGNORE INTO pin_tracks (pin_key, track_id, position) VALUES (?, ?, ?)",
                                 [str(key), track.track_id, position])
                self._db.execute("INSERT OR IGNORE INTO items (track_id, title, state, seq) VALUES (?, ?, 'queued', "
                                 "(SELECT COALESCE(MAX(seq), 0) + 1 FROM items))", [track.track_id, track.title])
            return self._release_orphans(release)

    def remove_pin(self, key: PinKey, release: Release) -> list[int]:
        with self._lock, write_transaction(self._db):
            self._db.execute("DELETE FROM pin_tracks WHERE pin_key = ?", [str(key)])
            self._db.execute("DELETE FROM pins WHERE key = ?", [str(key)])
            return self._release_orphans(release)

    def remove_track(self, track_id: int, release: Release) -> list[int]:
        """Take a track out of every pin (cancelling its download)."""
        with self._lock, write_transaction(self._db):
            self._db.execute("DELETE FROM pin_tracks WHERE track_id = ?", [track_id])
            return self._release_orphans(release)

    def pins(self) -> list[PinRow]:
        with self._lock:
            pins = list(self._db.query("SELECT key, title FROM pins ORDER BY rowid"))
            members = list(self._db.query("SELECT pin_key, track_id FROM pin_tracks ORDER BY pin_key, position"))
        by_pin: dict[str, list[int]] = {}
        for row in members:
            by_pin.setdefault(str(row["pin_key"]), []).append(int(row["track_id"]))
        return [PinRow(PinKey.parse(str(p["key"])), str(p["title"]), tuple(by_pin.get(str(p["key"]), [])))
                for p in pins]

    # -- items -------------------------------------------------------------------------------------------

    def items(self) -> list[QueuedItem]:
        with self._lock:
            return [_item(row) for row in self._db.query("SELECT * FROM items ORDER BY seq")]

    def item(self, track_id: int) -> QueuedItem | None:
        with self._lock:
            rows = list(self._db.query("SELECT * FROM items WHERE track_id = ?", [track_id]))
        return _item(rows[0]) if rows else None

    def claim_next(self, exclude: set[int]) -> QueuedItem | None:
        """The first queued item not in ``exclude``, marked downloading in the same transaction."""
        with self._lock, write_transaction(self._db):
            rows = list(self._db.query("SELECT * FROM items WHERE state = 'queued' ORDER BY seq"))
            for row in rows:
                if int(row["track_id"]) not in exclude:
                    self._db.execute("UPDATE items SET state = 'downloading', error = NULL WHERE track_id = ?",
                                     [row["track_id"]])
                    return _item({**row, "state": "downloading", "error": None})
        return None

    def set_manifest(self, track_id: int, manifest: FileManifest) -> None:
        with self._lock, write_transaction(self._db):
            self._db.execute("UPDATE items SET manifest = ?, bytes_total = ? WHERE track_id = ?",
                             [json.dumps(manifest.to_json()), manifest.size_bytes, track_id])

    def set_state(self, track_id: int, state: ItemState, error: str | None = None,
                  bytes_done: int | None = None) -> None:
        with self._lock, write_transaction(self._db):
            self._db.execute("UPDATE items SET state = ?, error = ?, bytes_done = COALESCE(?, bytes_done) "
                             "WHERE track_id = ?", [state, error, bytes_done, track_id])

    def set_states(self, from_states: Sequence[ItemState], to_state: ItemState) -> None:
        with self._lock, write_transaction(self._db):
            marks = ", ".join("?" for _ in from_states)
            self._db.execute(f"UPDATE items SET state = ?, error = NULL WHERE state IN ({marks})",
                             [to_state, *from_states])

    # -- settings and licences -----------------------------------------------------------------------------

    def flag(self, name: str) -> bool:
        with self._lock:
            rows = list(self._db.query("SELECT value FROM settings WHERE name = ?", [name]))
        return bool(rows and rows[0]["value"])

    def set_flag(self, name: str, value: bool) -> None:
        with self._lock, write_transaction(self._db):
            self._db.execute("INSERT OR REPLACE INTO settings (name, value) VALUES (?, ?)", [name, int(value)])

    def licence_expiry(self, file_id: int) -> float | None:
        with self._lock:
            rows = list(self._db.query("SELECT expires_at FROM licences WHERE file_id = ?", [file_id]))
        return float(rows[0]["expires_at"]) if rows else None

    def set_licence_expiry(self, file_id: int, expires_at: float) -> None:
        with self._lock, write_transaction(self._db):
            self._db.execute("INSERT OR REPLACE INTO licences (file_id, expires_at) VALUES (?, ?)",
                             [file_id, expires_at])

    # -- internals (lock held) ---------------------------------------------------------------------------

    def _release_orphans(self, release: Release) -> list[int]:
        orphans = [_item(row) for row in self._db.query(
            "SELECT * FROM items WHERE track_id NOT IN (SELECT track_id FROM pin_tracks)")]
        release(orphans)
        for item in orphans:
            self._db.execute("DELETE FROM items WHERE track_id = ?", [item.track_id])
            if item.manifest is not None:
                self._db.execute("DELETE FROM licences WHERE file_id = ?", [item.manifest.file_id])
        return [item.track_id for item in orphans]

    def _create_schema(self) -> None:
        with self._lock:
            self._db.table("pins").create({"key": str, "title": str}, pk="key", if_not_exists=True)
            self._db.table("pin_tracks").create({"pin_key": str, "track_id": int, "position": int},
                                                pk=("pin_key", "track_id"), if_not_exists=True)
            self._db.table("items").create(
                {"track_id": int, "title": str, "state": str, "manifest": str, "error": str, "bytes_done": int,
                 "bytes_total": int, "seq": int}, pk="track_id", not_null={"title", "state", "seq"},
                defaults={"bytes_done": 0, "bytes_total": 0}, if_not_exists=True)
            self._db.table("licences").create({"file_id": int, "expires_at": float}, pk="file_id",
                                              if_not_exists=True)
            self._db.table("settings").create({"name": str, "value": int}, pk="name", if_not_exists=True)


def _item(row: dict[str, Any]) -> QueuedItem:
    manifest = FileManifest.from_json(json.loads(row["manifest"])) if row["manifest"] else None
    return QueuedItem(int(row["track_id"]), str(row["title"]), cast(ItemState, row["state"]), manifest,
                      row["error"], int(row["bytes_done"] or 0), int(row["seq"]))
