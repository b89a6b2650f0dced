"""The HTTP client of Legato's server API (httpx): login, browse, manifests, licences, ciphertext ranges.

Everything the app knows of the server comes through here; it never reads the server's files directly.
"""

from __future__ import annotations

import email.utils
import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from cache import FileKey, FileManifest
from offline import OfflineLicence, RangeRefused, ServerBusy

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 10.0


class ApiError(Exception):
    """The server answered with an error; ``message`` is fit to show to the user."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class ServerUnreachable(OSError):
    """The server could not be reached at all (connection refused, timeout, DNS)."""


class NotLoggedIn(RuntimeError):
    """A part that acts for a user was given a session that has not logged in."""


class ApiClient:
    """A logged-in (or not yet) session with one Legato server: the one HTTP client of the session, shared by
    every part that talks to the server (browse, playback, downloads, playlist sync). Safe to share between threads.

    Every request reads the current token, so a new ``login`` reaches every part at once.
    """

    def __init__(self, base_url: str, token: str | None = None, timeout_s: float = DEFAULT_TIMEOUT_S, *,
                 transport: httpx.BaseTransport | None = None) -> None:
        """``transport`` replaces the network (tests: a transport that delays or fails requests on cue)."""
        self.base_url = base_url.rstrip("/")
        # No Nagle: a request with a body is headers then body in two writes; waiting for an ACK costs ~40 ms.
        transport = transport or httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout_s, transport=transport)
        self.token = token
        self.user: dict[str, Any] | None = None  # the account, once logged in

    def close(self) -> None:
        self._http.close()

    @property
    def user_name(self) -> str:
        """The logged-in user's name; NotLoggedIn before ``login``."""
        if self.user is None:
            raise NotLoggedIn(f"not logged in to {self.base_url}: log in before opening what acts for a user")
        return str(self.user["name"])

    def request_json(self, method: str, path: str, **kwargs: Any) -> Any:
        """One authenticated request: its decoded JSON body, ApiError with the server's message, or
        ServerUnreachable."""
        return request_json(self._http, method, path, headers=self._auth(), **kwargs)

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
        return list(self.request_json("GET", "/albums")["albums"])

    def album(self, album_id: int) -> dict[str, Any]:
        return dict(self.request_json("GET", f"/albums/{album_id}"))

    def artists(self) -> list[dict[str, Any]]:
        return list(self.request_json("GET", "/artists")["artists"])

    def artist(self, artist_id: int) -> dict[str, Any]:
        return dict(self.request_json("GET", f"/artists/{artist_id}"))

    def tracks(self, limit: int = 500, offset: int = 0) -> dict[str, Any]:
        return dict(self.request_json("GET", "/tracks", params={"limit": limit, "offset": offset}))

    def search(self, query: str, limit: int = 20) -> dict[str, Any]:
        return dict(self.request_json("GET", "/search", params={"q": query, "limit": limit}))

    def track(self, track_id: int) -> dict[str, Any]:
        return dict(self.request_json("GET", f"/tracks/{track_id}"))

    def manifest(self, track_id: int) -> dict[str, Any]:
        return dict(self.request_json("GET", f"/tracks/{track_id}/manifest"))

    def licence(self, file_id: int) -> FileKey:
        body = self.request_json("GET", f"/licences/{file_id}")
        return FileKey.from_hex(str(body["key"]), str(body["nonce"]))

    def offline_licence(self, file_id: int) -> OfflineLicence:
        """The file's key granted for offline play, valid for the time the server says."""
        body = self.request_json("GET", f"/licences/{file_id}", params={"offline": "true"})
        return OfflineLicence(FileKey.from_hex(str(body["key"]), str(body["nonce"])),
                              float(body["offline"]["valid_s"]))

    def cover(self, album_id: int) -> bytes:
        """The album's cover image (JPEG or PNG bytes); ApiError with status 404 when it has none.

        Covers are public (no token sent), like the ciphertext files, so caches in between may keep them.
        """
        return send(self._http, "GET", f"/albums/{album_id}/cover").content

    def post_plays(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        """Send play events (idempotent by their ids): how many were new, already known, and ignored (with why)."""
        return dict(self.request_json("POST", "/me/plays", json={"events": events}))

    def plays(self, limit: int = 50, before: str | None = None) -> dict[str, Any]:
        """The user's listening history, newest first, from every device; ``next_before`` pages on."""
        params: dict[str, Any] = {"limit": limit} | ({"before": before} if before is not None else {})
        return dict(self.request_json("GET", "/me/plays", params=params))

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
            with self._http.stream("GET", manifest.url, headers={"Range": f"bytes={start}-{end - 1}"}) as response:
                _check_range_answer(response, start, end, what)
                yield RangeStream(response, f"{self.base_url}: {what}")
        except httpx.TransportError as exc:
            raise ServerUnreachable(f"cannot reach {self.base_url} for {what}: {exc}") from exc

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}


def request_json(http: httpx.Client, method: str, path: str, **kwargs: Any) -> Any:
    """Send one request; the decoded JSON body, or ApiError with the server's message, or ServerUnreachable."""
    response = send(http, method, path, **kwargs)
    return response.json() if response.content else None


def send(http: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """Send one request; its successful response, or ApiError with the server's message, or ServerUnreachable."""
    try:
        response = http.request(method, path, **kwargs)
    except httpx.TransportError as exc:
        raise ServerUnreachable(f"cannot reach {http.base_url}: {exc}") from exc
    if response.is_success:
        return response
    try:
        error = response.json()["error"]
        raise ApiError(response.status_code, str(error["code"]), str(error["message"]))
    except (ValueError, KeyError, TypeError):
        raise ApiError(response.status_code, "http_error",
                       f"{method} {path} failed with HTTP {response.status_code}") from None


class RangeStream:
    """The body of a Range answer being received (offline.RangeBody); ``abort()`` may come from any thread."""

    def __init__(self, response: httpx.Response, what: str) -> None:
        self._response = response
        self._what = what
        self._aborted = threading.Event()

    def pieces(self) -> Iterator[bytes]:
        """The body's bytes as they arrive; ServerUnreachable when the connection breaks, none after ``abort``."""
        try:
            for piece in self._response.iter_bytes():
                if self._aborted.is_set():
                    return
                yield piece
        except (httpx.HTTPError, httpx.StreamError) as exc:
            if self._aborted.is_set():
                return  # the abort broke the read off, as asked
            raise ServerUnreachable(f"the connection broke while receiving {self._what}: {exc}") from exc

    def abort(self) -> None:
        """Stop receiving: shut the socket down, so a read blocked on it returns now instead of at the timeout."""
        self._aborted.set()
        interrupt(self._response, self._what)


def interrupt(response: httpx.Response, what: str) -> None:
    """Shut a streaming response's socket down from any thread, so a read blocked on it returns at once (closing
    the response alone would leave that read, and the server's end of the connection, waiting for bytes)."""
    network = response.extensions.get("network_stream")
    sock = network.get_extra_info("socket") if network is not None else None
    if isinstance(sock, socket.socket):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError as exc:  # the connection ended on its own meanwhile: nothing left to stop
            log.debug("interrupting %s: %s", what, exc)


def _check_range_answer(response: httpx.Response, start: int, end: int, what: str) -> None:
    """Raise ServerBusy or RangeRefused unless ``response`` is a 206 carrying exactly bytes [start, end)."""
    status = response.status_code
    if status in (429, 503):
        retry_after_s = _retry_after_s(response.headers.get("retry-after"))
        raise ServerBusy(f"the server is busy ({status}) for {what}", retry_after_s)
    if status != 206:
        raise RangeRefused(f"the server answered {status} for {what}", status)
    content_range = response.headers.get("content-range", "")
    if not content_range.startswith(f"bytes {start}-{end - 1}/"):
        raise RangeRefused(f"the server sent {content_range or 'an unnamed range'} when asked for {what}", status)


def _retry_after_s(value: str | None) -> float | None:
    """Retry-After as seconds from now (it is either seconds or an HTTP date); junk counts as not given."""
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None
