"""The disk tier: ciphertext chunks exactly as received, indexed in SQLite, LRU by last play within a byte cap.

Crash-safe: a chunk's bytes are on disk (temp + fsync + rename) before the index claims them; never stores plaintext.
Chunks fetched for playing are written behind the player (readable from memory until they are on disk): their
fsyncs cost milliseconds a play should not wait for, and a chunk lost in a crash is only fetched again.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from cache.manifest import FileManifest
from durable import fsync_directory, write_transaction

log = logging.getLogger(__name__)

DEFAULT_CAP_BYTES = 2 * 1024**3
_INDEX = "index.db"
_CHUNKS = "chunks"
_TEMP = "incoming"


@dataclass(frozen=True)
class CachedFile:
    """One file in the disk tier: how many ciphertext bytes are stored, whether pinned, its play order."""

    file_id: int
    stored_bytes: int
    pinned: bool
    last_play: int


class DiskCache:
    """Encrypted files on disk, chunk by chunk. Thread-safe; one instance per cache directory."""

    def __init__(self, root: Path, cap_bytes: int | None = None) -> None:
        self.root = root
        self._chunk_root = root / _CHUNKS
        self._temp_root = root / _TEMP
        self._chunk_root.mkdir(parents=True, exist_ok=True)
        self._temp_root.mkdir(exist_ok=True)
        # One connection shared by the player's threads: every use of it holds this lock.
        self._lock = threading.RLock()
        self._db = sqlite_utils.Database(sqlite3.connect(root / _INDEX, check_same_thread=False))
        self._db.enable_wal()
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._behind: dict[tuple[int, int], bytes] = {}  # chunks queued for the writer, readable meanwhile
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="legato-cache-writer")
        self._create_schema()
        with self._lock:
            self._reconcile()
            if cap_bytes is not None:
                self._set_cap(cap_bytes)

    # -- sizes and the cap ---------------------------------------------------------------------------

    @property
    def cap_bytes(self) -> int:
        with self._lock:
            rows = list(self._db.query("SELECT value FROM settings WHERE name = 'cap_bytes'"))
        return int(rows[0]["value"]) if rows else DEFAULT_CAP_BYTES

    def set_cap_bytes(self, cap_bytes: int) -> None:
        """Change the cap; files over it are evicted at once (pinned files never)."""
        with self._lock:
            self._set_cap(cap_bytes)

    def total_bytes(self) -> int:
        return self._scalar("SELECT COALESCE(SUM(size), 0) FROM chunks")

    def pinned_bytes(self) -> int:
        return self._scalar("SELECT COALESCE(SUM(chunks.size), 0) FROM chunks "
                            "JOIN files USING (file_id) WHERE files.pinned")

    def files(self) -> list[CachedFile]:
        """Every indexed file, least recently played first."""
        with self._lock:
            rows = list(self._db.query(
                "SELECT files.file_id, files.pinned, files.last_play, COALESCE(SUM(chunks.size), 0) AS stored "
                "FROM files LEFT JOIN chunks USING (file_id) GROUP BY files.file_id ORDER BY files.last_play"))
        return [CachedFile(int(r["file_id"]), int(r["stored"]), bool(r["pinned"]), int(r["last_play"]))
                for r in rows]

    # -- files ---------------------------------------------------------------------------------------

    def remember(self, manifest: FileManifest) -> None:
        """Index a file (its manifest) without bytes yet; a known file keeps its play order."""
        with self._lock, write_transaction(self._db):
            self._ensure_file(manifest)

    def manifest(self, file_id: int) -> FileManifest | None:
        with self._lock:
            rows = list(self._db.query("SELECT manifest FROM files WHERE file_id = ?", [file_id]))
        return FileManifest.from_json(json.loads(rows[0]["manifest"])) if rows else None

    def touch(self, manifest: FileManifest) -> None:
        """Mark the file as played now: it becomes the last to be evicted."""
        with self._lock, write_transaction(self._db):
            self._ensure_file(manifest)
            self._db.execute("UPDATE files SET last_play = ? WHERE file_id = ?",
                             [self._next_play(), manifest.file_id])

    def pin(self, manifest: FileManifest) -> None:
        """Never evict this file (a download)."""
        with self._lock, write_transaction(self._db):
            self._ensure_file(manifest)
            self._db.execute("UPDATE files SET pinned = 1 WHERE file_id = ?", [manifest.file_id])

    def unpin(self, file_id: int) -> None:
        with self._lock:
            with write_transaction(self._db):
                self._db.execute("UPDATE files SET pinned = 0 WHERE file_id = ?", [file_id])
            self._evict_over_cap()

    def store_wrapped_key(self, manifest: FileManifest, wrapped: bytes) -> None:
        with self._lock, write_transaction(self._db):
            self._ensure_file(manifest)
            self._db.execute("UPDATE files SET wrapped_key = ? WHERE file_id = ?", [wrapped, manifest.file_id])

    def wrapped_key(self, file_id: int) -> bytes | None:
        with self._lock:
            rows = list(self._db.query("SELECT wrapped_key FROM files WHERE file_id = ?", [file_id]))
        return bytes(rows[0]["wrapped_key"]) if rows and rows[0]["wrapped_key"] is not None else None

    def clear(self) -> None:
        """Drop every file that is not pinned (bytes, manifest and wrapped key)."""
        with self._lock:
            unpinned = {int(r["file_id"]) for r in self._db.query("SELECT file_id FROM files WHERE NOT pinned")}
            pinned = {int(r["file_id"]) for r in self._db.query("SELECT file_id FROM files WHERE pinned")}
            self._drop_files(sorted(unpinned | {file_id for file_id, _ in self._behind if file_id not in pinned}))

    # -- chunks --------------------------------------------------------------------------------------

    def put_chunk(self, manifest: FileManifest, index: int, data: bytes) -> None:
        """Store chunk ``index`` of the file (verified by the caller), then evict down to the cap."""
        self._commit(manifest, index, self._write_temp(data), len(data))

    def put_chunk_behind(self, manifest: FileManifest, index: int, data: bytes) -> None:
        """As `put_chunk`, on the cache's writer thread: readable here at once, on disk soon after. A write that
        fails (a full disk) is logged and the chunk only not cached; one whose file is dropped first is not made."""
        key = (manifest.file_id, index)
        with self._lock:
            self._behind[key] = data
        self._writer.submit(self._write_behind, manifest, index, data)

    def _write_behind(self, manifest: FileManifest, index: int, data: bytes) -> None:
        key = (manifest.file_id, index)
        try:
            temp = self._write_temp(data)
            with self._lock:
                if self._behind.get(key) is not data:  # dropped (or queued again) since: not ours to make
                    temp.unlink(missing_ok=True)
                    return
                self._commit(manifest, index, temp, len(data))
        except (OSError, sqlite3.Error) as exc:  # a full or failing cache disk must not stop the music
            log.warning("could not cache chunk %d of file %d on disk: %s", index, manifest.file_id, exc)
        finally:
            with self._lock:
                if self._behind.get(key) is data:
                    del self._behind[key]

    def _write_temp(self, data: bytes) -> Path:
        temp = self._temp_root / uuid.uuid4().hex
        try:
            with open(temp, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
        except OSError:
            # A full disk must not be left fuller by a temp file nobody will rename.
            temp.unlink(missing_ok=True)
            raise
        return temp

    def _commit(self, manifest: FileManifest, index: int, temp: Path, size: int) -> None:
        path = self._chunk_path(manifest.file_id, index)
        with self._lock:
            # Rename under the lock so an eviction of this file cannot unlink it between rename and index.
            path.parent.mkdir(exist_ok=True)
            os.replace(temp, path)
            fsync_directory(path.parent)
            with write_transaction(self._db):
                self._ensure_file(manifest)
                self._db.execute("INSERT OR REPLACE INTO chunks (file_id, idx, size) VALUES (?, ?, ?)",
                                 [manifest.file_id, index, size])
            self._evict_over_cap()

    def has_chunk(self, file_id: int, index: int) -> bool:
        with self._lock:
            if (file_id, index) in self._behind:
                return True
        return bool(self._scalar("SELECT COUNT(*) FROM chunks WHERE file_id = ? AND idx = ?", [file_id, index]))

    def read_chunk(self, file_id: int, index: int) -> bytes | None:
        """The stored bytes of a chunk, or None when it is not here (unchecked: the caller verifies)."""
        with self._lock:
            behind = self._behind.get((file_id, index))
        if behind is not None:
            return behind
        if not self.has_chunk(file_id, index):
            return None
        try:
            return self._chunk_path(file_id, index).read_bytes()
        except FileNotFoundError:
            return None  # evicted between the lookup and the read

    def drop_chunk(self, file_id: int, index: int) -> None:
        """Forget a chunk that failed its check, so it is fetched again."""
        with self._lock:
            self._behind.pop((file_id, index), None)
            with write_transaction(self._db):
                self._db.execute("DELETE FROM chunks WHERE file_id = ? AND idx = ?", [file_id, index])
            self._chunk_path(file_id, index).unlink(missing_ok=True)

    def close(self) -> None:
        self._writer.shutdown(wait=True)  # what is queued is written: it was fetched, and may be played again
        with self._lock:
            self._db.conn.close()

    # -- internals (called with the lock held) ---------------------------------------------------------

    def _create_schema(self) -> None:
        self._db.table("files").create({"file_id": int, "manifest": str, "wrapped_key": bytes, "last_play": int,
                                  "pinned": int}, pk="file_id", not_null={"manifest", "last_play", "pinned"},
                                 defaults={"pinned": 0}, if_not_exists=True)
        self._db.table("chunks").create({"file_id": int, "idx": int, "size": int}, pk=("file_id", "idx"),
                                  foreign_keys=[("file_id", "files", "file_id")], if_not_exists=True)
        self._db.table("settings").create({"name": str, "value": int}, pk="name", if_not_exists=True)

    def _set_cap(self, cap_bytes: int) -> None:
        if cap_bytes < 0:
            raise ValueError(f"the cache size cap must not be negative (got {cap_bytes} bytes)")
        with write_transaction(self._db):
            self._db.execute("INSERT OR REPLACE INTO settings (name, value) VALUES ('cap_bytes', ?)", [cap_bytes])
        self._evict_over_cap()

    def _ensure_file(self, manifest: FileManifest) -> None:
        self._db.execute(
            "INSERT OR IGNORE INTO files (file_id, manifest, last_play, pinned) VALUES (?, ?, ?, 0)",
            [manifest.file_id, json.dumps(manifest.to_json()), self._next_play()])

    def _next_play(self) -> int:
        return self._scalar("SELECT COALESCE(MAX(last_play), 0) + 1 FROM files")

    def _evict_over_cap(self) -> None:
        excess = self.total_bytes() - self.cap_bytes
        if excess <= 0:
            return
        victims = []
        for cached in self.files():
            if excess <= 0:
                break
            if not cached.pinned:
                victims.append(cached.file_id)
                excess -= cached.stored_bytes
        log.info("disk cache over its cap: evicting files %s", victims)
        self._drop_files(victims)

    def _drop_files(self, file_ids: list[int]) -> None:
        # Index first, bytes second: a crash in between leaves orphan files, never rows without bytes.
        dropped = set(file_ids)
        for key in [key for key in self._behind if key[0] in dropped]:
            del self._behind[key]
        with write_transaction(self._db):
            for file_id in file_ids:
                self._db.execute("DELETE FROM chunks WHERE file_id = ?", [file_id])
                self._db.execute("DELETE FROM files WHERE file_id = ?", [file_id])
        for file_id in file_ids:
            self._remove_dir(self._chunk_root / str(file_id))

    def _reconcile(self) -> None:
        """After a crash: drop rows whose bytes are missing or short, and files no row claims."""
        for temp in self._temp_root.iterdir():
            temp.unlink()
        claimed: dict[Path, int] = {
            self._chunk_path(int(r["file_id"]), int(r["idx"])): int(r["size"])
            for r in self._db.query("SELECT file_id, idx, size FROM chunks")}
        lost = [path for path, size in claimed.items() if not _has_size(path, size)]
        with write_transaction(self._db):
            for path in lost:
                self._db.execute("DELETE FROM chunks WHERE file_id = ? AND idx = ?",
                                 [int(path.parent.name), int(path.name)])
        if lost:
            log.warning("disk cache: %d indexed chunks had missing or short bytes; dropped them", len(lost))
        known_dirs = {str(r["file_id"]) for r in self._db.query("SELECT file_id FROM files")}
        for directory in self._chunk_root.iterdir():
            if not directory.is_dir() or directory.name not in known_dirs:
                self._remove_dir(directory)
                continue
            for path in directory.iterdir():
                if path not in claimed or path in lost:
                    path.unlink(missing_ok=True)

    def _remove_dir(self, directory: Path) -> None:
        if directory.is_dir():
            for path in directory.iterdir():
                path.unlink(missing_ok=True)
            directory.rmdir()
        else:
            directory.unlink(missing_ok=True)

    def _chunk_path(self, file_id: int, index: int) -> Path:
        return self._chunk_root / str(file_id) / str(index)

    def _scalar(self, sql: str, params: list[int] | None = None) -> int:
        with self._lock:
            return int(self._db.execute(sql, params or []).fetchone()[0])


def _has_size(path: Path, size: int) -> bool:
    try:
        return path.stat().st_size == size
    except FileNotFoundError:
        return False
