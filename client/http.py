"""One request to a Legato server over httpx, and what its answer means: the shared TLS context and transport,
the errors a caller sees (ApiError, ServerUnreachable, ServerBusy), Range answers checked and received.

It knows no endpoint; client.api does."""

from __future__ import annotations

import email.utils
import functools
import logging
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx

from offline import RangeRefused, ServerBusy

log = logging.getLogger(__name__)


class ApiError(Exception):
    """The server answered with an error; ``message`` is fit to show to the user."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class ServerUnreachable(OSError):
    """The server could not be reached at all (connection refused, timeout, DNS)."""


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """The one TLS context of the process (httpx's defaults): loading the CA bundle costs ~25 ms, once, not per
    client. Contexts are safe to share between connections and threads."""
    return httpx.create_ssl_context()


def http_transport() -> httpx.HTTPTransport:
    # No Nagle: a request with a body is headers then body in two writes; waiting for an ACK costs ~40 ms.
    return httpx.HTTPTransport(verify=_tls_context(), socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])


def request_json(http: httpx.Client, method: str, path: str, **kwargs: Any) -> Any:
    """Send one request; the decoded JSON body, or ServerBusy, ApiError or ServerUnreachable as ``send``."""
    response = send(http, method, path, **kwargs)
    return response.json() if response.content else None


def send(http: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """Send one request; its successful response, or ServerBusy (a 503, with its Retry-After), or ApiError with the
    server's message, or ServerUnreachable."""
    try:
        response = http.request(method, path, **kwargs)
    except httpx.TransportError as exc:
        raise ServerUnreachable(f"cannot reach {http.base_url}: {exc}") from exc
    if response.is_success:
        return response
    if response.status_code == 503:
        raise ServerBusy(f"{method} {path}: the server is busy (503)",
                         _retry_after_s(response.headers.get("retry-after")))
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


def check_range_answer(response: httpx.Response, start: int, end: int, what: str) -> None:
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
