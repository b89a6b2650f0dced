"""Live playlist news: the device's one server-sent-events stream for all its playlists, on its own thread.

The stream only delivers and reconnects; what an event means is decided by the callback the sync core hands in.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import httpx

from client.api import ApiClient, ServerUnreachable, interrupt

_log = logging.getLogger(__name__)
EVENTS_PATH = "/me/playlist-events"
# The server sends a keep-alive every 15 s; a silent stream past this is dead.
READ_TIMEOUT_S = 40.0
_RETRY_FIRST_S, _RETRY_MAX_S = 0.25, 10.0
_CLOSE_WAIT_S = 10.0  # an event being handled finishes; the read itself returns at once on close

EventCallback = Callable[[str, Any], None]
"""(event name, decoded data), called on the stream's thread in the order the server sent them."""


class DeviceEvents:
    """One stream at a time over the session's HTTP client: ``open`` starts it (reconnecting until ``close``).

    ``on_connected`` runs each time a connection is accepted, before its first event.
    """

    def __init__(self, api: ApiClient, on_event: EventCallback, on_connected: Callable[[], None]) -> None:
        self._api = api
        self._on_event = on_event
        self._on_connected = on_connected
        self._lock = threading.Lock()
        self._current: _Connection | None = None

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._current is not None

    def open(self) -> None:
        """Start following the stream unless it is followed already."""
        with self._lock:
            if self._current is None:
                self._current = _Connection()
                self._current.thread = threading.Thread(target=self._follow, args=(self._current,), daemon=True,
                                                        name="playlist-events")
                self._current.thread.start()

    def close(self) -> None:
        """Stop the stream; once this returns no event of it is being handled or will be (the owner may close
        what the callback writes to)."""
        with self._lock:
            current, self._current = self._current, None
        if current is not None:
            current.stop()
            if current.thread is not None and current.thread is not threading.current_thread():
                current.thread.join(_CLOSE_WAIT_S)

    def _follow(self, connection: _Connection) -> None:
        delay_s = _RETRY_FIRST_S
        while not connection.stopped.is_set():
            try:
                with self._api.stream("GET", EVENTS_PATH,
                                      timeout=httpx.Timeout(10.0, read=READ_TIMEOUT_S)) as response:
                    connection.response = response
                    if connection.stopped.is_set():
                        break
                    if response.is_success:
                        self._on_connected()
                        for name, data in parse_events(response.iter_lines()):
                            if connection.stopped.is_set():
                                break
                            delay_s = _RETRY_FIRST_S
                            self._on_event(name, data)
                    else:
                        _log.warning("the playlist event stream was refused: HTTP %s", response.status_code)
            except (ServerUnreachable, httpx.HTTPError, httpx.StreamError) as exc:
                if not connection.stopped.is_set():
                    _log.info("the playlist event stream broke (%s); reconnecting", exc)
            except ValueError as exc:
                _log.warning("the playlist event stream sent something unreadable (%s); reconnecting", exc)
            connection.stopped.wait(delay_s)
            delay_s = min(delay_s * 2, _RETRY_MAX_S)
        with self._lock:
            if self._current is connection:
                self._current = None


class _Connection:
    def __init__(self) -> None:
        self.stopped = threading.Event()
        self.response: httpx.Response | None = None
        self.thread: threading.Thread | None = None

    def stop(self) -> None:
        self.stopped.set()
        if self.response is not None:
            close_stream(self.response)


def close_stream(response: httpx.Response) -> None:
    """Close a streaming response from any thread, at once: a thread blocked reading it returns."""
    interrupt(response, "the playlist event stream")
    try:
        response.close()
    except (httpx.HTTPError, OSError, RuntimeError) as exc:
        _log.debug("closing the playlist event stream: %s", exc)


def parse_events(lines: Iterable[str]) -> Iterator[tuple[str, Any]]:
    """(event name, JSON data) for each complete server-sent event; comments (keep-alives) are skipped.

    Raises ValueError when an event's data is not JSON.
    """
    name, data = "message", list[str]()
    for line in lines:
        if not line:
            if data:
                yield name, json.loads("\n".join(data))
            name, data = "message", list[str]()
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
