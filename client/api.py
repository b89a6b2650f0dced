"""The HTTP client of Legato's server API (httpx): login, browse, manifests, licences, ciphertext ranges.

Everything the app knows of the server comes through here; it never reads the server's files directly.
"""

from __future__ import annotations

import base64
import logging
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from cache import FileKey, FileManifest
from client.http import ApiError as ApiError  # re-exported, as are ServerUnreachable, interrupt, ServerBusy
from client.http import (
    RangeStream,
    check_range_answer,
    http_transport,
    request_json,
    send,
)
from client.http import ServerUnreachable as ServerUnreachable
from client.http import interrupt as interrupt
from client.release_jitter import ReleaseJitter
from offline import Backoff, OfflineLicence
from offline import ServerBusy as ServerBusy

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 10.0
BUSY_RETRIES = 4  # 503 answers waited out (Retry-After plus jitter) before the caller hears ServerBusy


@dataclass(frozen=True)
class ManifestBatch:
    """The answer of `POST /manifests`: manifests by track id, licence keys by file id (entitled files only)."""

    manifests: dict[int, dict[str, Any]]
    licences: dict[int, FileKey]
    opening: tuple[int, bytes] | None = None  # (file id, its first bytes) when asked for


MAX_BATCH_TRACKS = 500  # the server's bound on one POST /manifests


class NotLoggedIn(RuntimeError):
    """A part that acts for a user was given a session that has not logged in."""


class ApiClient:
    """A logged-in (or not yet) session with one Legato server: the one HTTP client of the session, shared by
    every part that talks to the server (browse, playback, downloads, playlist sync). Safe to share between threads.

    Every request reads the current token, so a new ``login`` reaches every part at once. A 503 is waited out
    (Retry-After, plus jitter) up to BUSY_RETRIES times before ServerBusy; audio and covers come from ``edge_url``
    when one is given (an HTTP cache in front of the server), everything else from the server itself.
    """

    def __init__(self, base_url: str, token: str | None = None, timeout_s: float = DEFAULT_TIMEOUT_S, *,
                 transport: httpx.BaseTransport | None = None, edge_url: str | None = None,
                 release_jitter: ReleaseJitter | None = None, busy_backoff: Backoff | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        """``transport`` replaces the network (tests: a transport that delays or fails requests on cue)."""
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout_s, transport=transport or http_transport())
        self._timeout_s = timeout_s
        self.edge_url: str | None = None
        self._files = self._http
        if edge_url:
            self.use_edge(edge_url)
        self.release_jitter = release_jitter or ReleaseJitter()
        self._busy_backoff = busy_backoff or Backoff(base_s=0.5, cap_s=10.0)
        self._sleep = sleep
        self.token = token
        self.user: dict[str, Any] | None = None  # the account, once logged in

    def use_edge(self, edge_url: str) -> None:
        """Audio and covers come from `edge_url` from now on (call it before the session is shared)."""
        if self._files is not self._http:
            self._files.close()
        self.edge_url = edge_url.rstrip("/")
        self._files = httpx.Client(base_url=self.edge_url, timeout=self._timeout_s, transport=http_transport())

    def close(self) -> None:
        self._http.close()
        if self._files is not self._http:
            self._files.close()

    @property
    def user_name(self) -> str:
        """The logged-in user's name; NotLoggedIn before ``login``."""
        if self.user is None:
            raise NotLoggedIn(f"not logged in to {self.base_url}: log in before opening what acts for a user")
        return str(self.user["name"])

    def request_json(self, method: str, path: str, **kwargs: Any) -> Any:
        """One authenticated request: its decoded JSON body, ApiError with the server's message, or
        ServerUnreachable."""
        attempt = 0
        while True:
            try:
                return request_json(self._http, method, path, headers=self._auth(), **kwargs)
            except ServerBusy as exc:
                if attempt >= BUSY_RETRIES:
                    raise
                wait_s = self._busy_backoff.after_busy_s(attempt, exc.retry_after_s)
                log.info("%s %s: %s; retrying in %.1f s", method, path, exc, wait_s)
                attempt += 1
                self._sleep(wait_s)

    @contextmanager
    def stream(self, method: str, path: str, **kwargs: Any) -> Iterator[httpx.Response]:
        """An authenticated streaming request, open for the block (whatever its status); ServerUnreachable when
        it cannot be sent. Closing the response from another thread unblocks a reader."""
        try:
            with self._http.stream(method, path, headers=self._auth(), **kwargs) as response:
                yield response
        except httpx.TransportError as exc:
            raise ServerUnreachable(f"cannot reach {self.base_url}: {exc}") from exc

    def login(self, username: str, password: str) -> dict[str, Any]:
        body = self.request_json("POST", "/auth/login", json={"username": username, "password": password})
        self.token = str(body["token"])
        self.user = dict(body["user"])
        return self.user

    def albums(self) -> list[dict[str, Any]]:
        albums = list(self.request_json("GET", "/albums")["albums"])
        self.release_jitter.learn_albums(albums)
        return albums

    def album(self, album_id: int) -> dict[str, Any]:
        album = dict(self.request_json("GET", f"/albums/{album_id}"))
        self.release_jitter.learn_albums([album])
        return album

    def artists(self) -> list[dict[str, Any]]:
        return list(self.request_json("GET", "/artists")["artists"])

    def artist(self, artist_id: int) -> dict[str, Any]:
        artist = dict(self.request_json("GET", f"/artists/{artist_id}"))
        self.release_jitter.learn_albums(artist["albums"])
        return artist

    def tracks(self, limit: int = 500, offset: int = 0) -> dict[str, Any]:
        page = dict(self.request_json("GET", "/tracks", params={"limit": limit, "offset": offset}))
        self.release_jitter.learn_tracks(page["tracks"])
        return page

    def search(self, query: str, limit: int = 20) -> dict[str, Any]:
        found = dict(self.request_json("GET", "/search", params={"q": query, "limit": limit}))
        self.release_jitter.learn_albums(found.get("albums", ()))
        self.release_jitter.learn_tracks(found.get("tracks", ()))
        return found

    def track(self, track_id: int) -> dict[str, Any]:
        track = dict(self.request_json("GET", f"/tracks/{track_id}"))
        self.release_jitter.learn_tracks([track])
        return track

    def manifest(self, track_id: int) -> dict[str, Any]:
        """The track's manifest; the first call for an album released moments ago waits its jitter first."""
        self.release_jitter.wait_before_track(track_id)
        manifest = dict(self.request_json("GET", f"/tracks/{track_id}/manifest"))
        self.release_jitter.learn_manifest(manifest)
        return manifest

    def manifests(self, track_ids: Sequence[int], quality: str, opening_track_id: int | None = None) -> ManifestBatch:
        """Many tracks' manifests and the licences of their `quality` files the user may have, in one request
        (at most MAX_BATCH_TRACKS ids), with the first chunk of `opening_track_id`'s file when given. Waits no
        release jitter itself: a caller about to play waits it first (`release_jitter.wait_before_track`)."""
        request: dict[str, Any] = {"track_ids": list(track_ids), "quality": quality}
        if opening_track_id is not None:
            request["opening_track_id"] = opening_track_id
        body = self.request_json("POST", "/manifests", json=request)
        manifests = [dict(manifest) for manifest in body["manifests"]]
        for manifest in manifests:
            self.release_jitter.learn_manifest(manifest)
        opening = body.get("opening")
        return ManifestBatch({int(m["track_id"]): m for m in manifests},
                             {int(g["file_id"]): FileKey.from_hex(str(g["key"]), str(g["nonce"]))
                              for g in body["licences"]},
                             (int(opening["file_id"]), base64.b64decode(opening["data"])) if opening else None)

    def licence(self, file_id: int) -> FileKey:
        self.release_jitter.wait_before_file(file_id)
        body = self.request_json("GET", f"/licences/{file_id}")
        return FileKey.from_hex(str(body["key"]), str(body["nonce"]))

    def offline_licence(self, file_id: int) -> OfflineLicence:
        """The file's key granted for offline play, valid for the time the server says."""
        self.release_jitter.wait_before_file(file_id)
        body = self.request_json("GET", f"/licences/{file_id}", params={"offline": "true"})
        return OfflineLicence(FileKey.from_hex(str(body["key"]), str(body["nonce"])),
                              float(body["offline"]["valid_s"]))

    def presave(self, album_id: int, saved: bool = True) -> None:
        """"Notify me" for an album (or not any more): it joins the user's library at its release."""
        self.request_json("PUT" if saved else "DELETE", f"/me/presaves/{album_id}")

    def library_albums(self) -> list[dict[str, Any]]:
        """The albums in the user's library: the pre-saved ones whose release has come."""
        albums = list(self.request_json("GET", "/me/library")["albums"])
        self.release_jitter.learn_albums(albums)
        return albums

    def saved_albums(self) -> list[dict[str, Any]]:
        """The user's saved albums (pre-saved ones from their release), newest first, each with ``added_at``."""
        albums = list(self.request_json("GET", "/me/albums")["albums"])
        self.release_jitter.learn_albums(albums)
        return albums

    def save_album(self, album_id: int, saved: bool = True) -> None:
        self.request_json("PUT" if saved else "DELETE", f"/me/albums/{album_id}")

    def followed_artists(self) -> list[dict[str, Any]]:
        """The artists the user follows, newest first, each with ``album_count`` and ``added_at``."""
        return list(self.request_json("GET", "/me/artists")["artists"])

    def follow_artist(self, artist_id: int, followed: bool = True) -> None:
        self.request_json("PUT" if followed else "DELETE", f"/me/artists/{artist_id}")

    def cover(self, album_id: int) -> bytes:
        """The album's cover image (JPEG or PNG bytes); ApiError with status 404 when it has none.

        Covers are public (no token sent), like the ciphertext files, so caches in between may keep them.
        """
        return send(self._files, "GET", f"/albums/{album_id}/cover").content

    def post_plays(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        """Send play events (idempotent by their ids): how many were new, already known, and ignored (with why)."""
        return dict(self.request_json("POST", "/me/plays", json={"events": events}))

    def plays(self, limit: int = 50, before: str | None = None) -> dict[str, Any]:
        """The user's listening history, newest first, from every device; ``next_before`` pages on."""
        params: dict[str, Any] = {"limit": limit} | ({"before": before} if before is not None else {})
        return dict(self.request_json("GET", "/me/plays", params=params))

    def listening(self, weeks: int, days: int) -> dict[str, Any]:
        """Hours heard per week (the last ``weeks``, this one last) and top artists and tracks over ``days`` days."""
        return dict(self.request_json("GET", "/me/listening", params={"weeks": weeks, "days": days}))

    def home(self) -> dict[str, Any]:
        """Home's rows for this user (``GET /me/home``)."""
        return dict(self.request_json("GET", "/me/home"))

    def clear_plays(self) -> None:
        self.request_json("DELETE", "/me/plays")

    def like(self, track_id: int) -> None:
        self.request_json("PUT", f"/me/likes/{track_id}")

    def unlike(self, track_id: int) -> None:
        self.request_json("DELETE", f"/me/likes/{track_id}")

    def likes(self, limit: int = 500, offset: int = 0) -> dict[str, Any]:
        """The user's liked tracks (each with ``liked_at``), newest first, and how many there are in all."""
        return dict(self.request_json("GET", "/me/likes", params={"limit": limit, "offset": offset}))

    def discover_weekly(self) -> dict[str, Any]:
        """This week's Discover Weekly: its playlist id, the week, and each pick with the reason it was picked."""
        return dict(self.request_json("GET", "/me/discover-weekly"))

    def radio(self, track_id: int, limit: int = 25, exclude: list[int] | None = None) -> dict[str, Any]:
        """Tracks like ``track_id`` (its neighbours) for its radio, none of ``exclude``."""
        params: dict[str, Any] = {"limit": limit}
        if exclude:
            params["exclude"] = ",".join(str(track) for track in exclude)
        return dict(self.request_json("GET", f"/tracks/{track_id}/radio", params=params))

    def health(self) -> None:
        """A cheap reachability probe; ServerUnreachable or ApiError when the server is not serving."""
        self.request_json("GET", "/health")

    def fetch(self, manifest: FileManifest, start: int, end: int) -> bytes:
        """Ciphertext bytes [start, end) of a file, by HTTP Range (the cache's ChunkFetcher); errors as
        ``open_range``."""
        with self.open_range(manifest, start, end) as body:
            return b"".join(body.pieces())

    @contextmanager
    def open_range(self, manifest: FileManifest, start: int, end: int) -> Iterator[RangeStream]:
        """Ciphertext bytes [start, end) of a file by HTTP Range, streamed while the block runs (the downloads'
        source). ServerBusy on 429/503 (with its Retry-After), RangeRefused on any other answer than that range,
        ServerUnreachable when the server cannot be reached or the connection breaks mid-answer.

        Ciphertext is public, like covers: no token is sent, so caches in between may keep it.
        """
        what = f"bytes {start}-{end - 1} of {manifest.url}"
        try:
            with self._files.stream("GET", manifest.url, headers={"Range": f"bytes={start}-{end - 1}"}) as response:
                check_range_answer(response, start, end, what)
                yield RangeStream(response, f"{self._files.base_url}: {what}")
        except httpx.TransportError as exc:
            raise ServerUnreachable(f"cannot reach {self._files.base_url} for {what}: {exc}") from exc

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}


def advertised_edge(base_url: str, user_name: str) -> str | None:
    """One of the edge caches the server advertises (GET /config), the same one for a user each time so users
    spread over the edges; None when it advertises none (or is a server without /config)."""
    with httpx.Client(base_url=base_url.rstrip("/"), timeout=DEFAULT_TIMEOUT_S, transport=http_transport()) as http:
        try:
            edges = [str(edge) for edge in request_json(http, "GET", "/config").get("edges", [])]
        except ApiError as exc:
            log.info("the server advertises no edges (%s)", exc)
            return None
    return edges[zlib.crc32(user_name.encode()) % len(edges)] if edges else None


