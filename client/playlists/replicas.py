"""This device's playlists: each one's CRDT in memory, persisted with its unpushed edits, under one lock.

No network and no callbacks: the sync core decides what the server's answers mean and whom to tell.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from client.playlists.records import (
    DetachedPlaylist,
    ListedPlaylist,
    PlaylistInfo,
    ReadOnlyPlaylist,
    UnknownPlaylist,
)
from client.playlists.store import PendingUpdate, PlaylistStore
from sync import MAX_SNAPSHOT_BYTES, MAX_UPDATE_BYTES, PlaylistDoc, PlaylistState, PullResult, PushResult


@dataclass
class _Replica:
    doc: PlaylistDoc
    owner: str
    role: str
    public: bool
    on_server: bool
    last_seq: int
    detached: bool = False

    @property
    def syncing(self) -> bool:
        """Registered on the server and not detached from it: what the server says about it applies."""
        return self.on_server and not self.detached


class Replicas:
    """Every playlist on this device; each method is atomic."""

    def __init__(self, data_dir: Path, user: str) -> None:
        self.user = user
        self._lock = threading.RLock()
        self._store = PlaylistStore(data_dir)
        self._replicas: dict[str, _Replica] = {}
        for stored in self._store.load():
            doc = PlaylistDoc.from_updates(stored.playlist_id, stored.blobs)
            self._replicas[stored.playlist_id] = _Replica(doc, stored.owner, stored.role, stored.public,
                                                          stored.on_server, stored.last_seq, stored.detached)

    def close(self) -> None:
        with self._lock:
            self._store.close()

    # -- reading ------------------------------------------------------------------------------------------

    def infos(self) -> list[PlaylistInfo]:
        with self._lock:
            return [PlaylistInfo(playlist_id, replica.doc.name, replica.owner, replica.role, replica.public,
                                 replica.doc.collaborative, len(replica.doc), self._store.pending_count(playlist_id),
                                 replica.detached)
                    for playlist_id, replica in self._replicas.items()]

    def state(self, playlist_id: str) -> PlaylistState:
        with self._lock:
            return self._replica(playlist_id).doc.state()

    def ids(self, syncing_only: bool = False) -> list[str]:
        with self._lock:
            return [playlist_id for playlist_id, replica in self._replicas.items()
                    if replica.syncing or not syncing_only]

    def facts(self, playlist_id: str) -> tuple[str, bool, bool, bool]:
        """(role, public, on_server, detached); UnknownPlaylist when it is not on this device."""
        with self._lock:
            replica = self._replica(playlist_id)
            return replica.role, replica.public, replica.on_server, replica.detached

    def unpushed(self) -> set[str]:
        """The playlists with edits waiting for the server (not the detached ones: the server is not waiting)."""
        with self._lock:
            return {playlist_id for playlist_id in self._store.pending_playlists()
                    if (replica := self._replicas.get(playlist_id)) is not None and not replica.detached}

    def detached_error(self, playlist_id: str) -> DetachedPlaylist:
        with self._lock:
            pending = self._store.pending_count(playlist_id)
        return DetachedPlaylist(f"playlist {playlist_id} is gone from the server (deleted, or your access was "
                                f"taken away) while {pending} of your edits to it were not yet synced; they are "
                                "kept on this device: delete the playlist here to discard them")

    # -- local edits --------------------------------------------------------------------------------------

    def create(self, public: bool) -> str:
        playlist_id = str(uuid.uuid4())
        doc = PlaylistDoc.create(playlist_id)
        with self._lock:
            self._store.add_playlist(playlist_id, self.user, "owner", public, on_server=False,
                                     snapshot=doc.snapshot())
            self._replicas[playlist_id] = _Replica(doc, self.user, "owner", public, False, 0)
        return playlist_id

    def edit(self, playlist_id: str, change: Callable[[PlaylistDoc], Any]) -> Any:
        """Apply ``change`` to the doc, persisting and queueing what it changed, all at once."""
        with self._lock:
            replica = self._replica(playlist_id)
            if replica.role == "follower":
                raise ReadOnlyPlaylist(f"you follow this playlist but may not edit it; ask {replica.owner} to "
                                       "invite you as a collaborator")
            if replica.detached:
                raise self.detached_error(playlist_id)
            before = replica.doc.version()
            result = change(replica.doc)
            if replica.doc.version() != before:
                self._store.save_local(playlist_id, str(uuid.uuid4()), replica.doc.export_since(before))
                self._compact_if_long(playlist_id, replica)
            return result

    def set_public(self, playlist_id: str, public: bool) -> None:
        with self._lock:
            self._replica(playlist_id).public = public
            self._store.update_facts(playlist_id, public=int(public))

    # -- what the server said -----------------------------------------------------------------------------

    def adopt(self, listing: Iterable[ListedPlaylist]) -> tuple[list[str], list[str]]:
        """Add listed playlists this device lacks and update known ones (a detached one the server lists again
        syncs again); returns (the ones added or changed, the ones the server has more of)."""
        changed, behind = [], []
        with self._lock:
            for item in listing:
                replica = self._replicas.get(item.playlist_id)
                if replica is None:
                    doc = PlaylistDoc.create(item.playlist_id)
                    self._store.add_playlist(item.playlist_id, item.owner, item.role, item.public, True,
                                             doc.snapshot())
                    replica = _Replica(doc, item.owner, item.role, item.public, True, 0)
                    self._replicas[item.playlist_id] = replica
                    changed.append(item.playlist_id)
                elif (replica.role, replica.public, replica.syncing) != (item.role, item.public, True):
                    replica.role, replica.public, replica.on_server, replica.detached = (
                        item.role, item.public, True, False)
                    self._store.update_facts(item.playlist_id, role=item.role, public=int(item.public),
                                             on_server=1, detached=0)
                    changed.append(item.playlist_id)
                if item.last_seq > replica.last_seq:
                    behind.append(item.playlist_id)
        return changed, behind

    def registered(self, playlist_id: str) -> None:
        with self._lock:
            replica = self._replicas.get(playlist_id)
            if replica is not None and not replica.on_server:
                replica.on_server = True
                self._store.update_facts(playlist_id, on_server=1)

    def gone(self, playlist_id: str) -> int | None:
        """The server has just said the playlist is gone: forget it, or keep it detached when edits of it are
        unpushed. Returns how many edits were kept (0: forgotten), or None when there was nothing to settle."""
        with self._lock:
            replica = self._replicas.get(playlist_id)
            if replica is None or not replica.syncing:
                return None
            pending = self._store.pending_count(playlist_id)
            if pending:
                replica.detached = True
                self._store.update_facts(playlist_id, detached=1)
            else:
                self.forget(playlist_id)
            return pending

    def forget(self, playlist_id: str) -> None:
        """Drop the playlist with everything stored of it: only when the user asked, or by ``gone``."""
        with self._lock:
            self._replicas.pop(playlist_id, None)
            self._store.remove_playlist(playlist_id)

    # -- exchanging with the server -----------------------------------------------------------------------

    def to_register(self, playlist_id: str) -> bool | None:
        """Whether the playlist is public, when it still has to be registered on the server; else None."""
        with self._lock:
            replica = self._replicas.get(playlist_id)
            return replica.public if replica is not None and not (replica.on_server or replica.detached) else None

    def to_push(self, playlist_id: str, limit: int) -> list[PendingUpdate]:
        with self._lock:
            replica = self._replicas.get(playlist_id)
            if replica is None or replica.role == "follower" or not replica.syncing:
                return []
            return self._store.pending(playlist_id, limit)

    def pushed(self, playlist_id: str, pushed: list[PendingUpdate], result: PushResult) -> None:
        with self._lock:
            replica = self._replicas.get(playlist_id)
            if replica is None:
                return
            # Our seqs follow on from what we had seen only if nobody else's update came in between.
            contiguous = sorted(set(result.seqs)) == list(range(replica.last_seq + 1, result.last_seq + 1))
            if contiguous:
                replica.last_seq = result.last_seq
            self._store.acknowledge(playlist_id, [item.update_id for item in pushed],
                                    result.last_seq if contiguous else None)

    def since(self, playlist_id: str) -> int | None:
        """The last seq this device has of a syncing playlist (None: not one to pull)."""
        with self._lock:
            replica = self._replicas.get(playlist_id)
            return replica.last_seq if replica is not None and replica.syncing else None

    def follows_on(self, playlist_id: str, pull: PullResult) -> bool | None:
        """Whether a pushed pull result follows on from what this device has (None: not one to merge)."""
        since = self.since(playlist_id)
        if since is None:
            return None
        return pull.snapshot is not None or not pull.updates or pull.updates[0].seq <= since + 1

    def merge(self, playlist_id: str, pull: PullResult) -> bool:
        """Import a pull result; whether it changed the playlist. Raises InvalidUpdate (nothing applied)."""
        with self._lock:
            replica = self._replicas.get(playlist_id)
            if replica is None:
                return False
            blobs = pull.blobs()
            changed = replica.doc.import_updates(
                blobs, max_bytes=MAX_UPDATE_BYTES if pull.snapshot is None else MAX_SNAPSHOT_BYTES)
            replica.last_seq = max(replica.last_seq, pull.last_seq)
            self._store.save_remote(playlist_id, blobs if changed else [], pull.last_seq)
            if changed:
                self._compact_if_long(playlist_id, replica)
            return changed

    # -- plumbing -----------------------------------------------------------------------------------------

    def _compact_if_long(self, playlist_id: str, replica: _Replica) -> None:
        if self._store.needs_compaction(playlist_id):
            self._store.compact(playlist_id, replica.doc.snapshot())

    def _replica(self, playlist_id: str) -> _Replica:
        try:
            return self._replicas[playlist_id]
        except KeyError:
            raise UnknownPlaylist(f"no playlist {playlist_id} on this device; sync to fetch it") from None
