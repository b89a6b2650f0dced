"""Scheduled releases: the instant an album becomes playable, its jitter bound, and users' pre-saves.

It never hides an album: before its release the album is listed with its cover and tracks; only licences wait.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from server.catalog import Catalog
from server.exceptions import ApiError, ReleaseError

DEFAULT_JITTER_MS = 2000
MAX_JITTER_MS = 60_000
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant with its offset (``2026-12-04T00:00:00+01:00`` or ``...Z``); ReleaseError otherwise."""
    try:
        instant = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ReleaseError(f"{text!r} is not an ISO 8601 date and time (e.g. 2026-12-04T00:00:00Z)") from None
    if instant.tzinfo is None:
        raise ReleaseError(f"{text!r} has no time zone: add Z for UTC or an offset such as +01:00")
    return instant.astimezone(UTC)


def format_instant(instant: datetime) -> str:
    """The API's spelling of an instant: UTC, whole seconds, ``Z``."""
    return instant.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def set_release(catalog: Catalog, album_id: int, at: datetime, jitter_ms: int | None = None) -> None:
    """Schedule (or move) ``album_id``'s release to ``at``; ReleaseError for an unknown album or a bad bound."""
    if catalog.query_one("SELECT id FROM albums WHERE id = ?", [album_id]) is None:
        raise ReleaseError(f"there is no album with id {album_id}")
    if jitter_ms is not None and not 0 <= jitter_ms <= MAX_JITTER_MS:
        raise ReleaseError(f"the jitter bound must be 0..{MAX_JITTER_MS} ms, not {jitter_ms}")
    with catalog.transaction():
        catalog.execute(
            "INSERT INTO releases (album_id, release_at, jitter_ms) VALUES (?, ?, ?) ON CONFLICT (album_id) DO "
            "UPDATE SET release_at = excluded.release_at, jitter_ms = COALESCE(excluded.jitter_ms, releases.jitter_ms)",
            [album_id, format_instant(at), jitter_ms])


def release_at(catalog: Catalog, album_id: int) -> datetime | None:
    row = catalog.query_one("SELECT release_at FROM releases WHERE album_id = ?", [album_id])
    return None if row is None else parse_instant(str(row["release_at"]))


def refuse_before_release(catalog: Catalog, file_id: int, now: datetime) -> None:
    """ApiError 403 ``not_yet_released`` (naming the instant, also as a ``Release-At`` header) for a file of an
    album whose release is still to come."""
    row = catalog.query_one(
        "SELECT albums.title, releases.release_at FROM files JOIN tracks ON tracks.id = files.track_id "
        "JOIN albums ON albums.id = tracks.album_id JOIN releases ON releases.album_id = albums.id "
        "WHERE files.id = ?", [file_id])
    if row is None or parse_instant(str(row["release_at"])) <= now:
        return
    raise ApiError(403, "not_yet_released", f"{row['title']!r} is released at {row['release_at']}; "
                   "its tracks play from then", {"Release-At": str(row["release_at"])})


def releasing_within(catalog: Catalog, now: datetime, window: timedelta) -> list[int]:
    """Albums whose release falls in (now, now + window], soonest first."""
    rows = catalog.query("SELECT album_id, release_at FROM releases ORDER BY release_at, album_id")
    return [int(row["album_id"]) for row in rows
            if now < parse_instant(str(row["release_at"])) <= now + window]


def presave(catalog: Catalog, user_id: int, album_id: int, now: datetime) -> None:
    """Put ``album_id`` in the user's library at its release (at once if it is out); ApiError 404 if unknown."""
    if catalog.query_one("SELECT id FROM albums WHERE id = ?", [album_id]) is None:
        raise ApiError(404, "not_found", f"there is no album with id {album_id}")
    with catalog.transaction():
        catalog.execute("INSERT INTO presaves (user_id, album_id, created) VALUES (?, ?, ?) "
                        "ON CONFLICT (user_id, album_id) DO NOTHING", [user_id, album_id, format_instant(now)])


def forget_presave(catalog: Catalog, user_id: int, album_id: int) -> None:
    with catalog.transaction():
        catalog.execute("DELETE FROM presaves WHERE user_id = ? AND album_id = ?", [user_id, album_id])


def presaved_album_ids(catalog: Catalog, user_id: int) -> list[int]:
    rows = catalog.query("SELECT album_id FROM presaves WHERE user_id = ? ORDER BY id", [user_id])
    return [int(row["album_id"]) for row in rows]
