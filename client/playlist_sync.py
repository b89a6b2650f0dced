"""The client's playlist core (no Qt): local-first edits, persisted and queued, synced with the server over HTTP+SSE.

Edits never wait on the network. Callbacks run on background threads: a UI must hop to its own thread.
"""

from __future__ import annotations

import logging
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from client.api import ApiError, ServerUnreachable, request_json
from client.playlist_events import EventStreams
from client.playlist_store import PlaylistStore
from sync import (
    MAX_SNAPSHOT_BYTES,
    MAX_UPDATE_BYTES,
    MAX_UPDATES_PER_PUSH,
    Entry,
    InvalidUpdate,
    OutgoingUpdate,
    PlaylistDoc,
    PlaylistState,
    PullResult,
    PushRequest,
    PushResult,
)

_log = logging.getLogger(__name__)
DEFAULT_TIMEOUT_S = 10.0
_RETRY_MAX_S = 30.0


class ReadOnlyPlaylist(PermissionError):
    """The user follows this playlist but may not edit it."""


class UnknownPlaylist(KeyError):
    """No playlist with this id is known on this device."""


@dataclass(frozen=True)
class PlaylistInfo:
    """A playlist as a list shows it."""

    playlist_id: str
    name: str
    owner: str
    role: str
    public: bool
    collaborative: bool
    entry_count: int
    unpushed_edits: int


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


@dataclass
class _Replica:
    doc: PlaylistDoc
    owner: str
    role: str
    public: bool
    on_server: bool
    last_seq: int


class PlaylistSync:
    """Every playlist this user sees, editable offline; ``start()`` keeps them in sync in the background."""

    def __init__(self, base_url: str, token: str, user: str, data_dir: Path,
                 on_change: ChangeCallback | None = None, on_error: ErrorCallback | None = None,
                 timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.user = user
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._on_change = on_change or (lambda change: None)
        self._on_error = on_error or (lambda playlist_id, exc: _log.warning("playlist %s: %s", playlist_id, exc))
        # No Nagle: a push is headers then body in two writes, and waiting for the first ACK costs ~40 ms.
        transport = httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout_s, transport=transport)
        self._lock = threading.RLock()
        self._store = PlaylistStore(data_dir)
        self._replicas: dict[str, _Replica] = {}
        for stored in self._store.load():
            doc = PlaylistDoc.from_updates(stored.playlist_id, stored.blobs)
            self._replicas[stored.playlist_id] = _Replica(doc, stored.owner, stored.role, stored.public,
                                                          stored.on_server, stored.last_seq)
        self._online = threading.Event()
        self._online.set()
        self._wake = threading.Event()
        self._resync = threading.Event()
        self._stopping = threading.Event()
        self._worker: threading.Thread | None = None
        self._streams = EventStreams(self._http, self._headers, self._on_stream_event, self._since,
                                     self._stopping)

    # -- lifecycle and connectivity -------------------------------------------------------------------------

    def start(self) -> None:
        """Sync in the background: after every edit, on reconnect, and live over SSE while online."""
        self._worker = threading.Thread(target=self._run, name="playlist-sync", daemon=True)
        self._worker.start()
        self._resync.set()
        self._wake.set()

    def close(self) -> None:
        self._stopping.set()
        self._wake.set()
        self._streams.close_all()
        if self._worker is not None:
            self._worker.join(DEFAULT_TIMEOUT_S)
        self._http.close()
        with self._lock:
            self._store.close()

    @property
    def online(self) -> bool:
        return self._online.is_set()

    def set_online(self, online: bool) -> None:
        """Offline: edits queue and no request is made. Online again: push, pull and resume live updates."""
        if online:
            self._online.set()
            self._resync.set()
            self._wake.set()
        else:
            self._online.clear()
            self._streams.close_all()

    def set_token(self, token: str) -> None:
        self._token = token

    # -- reading ------------------------------------------------------------------------------------------

    def playlists(self) -> list[PlaylistInfo]:
        with self._lock:
            return [PlaylistInfo(playlist_id, replica.doc.name, replica.owner, replica.role, replica.public,
                                 replica.doc.collaborative, len(replica.doc), self._store.pending_count(playlist_id))
                    for playlist_id, replica in self._replicas.items()]

    def state(self, playlist_id: str) -> PlaylistState:
        with self._lock:
            return self._replica(playlist_id).doc.state()

    # -- local edits: applied, persisted and queued at once ------------------------------------------------

    def create(self, name: str, description: str = "", public: bool = False, collaborative: bool = False) -> str:
        playlist_id = str(uuid.uuid4())
        doc = PlaylistDoc.create(playlist_id)
        genesis = doc.snapshot()
        with self._lock:
            self._store.add_playlist(playlist_id, self.user, "owner", public, on_server=False, snapshot=genesis)
            self._replicas[playlist_id] = _Replica(doc, self.user, "owner", public, False, 0)

        def describe(doc: PlaylistDoc) -> None:
            doc.rename(name)
            doc.set_description(description)
            doc.set_collaborative(collaborative)

        self._edit(playlist_id, describe)
        return playlist_id

    def add(self, playlist_id: str, track_id: int, index: int | None = None) -> Entry:
        entry: Entry = self._edit(playlist_id, lambda doc: doc.add(track_id, self.user, index))
        return entry

    def remove(self, playlist_id: str, entry_id: str) -> None:
        self._edit(playlist_id, lambda doc: doc.remove(entry_id))

    def move(self, playlist_id: str, entry_id: str, to_index: int) -> None:
        self._edit(playlist_id, lambda doc: doc.move(entry_id, to_index))

    def rename(self, playlist_id: str, name: str) -> None:
        self._edit(playlist_id, lambda doc: doc.rename(name))

    def set_description(self, playlist_id: str, description: str) -> None:
        self._edit(playlist_id, lambda doc: doc.set_description(description))

    def set_collaborative(self, playlist_id: str, collaborative: bool) -> None:
        self._edit(playlist_id, lambda doc: doc.set_collaborative(collaborative))

    def _edit(self, playlist_id: str, change: Callable[[PlaylistDoc], Any]) -> Any:
        with self._lock:
            replica = self._replica(playlist_id)
            if replica.role == "follower":
                raise ReadOnlyPlaylist(f"you follow this playlist but may not edit it; ask {replica.owner} to "
                                       "invite you as a collaborator")
            before = replica.doc.version()
            result = change(replica.doc)
            if replica.doc.version() != before:
                self._store.save_local(playlist_id, str(uuid.uuid4()), replica.doc.export_since(before))
                self._compact_if_long(playlist_id, replica)
        self._wake.set()
        self._on_change(PlaylistChange(playlist_id, remote=False))
        return result

    # -- sharing: these need the server -------------------------------------------------------------------

    def invite(self, playlist_id: str, user_name: str) -> None:
        """Let ``user_name`` edit the playlist (owner only); pushes the playlist first if it is new."""
        self.sync(playlist_id)
        self._request("POST", f"/playlists/{playlist_id}/collaborators", json={"user": user_name})

    def set_public(self, playlist_id: str, public: bool) -> None:
        self.sync(playlist_id)
        self._request("PATCH", f"/playlists/{playlist_id}", json={"public": public})
        with self._lock:
            self._replica(playlist_id).public = public
            self._store.update_facts(playlist_id, public=int(public))

    def follow(self, playlist_id: str) -> None:
        """Follow someone's public playlist (read-only) and fetch it."""
        self._request("POST", f"/playlists/{playlist_id}/followers")
        self.sync()

    def delete(self, playlist_id: str) -> None:
        """Delete the playlist everywhere (owner; needs the server), or just unfollow it (follower)."""
        with self._lock:
            replica = self._replica(playlist_id)
        if replica.on_server:
            path = f"/playlists/{playlist_id}" + ("/followers" if replica.role == "follower" else "")
            self._request("DELETE", path)
        self._forget(playlist_id)

    # -- syncing ------------------------------------------------------------------------------------------

    def sync(self, playlist_id: str | None = None) -> None:
        """Push what is queued and pull what is missing (one playlist, or all and discover new ones).

        Blocking; raises ServerUnreachable when offline or the server cannot be reached, ApiError on refusal.
        """
        if not self.online:
            raise ServerUnreachable("playlist sync is offline; edits stay queued until it is back online")
        if playlist_id is None:
            self._discover()
        with self._lock:
            targets = [playlist_id] if playlist_id is not None else list(self._replicas)
        for target in targets:
            self._register(target)
            self._push(target)
            self._pull(target)

    def _push_queued(self) -> None:
        """After local edits: push what is queued; the event streams bring other replicas' edits."""
        with self._lock:
            queued = [playlist_id for playlist_id in self._replicas if self._store.pending_count(playlist_id)]
        for playlist_id in queued:
            self._register(playlist_id)
            self._push(playlist_id)

    def _discover(self) -> None:
        listed = {item["id"]: item for item in self._request("GET", "/playlists")["playlists"]}
        with self._lock:
            for playlist_id, item in listed.items():
                replica = self._replicas.get(playlist_id)
                if replica is None:
                    doc = PlaylistDoc.create(playlist_id)
                    self._store.add_playlist(playlist_id, item["owner"], item["role"], item["public"], True,
                                             doc.snapshot())
                    self._replicas[playlist_id] = _Replica(doc, item["owner"], item["role"], item["public"],
                                                           True, 0)
                elif (replica.role, replica.public) != (item["role"], item["public"]):
                    replica.role, replica.public = item["role"], item["public"]
                    self._store.update_facts(playlist_id, role=item["role"], public=int(item["public"]))
            gone = [playlist_id for playlist_id, replica in self._replicas.items()
                    if replica.on_server and playlist_id not in listed]
        for playlist_id in gone:
            self._forget(playlist_id)

    def _register(self, playlist_id: str) -> None:
        with self._lock:
            replica = self._replica(playlist_id)
            if replica.on_server:
                return
        self._request("POST", "/playlists", json={"id": playlist_id, "public": replica.public})
        with self._lock:
            replica.on_server = True
            self._store.update_facts(playlist_id, on_server=1)

    def _push(self, playlist_id: str) -> None:
        while True:
            with self._lock:
                if self._replica(playlist_id).role == "follower":
                    return
                pending = self._store.pending(playlist_id, MAX_UPDATES_PER_PUSH)
            if not pending:
                return
            request = PushRequest(tuple(OutgoingUpdate(item.update_id, item.data) for item in pending))
            result = PushResult.from_json(self._request("POST", f"/playlists/{playlist_id}/updates",
                                                        json=request.to_json()))
            with self._lock:
                replica = self._replica(playlist_id)
                # Our seqs follow on from what we had seen only if nobody else's update came in between.
                contiguous = sorted(set(result.seqs)) == list(range(replica.last_seq + 1, result.last_seq + 1))
                if contiguous:
                    replica.last_seq = result.last_seq
                self._store.acknowledge(playlist_id, [item.update_id for item in pending],
                                        result.last_seq if contiguous else None)

    def _pull(self, playlist_id: str) -> None:
        with self._lock:
            since = self._replica(playlist_id).last_seq
        body = self._request("GET", f"/playlists/{playlist_id}/updates", params={"since": since})
        self._merge(playlist_id, PullResult.from_json(body))

    def _merge(self, playlist_id: str, pull: PullResult) -> None:
        """Import what the server sent; a refused update is reported and skipped, never half-applied."""
        with self._lock:
            replica = self._replicas.get(playlist_id)
            if replica is None:
                return
            blobs = pull.blobs()
            try:
                changed = replica.doc.import_updates(
                    blobs, max_bytes=MAX_UPDATE_BYTES if pull.snapshot is None else MAX_SNAPSHOT_BYTES)
            except InvalidUpdate as exc:
                self._on_error(playlist_id, exc)
                return
            replica.last_seq = max(replica.last_seq, pull.last_seq)
            self._store.save_remote(playlist_id, blobs if changed else [], pull.last_seq)
            if changed:
                self._compact_if_long(playlist_id, replica)
        if changed:
            self._on_change(PlaylistChange(playlist_id, remote=True))

    def _forget(self, playlist_id: str) -> None:
        with self._lock:
            self._replicas.pop(playlist_id, None)
            self._store.remove_playlist(playlist_id)
        self._streams.close(playlist_id)
        self._on_change(PlaylistChange(playlist_id, remote=True, gone=True))

    def _compact_if_long(self, playlist_id: str, replica: _Replica) -> None:
        if self._store.needs_compaction(playlist_id):
            self._store.compact(playlist_id, replica.doc.snapshot())

    # -- background ---------------------------------------------------------------------------------------

    def _run(self) -> None:
        delay_s = 0.5
        while not self._stopping.is_set():
            self._wake.wait()
            self._wake.clear()
            if self._stopping.is_set() or not self.online:
                continue
            try:
                if self._resync.is_set():
                    self._resync.clear()
                    self.sync()
                else:
                    self._push_queued()
            except ServerUnreachable:
                self._resync.set()
                self._wake.wait(delay_s)
                self._wake.set()
                delay_s = min(delay_s * 2, _RETRY_MAX_S)
                continue
            except ApiError as exc:
                self._on_error("", exc)
            delay_s = 0.5
            with self._lock:
                live = [playlist_id for playlist_id, replica in self._replicas.items() if replica.on_server]
            if self.online:
                self._streams.keep_open(live)

    def _on_stream_event(self, playlist_id: str, event: str, data: Any) -> int | None:
        """Apply one SSE event; returns the seq the stream should resume from, or None to stop it."""
        if event == "deleted":
            self._forget(playlist_id)
            return None
        pull = PullResult.from_json(data)
        with self._lock:
            replica = self._replicas.get(playlist_id)
            if replica is None:
                return None
            gap = pull.snapshot is None and pull.updates and pull.updates[0].seq > replica.last_seq + 1
        if gap:
            self._resync.set()
            self._wake.set()  # missed something: a full pull will fill the gap
        else:
            self._merge(playlist_id, pull)
        with self._lock:
            replica = self._replicas.get(playlist_id)
            return None if replica is None else replica.last_seq

    # -- plumbing -----------------------------------------------------------------------------------------

    def _since(self, playlist_id: str) -> int | None:
        with self._lock:
            replica = self._replicas.get(playlist_id)
            return None if replica is None else replica.last_seq

    def _replica(self, playlist_id: str) -> _Replica:
        try:
            return self._replicas[playlist_id]
        except KeyError:
            raise UnknownPlaylist(f"no playlist {playlist_id} on this device; sync to fetch it") from None

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        if not self.online:
            raise ServerUnreachable("playlist sync is offline; edits stay queued until it is back online")
        return request_json(self._http, method, path, headers=self._headers(), **kwargs)
