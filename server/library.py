"""A user's library beyond likes: saved albums and followed artists, each with when it joined; only its owner reads it.

A pre-saved album joins the saved ones at its release (the pre-save itself stays in server/releases.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from server import plays
from server.catalog import Catalog
from server.exceptions import ApiError
from server.releases import parse_instant

Kind = Literal["album", "artist"]


@dataclass(frozen=True)
class _Shelf:
    table: str  # the user's rows
    column: str  # the saved thing's id in them
    things: str  # the catalog table that thing lives in


_SHELVES = {"album": _Shelf("saved_albums", "album_id", "albums"),
            "artist": _Shelf("followed_artists", "artist_id", "artists")}


def add(catalog: Catalog, kind: Kind, user_id: int, thing_id: int, now: datetime) -> None:
    """Save the album or follow the artist; doing it again keeps the first time. ApiError 404 if it is unknown."""
    shelf = _SHELVES[kind]
    if catalog.query_one(f"SELECT id FROM {shelf.things} WHERE id = ?", [thing_id]) is None:
        raise ApiError(404, "not_found", f"there is no {kind} with id {thing_id}")
    with catalog.transaction():
        catalog.execute(f"INSERT INTO {shelf.table} (user_id, {shelf.column}, added_ms) VALUES (?, ?, ?) "
                        f"ON CONFLICT (user_id, {shelf.column}) DO NOTHING", [user_id, thing_id, plays.epoch_ms(now)])


def remove(catalog: Catalog, kind: Kind, user_id: int, thing_id: int) -> None:
    """Unsave or unfollow; an album leaves the library whole, so its pre-save goes too."""
    shelf = _SHELVES[kind]
    with catalog.transaction():
        catalog.execute(f"DELETE FROM {shelf.table} WHERE user_id = ? AND {shelf.column} = ?", [user_id, thing_id])
        if kind == "album":
            catalog.execute("DELETE FROM presaves WHERE user_id = ? AND album_id = ?", [user_id, thing_id])


def added(catalog: Catalog, kind: Kind, user_id: int, now: datetime) -> list[tuple[int, int]]:
    """The user's saved albums (with the pre-saved ones already released, joined at their release) or followed
    artists, as (id, added ms), newest first."""
    shelf = _SHELVES[kind]
    rows = catalog.query(f"SELECT {shelf.column} AS thing_id, added_ms FROM {shelf.table} WHERE user_id = ?",
                         [user_id])
    joined = {int(row["thing_id"]): int(row["added_ms"]) for row in rows}
    if kind == "album":
        for album_id, at in _released_presaves(catalog, user_id, now):
            joined[album_id] = min(joined.get(album_id, at), at)
    return sorted(joined.items(), key=lambda item: (item[1], item[0]), reverse=True)


def _released_presaves(catalog: Catalog, user_id: int, now: datetime) -> list[tuple[int, int]]:
    """The user's pre-saved albums that are out, each with the ms it joined the library (saved, or released if
    that came later)."""
    rows = catalog.query("SELECT presaves.album_id, presaves.created, releases.release_at FROM presaves "
                         "LEFT JOIN releases ON releases.album_id = presaves.album_id WHERE presaves.user_id = ?",
                         [user_id])
    found = []
    for row in rows:
        saved = parse_instant(str(row["created"]))
        release = None if row["release_at"] is None else parse_instant(str(row["release_at"]))
        if release is None or release <= now:
            found.append((int(row["album_id"]), plays.epoch_ms(max(saved, release or saved))))
    return found
