"""Live playlist updates: one server-sent-events stream per playlist, each on its own thread, reconnecting.

Streams only deliver; what an event means is decided by the callback PlaylistSync hands in.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import httpx

_log = logging.getLogger(__name__)
# The server sends a keep-alive every 15 s; a silent stream past this is dead.
READ_TIMEOUT_S = 40.0
_RETRY_FIRST_S, _RETRY_MAX_S = 0.25, 15.0

EventCallback = Callable[[str, str, Any], "int | None"]
"""(playlist id, event name, decoded data) -> the seq to resume from, or None to end the stream."""


class EventStreams:
    """The open streams, keyed by playlist id."""

    def __init__(self, http: httpx.Client, headers: Callable[[], dict[str, str]], on_event: EventCallback,
                 since_of: Callable[[str], int | None], stopping: threading.Event) -> None:
        self._http = http
        self._headers = headers
        self._on_event = on_event
        self._since_of = since_of
        self._stopping = stopping
        self._lock = threading.Lock()
        self._streams: dict[str, tuple[threading.Event, list[httpx.Response]]] = {}

    def keep_open(self, playlist_ids: Iterable[str]) -> None:
        """Open a stream for each playlist that has none."""
        with self._lock:
            for playlist_id in playlist_ids:
                if playlist_id in self._streams:
                    continue
                stop, current = threading.Event(), list[httpx.Response]()
                self._streams[playlist_id] = (stop, current)
                threading.Thread(target=self._follow, args=(playlist_id, stop, current), daemon=True,
                                 name=f"playlist-events-{playlist_id[:8]}").start()

    def close(self, playlist_id: str) -> None:
        with self._lock:
            stream = self._streams.pop(playlist_id, None)
        if stream is not None:
            _stop(*stream)

    def close_all(self) -> None:
        with self._lock:
            streams = list(self._streams.values())
            self._streams.clear()
        for stream in streams:
            _stop(*stream)

    def _follow(self, playlist_id: str, stop: threading.Event, current: list[httpx.Response]) -> None:
        delay_s = _RETRY_FIRST_S
        while not (stop.is_set() or self._stopping.is_set()):
            since = self._since_of(playlist_id)
            if since is None:
                break
            try:
                with self._http.stream("GET", f"/playlists/{playlist_id}/events", params={"since": since},
                                       headers=self._headers(),
                                       timeout=httpx.Timeout(10.0, read=READ_TIMEOUT_S)) as response:
                    current[:] = [response]
                    if stop.is_set():
                        break
                    if response.status_code == 404:
                        self._on_event(playlist_id, "deleted", {"id": playlist_id})
                        break
                    if response.is_success:
                        for name, data in parse_events(response.iter_lines()):
                            delay_s = _RETRY_FIRST_S
                            if self._on_event(playlist_id, name, data) is None:
                                return
                    else:
                        _log.warning("event stream of playlist %s refused: HTTP %s", playlist_id,
                                     response.status_code)
            except (httpx.HTTPError, httpx.StreamError) as exc:
                if not stop.is_set():
                    _log.info("event stream of playlist %s broke (%s); reconnecting", playlist_id, exc)
            stop.wait(delay_s)
            delay_s = min(delay_s * 2, _RETRY_MAX_S)
        with self._lock:
            if self._streams.get(playlist_id, (None,))[0] is stop:
                del self._streams[playlist_id]


def parse_events(lines: Iterable[str]) -> Iterator[tuple[str, Any]]:
    """(event name, JSON data) for each complete server-sent event; comments (keep-alives) are skipped."""
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


def _stop(stop: threading.Event, current: list[httpx.Response]) -> None:
    stop.set()
    for response in current:
        try:
            response.close()  # unblocks the thread reading it
        except (httpx.HTTPError, OSError, RuntimeError) as exc:
            _log.debug("closing an event stream: %s", exc)
