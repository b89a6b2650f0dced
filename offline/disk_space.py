"""Free-space checks for downloads, so a full disk is a clear message instead of a half-written file."""

from __future__ import annotations

import errno
import shutil
import sqlite3
from pathlib import Path

from offline.errors import DiskFullError

RESERVE_BYTES = 8 * 1024 * 1024
_MB = 1024 * 1024


def ensure_free(directory: Path, needed_bytes: int, reserve_bytes: int, what: str) -> None:
    """Raise DiskFullError unless ``needed_bytes`` fit in ``directory`` and still leave ``reserve_bytes`` free."""
    free = shutil.disk_usage(directory).free
    if free - needed_bytes < reserve_bytes:
        raise DiskFullError(
            f"not enough free disk space to download {what}: it needs {needed_bytes / _MB:.1f} MB and "
            f"{free / _MB:.1f} MB are free in {directory} (keeping {reserve_bytes / _MB:.1f} MB spare). "
            "Free some space or remove downloads, then resume.")


def disk_full_error(directory: Path, doing: str, exc: Exception) -> DiskFullError | None:
    """The DiskFullError that ``exc`` means, if it is the disk filling up (ENOSPC, quota, or SQLite's words)."""
    full = (isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)) or (
        isinstance(exc, sqlite3.OperationalError) and "full" in str(exc))
    if not full:
        return None
    return DiskFullError(f"the disk holding {directory} filled up while {doing}. "
                         "Nothing was damaged; free some space on it, then try again.")
