"""Discover Weekly as a real playlist: owned by the server's own account, followed (read-only) by its one user,
its content a loro document the server edits itself, logged and announced like any pushed update.

Only updates this module made are ever in these playlists' logs (users cannot push to them), so loading them
in the server's process hands loro no untrusted bytes.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from server import playlists
from server.catalog import Catalog
from server.exceptions import ServerError
from server.playlist_hub import AccessNews, PlaylistHub, PlaylistNews
from server.playlists import SYSTEM_OWNER, Role
from sync import LoggedUpdate, PlaylistDoc, PullResult

NAME = "Discover Weekly"
_NO_LOGIN = "!system"  # not a password hash: auth.verify_password refuses it for every password


@dataclass(frozen=True)
class StoredWeek:
    playlist_id: str
    week_of: str
    generated_ms: int
    picks: list[dict[str, Any]]  # [{"track_id": int, "reason_track_id": int | None}] in playlist order


def stored(catalog: Catalog, user_id: int) -> StoredWeek | None:
    row = catalog.query_one("SELECT playlist_id, week_of, generated_ms, picks FROM discover_weekly WHERE user_id = ?",
                            [user_id])
    if row is None or row["week_of"] is None:
        return None
    return StoredWeek(str(row["playlist_id"]), str(row["week_of"]), int(row["generated_ms"]), json.loads(row["picks"]))


def publish(catalog: Catalog, hub: PlaylistHub, user_id: int, user_name: str, week_of: date,
            picks: list[dict[str, Any]]) -> StoredWeek:
    """Make ``picks`` the user's Discover Weekly for ``week_of`` (creating the playlist on first use)."""
    playlist_id, created = _playlist_of(catalog, user_id)
    generated_ms = int(time.time() * 1000)
    # Its row locked like a push's (playlists.locked), so a push through another instance waits its turn.
    with hub.writing(playlist_id), catalog.transaction():
        catalog.lock("playlists", playlist_id)
        record = playlists.find(catalog, playlist_id)
        assert record is not None, f"Discover Weekly playlist {playlist_id} vanished"
        doc = PlaylistDoc.from_updates(playlist_id, playlists.stored_log(catalog, record))
        version = doc.version()
        if doc.name != NAME:
            doc.rename(NAME)
        doc.set_description(f"Made for {user_name}, week of {week_of.isoformat()}: music like what you play.")
        for entry in doc.entries():
            doc.remove(entry.entry_id)
        for pick in picks:
            doc.add(int(pick["track_id"]), SYSTEM_OWNER, at_ms=generated_ms)
        logged = LoggedUpdate(record.last_seq + 1, str(uuid.uuid4()), doc.export_since(version))
        catalog.execute("INSERT INTO playlist_updates (playlist_id, seq, update_id, author_id, data) "
                        "VALUES (?, ?, ?, ?, ?)",
                        [playlist_id, logged.seq, logged.update_id, record.owner_id, logged.data])
        catalog.execute("UPDATE playlists SET last_seq = ? WHERE id = ?", [logged.seq, playlist_id])
        catalog.execute("UPDATE discover_weekly SET week_of = ?, generated_ms = ?, picks = ? WHERE user_id = ?",
                        [week_of.isoformat(), generated_ms, json.dumps(picks), user_id])
    hub.publish(PlaylistNews(playlist_id, PullResult(None, record.snapshot_seq, (logged,), logged.seq)))
    if created:
        hub.publish(AccessNews(playlist_id, frozenset({user_id})))
    return StoredWeek(playlist_id, week_of.isoformat(), generated_ms, picks)


def keep_following(catalog: Catalog, hub: PlaylistHub, user_id: int, playlist_id: str) -> None:
    """The user sees their Discover Weekly again after unfollowing it (it is theirs; asking shows it)."""
    record = playlists.find(catalog, playlist_id)
    if record is not None and playlists.role_of(catalog, record, user_id) is None:
        playlists.add_member(catalog, record, user_id, Role.FOLLOWER)
        hub.publish(AccessNews(playlist_id, frozenset({user_id})))


def system_user_id(catalog: Catalog) -> int:
    """The server's own account (created on first use); a person's account of that name is an error."""
    row = catalog.user_by_name(SYSTEM_OWNER)
    if row is None:
        with catalog.transaction():
            catalog.execute("INSERT INTO users (name, password_hash, region) VALUES (?, ?, ?) "
                            "ON CONFLICT (name) DO NOTHING", [SYSTEM_OWNER, _NO_LOGIN, "ZZ"])
        row = catalog.user_by_name(SYSTEM_OWNER)
    assert row is not None
    if row["password_hash"] != _NO_LOGIN:
        raise ServerError(f"the user name {SYSTEM_OWNER!r} belongs to the server's own account, which owns the "
                          "Discover Weekly playlists; rename that person's account to use Discover Weekly")
    return int(row["id"])


def _playlist_of(catalog: Catalog, user_id: int) -> tuple[str, bool]:
    """The user's Discover Weekly playlist id, registering the playlist (and the follow) on first use."""
    row = catalog.query_one("SELECT playlist_id FROM discover_weekly WHERE user_id = ?", [user_id])
    if row is not None:
        return str(row["playlist_id"]), False
    owner_id = system_user_id(catalog)
    playlist_id = str(uuid.uuid4())
    try:
        with catalog.transaction():
            catalog.execute("INSERT INTO playlists (id, owner_id, public, created, last_seq, snapshot_seq) "
                            "VALUES (?, ?, 0, ?, 0, 0)", [playlist_id, owner_id, int(time.time())])
            catalog.execute("INSERT INTO playlist_members (playlist_id, user_id, role) VALUES (?, ?, ?)",
                            [playlist_id, user_id, Role.FOLLOWER.value])
            catalog.execute("INSERT INTO discover_weekly (user_id, playlist_id, week_of, generated_ms, picks) "
                            "VALUES (?, ?, NULL, 0, '[]')", [user_id, playlist_id])
    except sa.exc.IntegrityError:  # another request registered it first: use theirs
        row = catalog.query_one("SELECT playlist_id FROM discover_weekly WHERE user_id = ?", [user_id])
        if row is None:
            raise
        return str(row["playlist_id"]), False
    return playlist_id, True
