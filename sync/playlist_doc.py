"""A playlist as a Loro movable-list CRDT: ordered entries plus last-writer-wins name, description and flag.

Pure logic over bytes: it never touches a file or the network. Remote updates are validated before they land.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from loro import ExportMode, LoroDoc, LoroMap, LoroMovableList, VersionVector

from sync.errors import (
    EntryNotFound,
    InvalidEdit,
    InvalidState,
    MissingDependencies,
    OversizedUpdate,
    PlaylistTooLarge,
)
from sync.loro_boundary import check_history, decode_end, genesis_peer, import_blob, loro_faults
from sync.playlist_shape import (
    ENTRIES,
    MAX_DESCRIPTION_CHARS,
    MAX_ENTRIES,
    MAX_ENTRY_ID_CHARS,
    MAX_LOADED_ENTRIES,
    MAX_NAME_CHARS,
    META,
    REMOVED,
    check_authors,
    check_containers,
    check_entry_fields,
    check_removals,
    check_state,
    check_text,
    entry_key,
)

MAX_UPDATE_BYTES = 256 * 1024
MAX_SNAPSHOT_BYTES = 32 * 1024 * 1024  # the largest blob a loader accepts
MAX_STORED_SNAPSHOT_BYTES = MAX_SNAPSHOT_BYTES // 2  # the largest playlist a push may leave: well below the above


@dataclass(frozen=True)
class Entry:
    """One slot of a playlist; the same track may fill several slots, each with its own ``entry_id``."""

    entry_id: str
    track_id: int
    added_by: str
    added_at_ms: int


@dataclass(frozen=True)
class MergedPush:
    """A push the server may store: the playlist with it applied (loaded from ``snapshot``), that snapshot, and
    each pushed update as loro exported it again after applying it (what the log should hold)."""

    doc: PlaylistDoc
    snapshot: bytes
    updates: tuple[bytes, ...]


@dataclass(frozen=True)
class PlaylistState:
    """Everything a replica shows of a playlist; two converged replicas have equal states."""

    playlist_id: str
    name: str
    description: str
    collaborative: bool
    entries: tuple[Entry, ...]


class PlaylistDoc:
    """One replica of one playlist. Local edits apply at once; remote ones go through ``import_updates``.

    Concurrency rules (from Loro's movable list: Fugue order plus Kleppmann's move):
    - concurrent inserts at one spot keep each replica's run together (no interleaving);
    - concurrent moves of one entry land it at exactly one place (the last writer's);
    - a move racing a remove: the remove wins, the entry is gone on every replica. Loro alone lets the move
      win (the moved element survives), so every remove also records the entry id in a grow-only "removed"
      map; an element whose id is there is hidden, and the next local edit deletes it for good;
    - name, description and the collaborative flag are last-writer-wins registers.
    """

    def __init__(self, playlist_id: str, doc: LoroDoc) -> None:
        self._playlist_id = playlist_id
        self._attach(doc)

    @classmethod
    def create(cls, playlist_id: str) -> PlaylistDoc:
        """A new, empty replica; every replica of ``playlist_id`` starts from the same genesis change."""
        if not playlist_id or len(playlist_id) > MAX_ENTRY_ID_CHARS:
            raise InvalidEdit(f"a playlist id must be 1-{MAX_ENTRY_ID_CHARS} characters, not {playlist_id!r}")
        doc = _new_doc()
        doc.peer_id = genesis_peer(playlist_id)
        doc.get_map(META).insert("playlist_id", playlist_id)
        doc.commit()
        doc.peer_id = _random_peer()
        return cls(playlist_id, doc)

    @classmethod
    def from_updates(cls, playlist_id: str, updates: Sequence[bytes],
                     max_bytes: int = MAX_SNAPSHOT_BYTES) -> PlaylistDoc:
        """A replica rebuilt from stored snapshots or updates (validated like any remote update)."""
        replica = cls.create(playlist_id)
        replica.import_updates(updates, max_bytes=max_bytes)
        return replica

    # -- reading -----------------------------------------------------------------------------------------

    @property
    def playlist_id(self) -> str:
        return self._playlist_id

    @property
    def name(self) -> str:
        return str(self._meta_value().get("name", ""))

    @property
    def description(self) -> str:
        return str(self._meta_value().get("description", ""))

    @property
    def collaborative(self) -> bool:
        return bool(self._meta_value().get("collaborative", False))

    def _meta_value(self) -> dict[str, Any]:
        return dict(_plain(self._meta.get_value()))

    def __len__(self) -> int:
        return len(self._ids)

    def entry_ids(self) -> list[str]:
        return list(self._ids)

    def entries(self) -> list[Entry]:
        values = _plain(self._list.get_value())
        return [_entry(value) for value in values if not self._zombies or value["id"] not in self._zombies]

    def index_of(self, entry_id: str) -> int:
        try:
            return self._ids.index(entry_id)
        except ValueError:
            raise EntryNotFound(f"playlist {self._playlist_id} has no entry {entry_id} "
                                "(another replica may have removed it)") from None

    def state(self) -> PlaylistState:
        return PlaylistState(self._playlist_id, self.name, self.description, self.collaborative,
                             tuple(self.entries()))

    # -- local edits ---------------------------------------------------------------------------------------

    def add(self, track_id: int, by: str, index: int | None = None, at_ms: int | None = None) -> Entry:
        """Insert a new entry for ``track_id`` at ``index`` (default: the end) and return it."""
        position = len(self._ids) if index is None else index
        if not 0 <= position <= len(self._ids):
            raise InvalidEdit(f"cannot add at index {position}: the playlist has {len(self._ids)} entries")
        if len(self._ids) >= MAX_ENTRIES:
            raise InvalidEdit(f"a playlist holds at most {MAX_ENTRIES} entries; start another one")
        self._purge_zombies()
        entry = Entry(str(uuid.uuid4()), track_id, by, int(time.time() * 1000) if at_ms is None else at_ms)
        check_entry_fields(entry.track_id, entry.added_by, InvalidEdit)
        self._list.insert(position, {"id": entry.entry_id, "track": entry.track_id, "by": entry.added_by,
                                     "at": entry.added_at_ms})
        self._doc.commit()
        self._ids.insert(position, entry.entry_id)
        return entry

    def remove(self, entry_id: str) -> None:
        position = self.index_of(entry_id)
        self._purge_zombies()
        self._list.delete(position, 1)
        self._removed.insert(entry_id, True)
        self._doc.commit()
        del self._ids[position]

    def move(self, entry_id: str, to_index: int) -> None:
        """Move one entry so that it ends at ``to_index``; a multi-select move is several of these."""
        position = self.index_of(entry_id)
        if not 0 <= to_index < len(self._ids):
            raise InvalidEdit(f"cannot move to index {to_index}: the playlist has {len(self._ids)} entries")
        if position == to_index:
            return
        self._purge_zombies()
        self._list.mov(position, to_index)
        self._doc.commit()
        self._ids.insert(to_index, self._ids.pop(position))

    def rename(self, name: str) -> None:
        check_text("name", name, MAX_NAME_CHARS, InvalidEdit)
        self._set_meta("name", name)

    def set_description(self, description: str) -> None:
        check_text("description", description, MAX_DESCRIPTION_CHARS, InvalidEdit)
        self._set_meta("description", description)

    def set_collaborative(self, collaborative: bool) -> None:
        self._set_meta("collaborative", bool(collaborative))

    def _set_meta(self, key: str, value: str | bool) -> None:
        self._meta.insert(key, value)
        self._doc.commit()

    # -- exchanging updates --------------------------------------------------------------------------------

    def version(self) -> bytes:
        """An opaque marker of everything this replica holds, for ``export_since``."""
        return bytes(self._doc.oplog_vv.encode())

    def export_since(self, version: bytes | None = None) -> bytes:
        """An update carrying every change made or received after ``version`` (all of them for None)."""
        since = VersionVector() if version is None else VersionVector.decode(version)  # type: ignore[no-untyped-call]
        return bytes(self._doc.export(ExportMode.Updates(since)))

    def snapshot(self) -> bytes:
        """The whole document, history included, as one blob that ``from_updates`` accepts."""
        return bytes(self._doc.export(ExportMode.Snapshot()))

    def import_updates(self, updates: Iterable[bytes], max_bytes: int = MAX_UPDATE_BYTES) -> bool:
        """Merge remote updates (in order) and return whether anything new arrived.

        Raises an ``InvalidUpdate`` subclass and leaves this replica unchanged when any update is too large,
        does not decode, belongs to another playlist, lacks its dependencies, or yields a malformed playlist.
        """
        blobs = []
        held = self._doc.oplog_vv
        for update in updates:
            blob = _sized(update, max_bytes)
            if not held.includes_vv(decode_end(blob)):
                blobs.append(blob)
        if not blobs:
            return False  # echoes of what this replica already holds (its own pushes coming back, say)
        with loro_faults():
            candidate = self._copy()
            before = candidate.oplog_vv.encode()
            for blob in blobs:
                self._merge(candidate, blob)
            if candidate.oplog_vv.encode() == before:
                return False
            check_state(candidate, self._playlist_id, MAX_LOADED_ENTRIES)
        self._attach(candidate)
        return True

    def merge_push(self, updates: Sequence[bytes], author: str) -> MergedPush:
        """The server's check of one push by ``author``: this playlist with every update applied, proven to load.

        Unlike ``import_updates`` nothing is skipped as an echo: every update is applied in order to a copy, and
        what it added is exported again by loro: those exports, not the pushed bytes, are what a server stores
        (a pushed blob may carry corrupt parts that loro skips as already known, and other replicas would not).
        The result must be a well-formed playlist within ``MAX_ENTRIES`` whose new entries name ``author``,
        and its snapshot (at most ``MAX_STORED_SNAPSHOT_BYTES``) must load again into an equal, valid playlist.
        Raises an ``InvalidUpdate`` subclass (``PlaylistTooLarge`` for the limits); this replica is unchanged.
        """
        with loro_faults():
            candidate = self._copy()
            exported = []
            for update in updates:
                before = candidate.oplog_vv
                self._merge(candidate, _sized(update, MAX_UPDATE_BYTES))
                exported.append(_sized(bytes(candidate.export(ExportMode.Updates(before))), MAX_UPDATE_BYTES))
            entries = check_state(candidate, self._playlist_id, MAX_ENTRIES)
            removed_before = set(_plain(self._removed.keys()))
            check_removals(removed_before, candidate)
            check_authors({entry_key(item) for item in _plain(self._list.get_value())}, removed_before, entries,
                          author)
            snapshot = bytes(candidate.export(ExportMode.Snapshot()))
            if len(snapshot) > MAX_STORED_SNAPSHOT_BYTES:
                raise PlaylistTooLarge(f"the playlist would take {len(snapshot)} bytes, more than the limit of "
                                       f"{MAX_STORED_SNAPSHOT_BYTES}; remove entries or start another playlist")
            reloaded = _new_doc()
            if import_blob(reloaded, snapshot).pending is not None:
                raise InvalidState("the playlist with this update applied does not load again from its snapshot")
            if check_state(reloaded, self._playlist_id, MAX_LOADED_ENTRIES) != entries or any(
                    reloaded.get_map(name).get_value() != candidate.get_map(name).get_value()
                    for name in (META, REMOVED)):
                raise InvalidState("the playlist with this update applied changes when loaded from its snapshot")
            return MergedPush(PlaylistDoc(self._playlist_id, reloaded), snapshot, tuple(exported))

    # -- internals -----------------------------------------------------------------------------------------

    def _attach(self, doc: LoroDoc) -> None:
        self._doc = doc
        self._meta: LoroMap = doc.get_map(META)
        self._list: LoroMovableList = doc.get_movable_list(ENTRIES)
        self._removed: LoroMap = doc.get_map(REMOVED)
        ids = [str(value["id"]) for value in _plain(self._list.get_value())]
        removed = set(_plain(self._removed.keys())) if ids else set()
        # Zombies: entries a concurrent move kept in the list after another replica removed them.
        self._zombies = {entry_id for entry_id in ids if entry_id in removed}
        self._ids = [entry_id for entry_id in ids if entry_id not in self._zombies] if self._zombies else ids

    def _purge_zombies(self) -> None:
        """Delete hidden entries for good so local indexes and list positions agree again (same commit)."""
        if not self._zombies:
            return
        for entry_id in self._zombies:
            ids = [str(value["id"]) for value in _plain(self._list.get_value())]
            self._list.delete(ids.index(entry_id), 1)
        self._zombies = set()

    def _copy(self) -> LoroDoc:
        # A snapshot round trip is several times faster than LoroDoc.fork() on long histories (measured).
        copy = _new_doc()
        copy.import_(self._doc.export(ExportMode.Snapshot()))
        copy.peer_id = self._doc.peer_id
        return copy

    def _merge(self, candidate: LoroDoc, blob: bytes) -> None:
        status = import_blob(candidate, blob)
        if status.pending is not None:
            raise MissingDependencies(f"the update for playlist {self._playlist_id} depends on edits this "
                                      "replica has not seen; pull the earlier updates first")
        spans = status.success.inner()
        check_history(candidate, self._playlist_id, spans)
        check_containers(candidate, spans)



def _new_doc() -> LoroDoc:
    return LoroDoc()  # type: ignore[no-untyped-call]  # loro's stub leaves the constructor untyped


def _plain(value: object) -> Any:
    """A Loro value as the plain Python data it is; callers check its shape where it came from outside."""
    return value


def _random_peer() -> int:
    return uuid.uuid4().int >> 65


def _sized(update: bytes, max_bytes: int) -> bytes:
    blob = bytes(update)
    if len(blob) > max_bytes:
        raise OversizedUpdate(f"an update of {len(blob)} bytes exceeds the limit of {max_bytes} bytes")
    return blob


def _entry(value: dict[str, Any]) -> Entry:
    return Entry(str(value["id"]), int(value["track"]), str(value["by"]), int(value["at"]))
