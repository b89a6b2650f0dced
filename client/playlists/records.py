"""The playlist core's records and errors: what it tells its callers, and the server's listing as it reads it.

Plain data, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sync import MalformedMessage


class ReadOnlyPlaylist(PermissionError):
    """The user follows this playlist but may not edit it."""


class UnknownPlaylist(KeyError):
    """No playlist with this id is known on this device."""


class DetachedPlaylist(PermissionError):
    """The server says the playlist is gone (deleted, or access taken away) while edits of it were unpushed.

    The playlist and its edits stay on this device until the user deletes it here.
    """


@dataclass(frozen=True)
class PlaylistInfo:
    """A playlist as a list shows it. ``detached``: gone from the server with ``unpushed_edits`` kept here."""

    playlist_id: str
    name: str
    owner: str
    role: str
    public: bool
    collaborative: bool
    entry_count: int
    unpushed_edits: int
    detached: bool = False


@dataclass(frozen=True)
class PlaylistChange:
    """Told to ``on_change``: the playlist changed (read it with ``state()``), or is ``gone`` from this device.

    ``remote`` when the change came from another replica. It carries no state: copying a long playlist on every
    edit would cost more than the edit.
    """

    playlist_id: str
    remote: bool
    gone: bool = False


ChangeCallback = Callable[[PlaylistChange], None]
ErrorCallback = Callable[[str, Exception], None]
"""(playlist id, or "" when the error concerns no one playlist; the error)."""


@dataclass(frozen=True)
class ListedPlaylist:
    """One item of the server's listing (GET /playlists, the event stream): a playlist the user sees."""

    playlist_id: str
    owner: str
    role: str
    public: bool
    last_seq: int

    @classmethod
    def from_json(cls, value: Any) -> ListedPlaylist:
        """Raises MalformedMessage when ``value`` is not a listing item."""
        try:
            item = cls(str(value["id"]), str(value["owner"]), str(value["role"]), bool(value["public"]),
                       int(value["last_seq"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedMessage(f"a listed playlist lacks a valid field: {exc}") from None
        if item.role not in ("owner", "collaborator", "follower") or item.last_seq < 0:
            raise MalformedMessage(f"a listed playlist has role {item.role!r} and last seq {item.last_seq}")
        return item
