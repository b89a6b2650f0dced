"""The client's playlist sync core (no Qt): local-first edits, persisted and queued, synced over the session's HTTP
client and the device's one event stream. It never forgets a playlist the server has not said is gone, nor
drops edits it has not pushed. Callbacks run on background threads: a UI must hop to its own thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from client.api import ApiClient, ApiError, ServerBusy, ServerUnreachable
from client.playlists.events import DeviceEvents
from client.playlists.records import (
    ChangeCallback,
    ErrorCallback,
    ListedPlaylist,
    PlaylistChange,
    PlaylistInfo,
)
from client.playlists.replicas import Replicas
from sync import (
    MAX_UPDATES_PER_PUSH,
    Entry,
    InvalidUpdate,
    MalformedMessage,
    OutgoingUpdate,
    PlaylistDoc,
    PlaylistState,
    PullResult,
    PushRequest,
    PushResult,
)

_log = logging.getLogger(__name__)
_RETRY_FIRST_S, _RETRY_MAX_S = 0.5, 30.0
_OFFLINE = "playlist sync is offline; edits stay queued until it is back online"


class PlaylistSync:
    """Every playlist this user sees, editable offline; ``start()`` keeps them in sync in the background.

    ``api`` is the session's logged-in client, shared (not closed here): a new login reaches sync at once.
    """

    def __init__(self, api: ApiClient, data_dir: Path, on_change: ChangeCallback | None = None,
                 on_error: ErrorCallback | None = None) -> None:
        self.user = api.user_name
        self._api = api
        self._on_change = on_change or (lambda change: None)
        self._on_error = on_error or (lambda playlist_id, exc: _log.warning("playlist %s: %s", playlist_id, exc))
        self._replicas = Replicas(data_dir, self.user)
        self._lock = threading.Lock()  # guards the work notes below; never held while calling into _replicas
        self._settled = threading.Condition(self._lock)
        self._due: set[str] = set()  # the server has entries of these that this device lacks
        self._suspects: set[str] = set()  # the server may have dropped these: ask it about each
        self._listed = False  # the event stream has told its listing since it last connected
        self._busy = False
        # One registration at a time: the worker and a Share must not both POST a new playlist (the second would
        # race the first on the server).
        self._registering = threading.Lock()
        self._online = threading.Event()
        self._online.set()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._worker: threading.Thread | None = None
        self._events = DeviceEvents(api, self._on_stream_event, self._on_stream_connected)

    # -- lifecycle and connectivity -------------------------------------------------------------------------

    def start(self) -> None:
        """Sync in the background: after every edit, on reconnect, and live over the event stream while online."""
        self._worker = threading.Thread(target=self._run, name="playlist-sync", daemon=True)
        self._worker.start()
        self._wake.set()

    def close(self) -> None:
        """Stop syncing and close the local store (what is unpushed stays queued on disk)."""
        self._stopping.set()
        self._wake.set()
        self._events.close()
        if self._worker is not None:
            self._worker.join(_RETRY_MAX_S)
        self._replicas.close()

    @property
    def online(self) -> bool:
        return self._online.is_set()

    def set_online(self, online: bool) -> None:
        """Offline: edits queue and no request is made. Online again: push, pull and resume live updates."""
        if online:
            self._online.set()
            self._wake.set()
        else:
            self._online.clear()
            self._events.close()
        self._notify()

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until every queued edit is pushed and everything the server told of is pulled, live updates
        flowing; False on timeout (offline, the server unreachable, or not started)."""
        with self._settled:
            return self._settled.wait_for(self._is_idle, timeout_s)

    # -- reading ------------------------------------------------------------------------------------------

    def playlists(self) -> list[PlaylistInfo]:
        return self._replicas.infos()

    def state(self, playlist_id: str) -> PlaylistState:
        return self._replicas.state(playlist_id)

    # -- local edits: applied, persisted and queued at once ------------------------------------------------

    def create(self, name: str, description: str = "", public: bool = False, collaborative: bool = False) -> str:
        playlist_id = self._replicas.create(public)

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
        """Raises UnknownPlaylist, ReadOnlyPlaylist, DetachedPlaylist, or the doc's own SyncError."""
        result = self._replicas.edit(playlist_id, change)
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
        self._replicas.set_public(playlist_id, public)

    def follow(self, playlist_id: str) -> None:
        """Follow someone's public playlist (read-only) and fetch it."""
        listed = ListedPlaylist.from_json(self._request("POST", f"/playlists/{playlist_id}/followers"))
        self._adopt([listed])
        self._pull(playlist_id)

    def delete(self, playlist_id: str) -> None:
        """Delete the playlist everywhere (owner; needs the server), or just unfollow it (follower). A detached
        playlist is deleted here only, with its unpushed edits: the user asked for it."""
        role, _public, on_server, detached = self._replicas.facts(playlist_id)
        if on_server and not detached:
            path = f"/playlists/{playlist_id}" + ("/followers" if role == "follower" else "")
            try:
                self._request("DELETE", path)
            except ApiError as exc:
                if exc.status != 404:  # gone already: what the user wanted
                    raise
        self._replicas.forget(playlist_id)
        self._on_change(PlaylistChange(playlist_id, remote=False, gone=True))

    # -- syncing ------------------------------------------------------------------------------------------

    def sync(self, playlist_id: str | None = None) -> None:
        """Push what is queued and pull what is missing: of one playlist, or of all after asking the server which
        it lists (new ones are added; one it no longer lists is asked about, and dropped only once the server
        says it is gone, kept detached if it has unpushed edits).

        Blocking. Raises ServerUnreachable (offline, or the server cannot be reached), ApiError (the server
        refused), UnknownPlaylist (no ``playlist_id`` on this device), DetachedPlaylist (it is gone from the
        server with unpushed edits kept here).
        """
        if not self.online:
            raise ServerUnreachable(_OFFLINE)
        if playlist_id is not None:
            if self._replicas.facts(playlist_id)[3]:
                raise self._replicas.detached_error(playlist_id)
            self._exchange(playlist_id)
            return
        body = self._request("GET", "/playlists")
        self._reconcile([ListedPlaylist.from_json(item) for item in body["playlists"]])
        with self._lock:
            suspects = sorted(self._suspects)
        for suspect in suspects:
            self._ask_about(suspect)
        for target in self._replicas.ids():
            self._exchange(target)

    def _exchange(self, playlist_id: str) -> None:
        self._register(playlist_id)
        self._push(playlist_id)
        self._pull(playlist_id)

    def _reconcile(self, listing: list[ListedPlaylist]) -> None:
        """Take in the server's full listing. One it lacks only becomes a suspect: the listing may predate a
        registration that has finished since, so only the server's answer about that playlist counts."""
        listed = {item.playlist_id for item in listing}
        unlisted = [playlist_id for playlist_id in self._replicas.ids(syncing_only=True) if playlist_id not in listed]
        self._adopt(listing)
        with self._lock:
            self._suspects.update(unlisted)

    def _adopt(self, listing: list[ListedPlaylist]) -> None:
        changed, behind = self._replicas.adopt(listing)
        with self._lock:
            self._due.update(behind)
        self._wake.set()
        for playlist_id in changed:
            self._on_change(PlaylistChange(playlist_id, remote=True))

    def _ask_about(self, playlist_id: str) -> None:
        """Ask the server about a playlist it may have dropped; only its answer, given now, can make us forget it."""
        body = self._about(playlist_id, "GET", f"/playlists/{playlist_id}")
        with self._lock:
            self._suspects.discard(playlist_id)
        if body is not None:
            self._adopt([ListedPlaylist.from_json(body)])

    def _register(self, playlist_id: str) -> None:
        with self._registering:
            public = self._replicas.to_register(playlist_id)
            if public is not None:
                self._request("POST", "/playlists", json={"id": playlist_id, "public": public})
                self._replicas.registered(playlist_id)

    def _push(self, playlist_id: str) -> None:
        while pending := self._replicas.to_push(playlist_id, MAX_UPDATES_PER_PUSH):
            request = PushRequest(tuple(OutgoingUpdate(item.update_id, item.data) for item in pending))
            body = self._about(playlist_id, "POST", f"/playlists/{playlist_id}/updates", json=request.to_json())
            if body is None:
                return
            self._replicas.pushed(playlist_id, pending, PushResult.from_json(body))

    def _pull(self, playlist_id: str) -> None:
        since = self._replicas.since(playlist_id)
        if since is not None:
            body = self._about(playlist_id, "GET", f"/playlists/{playlist_id}/updates", params={"since": since})
            if body is not None:
                self._merge(playlist_id, PullResult.from_json(body))

    def _about(self, playlist_id: str, method: str, path: str, **kwargs: Any) -> Any:
        """A request about one registered playlist: its answer, or None once a 404 has settled it as gone."""
        try:
            return self._request(method, path, **kwargs)
        except ApiError as exc:
            if exc.status != 404:
                raise
        kept = self._replicas.gone(playlist_id)
        if kept:
            self._on_error(playlist_id, self._replicas.detached_error(playlist_id))
        if kept is not None:
            self._on_change(PlaylistChange(playlist_id, remote=True, gone=not kept))
        return None

    def _merge(self, playlist_id: str, pull: PullResult) -> None:
        """Import what the server sent; a refused update is reported and skipped, never half-applied."""
        try:
            changed = self._replicas.merge(playlist_id, pull)
        except InvalidUpdate as exc:
            self._on_error(playlist_id, exc)
            return
        if changed:
            self._on_change(PlaylistChange(playlist_id, remote=True))

    # -- background ---------------------------------------------------------------------------------------

    def _run(self) -> None:
        delay_s = _RETRY_FIRST_S
        while not self._stopping.is_set():
            self._wake.wait()
            with self._lock:
                self._wake.clear()
                self._busy = True
            try:
                if self.online and not self._stopping.is_set():
                    self._work()
                    delay_s = _RETRY_FIRST_S
            except (ServerUnreachable, ServerBusy) as exc:
                # A server still busy after the API client waited out its Retry-Afters: back off as if gone.
                asked_s = exc.retry_after_s if isinstance(exc, ServerBusy) else None
                delay_s = max(delay_s, asked_s or 0.0)
                _log.info("playlist sync cannot reach the server (%s); retrying in %.1f s", exc, delay_s)
                self._wake.wait(delay_s)
                self._wake.set()
                delay_s = min(delay_s * 2, _RETRY_MAX_S)
            finally:
                with self._settled:
                    self._busy = False
                    self._settled.notify_all()

    def _work(self) -> None:
        """Push every queued edit, pull what the stream said is missing, ask about suspects; then listen live."""
        for playlist_id in sorted(self._replicas.unpushed()):
            self._each(playlist_id, self._register_and_push)
        with self._lock:
            due, self._due = sorted(self._due), set()
        for index, playlist_id in enumerate(due):
            try:
                self._each(playlist_id, self._pull)
            except (ServerUnreachable, ServerBusy):
                with self._lock:
                    self._due.update(due[index:])
                raise
        with self._lock:
            suspects = sorted(self._suspects)
        for playlist_id in suspects:
            self._each(playlist_id, self._ask_about)
        if self.online and not self._stopping.is_set():
            self._events.open()

    def _register_and_push(self, playlist_id: str) -> None:
        self._register(playlist_id)
        self._push(playlist_id)

    def _each(self, playlist_id: str, step: Callable[[str], object]) -> None:
        """One playlist's step; a refusal is reported against that playlist and the others go on."""
        try:
            step(playlist_id)
        except (ApiError, MalformedMessage) as exc:
            self._on_error(playlist_id, exc)

    def _on_stream_connected(self) -> None:
        with self._lock:
            self._listed = False

    def _on_stream_event(self, event: str, data: Any) -> None:
        """Apply one event of the device's stream (on its thread); raises MalformedMessage on a malformed one."""
        if not isinstance(data, dict):
            raise MalformedMessage(f"the {event!r} event is not a JSON object")
        if event == "playlists":
            self._reconcile([ListedPlaylist.from_json(item) for item in data.get("playlists") or ()])
            with self._lock:
                self._listed = True
        elif event == "playlist":
            self._adopt([ListedPlaylist.from_json(data)])
        elif event == "removed" and str(data.get("id")) in self._replicas.ids(syncing_only=True):
            with self._lock:
                self._suspects.add(str(data.get("id")))
        elif event == "updates":
            playlist_id, pull = str(data.get("id")), PullResult.from_json(data)
            follows_on = self._replicas.follows_on(playlist_id, pull)
            if follows_on:
                self._merge(playlist_id, pull)
            elif follows_on is not None:
                with self._lock:
                    self._due.add(playlist_id)  # missed something: a pull fills the gap
        self._wake.set()
        self._notify()

    # -- plumbing -----------------------------------------------------------------------------------------

    def _notify(self) -> None:
        with self._settled:
            self._settled.notify_all()

    def _is_idle(self) -> bool:
        """Nothing left to do (call holding the lock)."""
        if self._busy or self._wake.is_set() or self._due or self._suspects or not self.online:
            return False
        if self._worker is None or not (self._listed and self._events.is_open):
            return False
        return not self._replicas.unpushed()

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        if not self.online:
            raise ServerUnreachable(_OFFLINE)
        return self._api.request_json(method, path, **kwargs)
