"""The shape every playlist document must have: its three root containers and what each field may hold.

Checks a LoroDoc that holds remote changes and raises an ``InvalidUpdate`` subclass; it never edits the doc.
"""

from __future__ import annotations

import re
from typing import Any

from loro import ID, ContainerID, ContainerType, LoroDoc

from sync.errors import ForeignUpdate, InvalidState, PlaylistTooLarge

MAX_ENTRIES = 20_000  # what one replica may add and what a push may leave in a playlist
MAX_LOADED_ENTRIES = 2 * MAX_ENTRIES  # what a loader accepts: concurrent offline adds may overshoot the above
MAX_NAME_CHARS = 200
MAX_DESCRIPTION_CHARS = 4_000
MAX_USER_CHARS = 200
MAX_ENTRY_ID_CHARS = 64
MAX_TRACK_ID = 2**63 - 1
META, ENTRIES, REMOVED = "meta", "entries", "removed"
_META_TYPES: dict[str, type] = {"playlist_id": str, "name": str, "description": str, "collaborative": bool}
_ENTRY_KEYS = {"id", "track", "by", "at"}
_ENTRY_ID = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_ENTRY_ID_CHARS}}}")
ROOT_CONTAINERS = frozenset({
    ContainerID.Root(META, ContainerType.Map()),
    ContainerID.Root(ENTRIES, ContainerType.MovableList()),
    ContainerID.Root(REMOVED, ContainerType.Map()),
})

EntryKey = tuple[str, int, str, int]


def check_containers(doc: LoroDoc, spans: dict[int, tuple[int, int]]) -> None:
    """Changes in ``spans`` may write only to the three root containers: no other root, kind or child."""
    for peer, (start, end) in spans.items():
        if end <= start:
            continue
        touched = set(doc.get_changed_containers_in(ID(peer, start), end - start))
        strangers = touched - ROOT_CONTAINERS
        if strangers:
            named = sorted(_describe(container) for container in strangers)
            raise InvalidState(f"the update writes to containers a playlist does not have: {', '.join(named)}")


def check_state(doc: LoroDoc, playlist_id: str, max_entries: int) -> list[dict[str, Any]]:
    """Raise unless the doc's state is a well-formed playlist; returns its raw entries (hidden ones too).

    Reads shallow values, so a container sitting where a plain value belongs (an entry that is a map
    container, a name that is a text) is refused rather than read through.
    """
    roots: Any = doc.get_value()
    strangers = set(roots) - {META, ENTRIES, REMOVED}
    if strangers:
        raise InvalidState(f"the update adds containers a playlist does not have: {sorted(strangers)}")
    meta: Any = doc.get_map(META).get_value()
    _check_meta(meta, playlist_id)
    entries: Any = doc.get_movable_list(ENTRIES).get_value()
    if len(entries) > max_entries:
        error = PlaylistTooLarge if max_entries == MAX_ENTRIES else InvalidState
        raise error(f"a playlist holds at most {max_entries} entries, this one would hold {len(entries)}; "
                    "remove some or start another playlist")
    seen: set[str] = set()
    for item in entries:
        entry_id = _check_entry(item)
        if entry_id in seen:
            raise InvalidState(f"entry id {entry_id!r} appears twice")
        seen.add(entry_id)
    removed: Any = doc.get_map(REMOVED).get_value()
    for key, flag in removed.items():
        if flag is not True or not _ENTRY_ID.fullmatch(key):
            raise InvalidState("the removed-entries map must map entry ids to true")
    return list(entries)


def entry_key(item: dict[str, Any]) -> EntryKey:
    return (item["id"], item["track"], item["by"], item["at"])


def check_authors(before: set[EntryKey], removed_before: set[str], after: list[dict[str, Any]], author: str) -> None:
    """Every entry the push added (or whose fields it changed) must name ``author`` as its adder.

    An entry removed before may come back unchanged (a move racing the remove keeps it in loro's list);
    it stays hidden, since the removed-entries map only grows (``check_removals``).
    """
    for item in after:
        if item["by"] != author and entry_key(item) not in before and item["id"] not in removed_before:
            raise InvalidState(f"entry {item['id']} is attributed to {item['by']!r}, but {author!r} pushed it; "
                               "a replica may add entries only in its own user's name")


def check_removals(removed_before: set[str], doc: LoroDoc) -> None:
    """The removed-entries map only grows: un-removing an id would reveal whatever sits under it."""
    removed: Any = doc.get_map(REMOVED).get_value()
    restored = removed_before - set(removed)
    if restored:
        raise InvalidState(f"the update takes {len(restored)} entries off the removed list; removals are final")


def check_entry_fields(track_id: object, by: object, error: type[Exception]) -> None:
    if not isinstance(track_id, int) or isinstance(track_id, bool) or not 0 < track_id <= MAX_TRACK_ID:
        raise error(f"a track id must be a positive integer, not {track_id!r}")
    check_text("user name", by, MAX_USER_CHARS, error)


def check_text(field: str, text: object, limit: int, error: type[Exception]) -> None:
    if not isinstance(text, str) or len(text) > limit:
        raise error(f"the {field} must be text of at most {limit} characters")


def _check_meta(meta: dict[str, Any], playlist_id: str) -> None:
    for key, value in meta.items():
        expected = _META_TYPES.get(key)
        if expected is None:
            raise InvalidState(f"the playlist's metadata has an unknown field {key!r}")
        if type(value) is not expected:
            raise InvalidState(f"the playlist's {key} must be a plain {expected.__name__}, not {_kind(value)}")
    if meta.get("playlist_id") != playlist_id:
        raise ForeignUpdate(f"the update belongs to playlist {meta.get('playlist_id')!r}, not {playlist_id}")
    check_text("name", meta.get("name", ""), MAX_NAME_CHARS, InvalidState)
    check_text("description", meta.get("description", ""), MAX_DESCRIPTION_CHARS, InvalidState)


def _check_entry(item: object) -> str:
    if not isinstance(item, dict) or set(item) != _ENTRY_KEYS:
        raise InvalidState(f"an entry must be a plain value with exactly the fields {sorted(_ENTRY_KEYS)}, "
                           f"not {_kind(item)}")
    entry_id = item["id"]
    if not isinstance(entry_id, str) or not _ENTRY_ID.fullmatch(entry_id):
        raise InvalidState(f"entry id {entry_id!r} is malformed (1-{MAX_ENTRY_ID_CHARS} letters, digits, - or _)")
    check_entry_fields(item["track"], item["by"], InvalidState)
    at = item["at"]
    if not isinstance(at, int) or isinstance(at, bool):
        raise InvalidState(f"entry {entry_id} has a non-integer time {at!r}")
    return entry_id


def _kind(value: object) -> str:
    if isinstance(value, ContainerID):
        return f"a {_container_type(value)} container"
    return type(value).__name__


def _describe(container: ContainerID) -> str:
    if isinstance(container, ContainerID.Root):
        return f"root {_container_type(container)} {container.name!r}"
    return f"nested {_container_type(container)}"


def _container_type(container: ContainerID) -> str:
    return str(getattr(container, "container_type", "unknown"))
