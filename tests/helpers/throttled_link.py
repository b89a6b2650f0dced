"""A slow link for the download tests: a TCP proxy on 127.0.0.1 in front of a real server that carries at
most ``rate_bps`` bytes per second from the server to its clients (all connections together)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

_PIECE_BYTES = 4096


class ThrottledLink:
    """Forwards every connection to ``upstream_port``; ``url`` is where clients connect. Close it when done."""

    def __init__(self, upstream_port: int, rate_bps: float) -> None:
        self._upstream_port = upstream_port
        self._rate_bps = rate_bps
        self._next_free = time.monotonic()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._accept, name="throttled-link", daemon=True).start()

    def close(self) -> None:
        self._listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            upstream = socket.create_connection(("127.0.0.1", self._upstream_port))
            with self._lock:
                self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, throttled: bool) -> None:
        try:
            # An OSError means either end went away (a killed client): the connection is over.
            with contextlib.suppress(OSError):
                while data := source.recv(_PIECE_BYTES):
                    if throttled:
                        self._wait_for_room(len(data))
                    target.sendall(data)
        finally:
            for sock in (source, target):
                with contextlib.suppress(OSError):  # already closed by the other direction's pump
                    sock.shutdown(socket.SHUT_RDWR)

    def _wait_for_room(self, byte_count: int) -> None:
        with self._lock:
            start = max(time.monotonic(), self._next_free)
            self._next_free = start + byte_count / self._rate_bps
            ready = self._next_free
        delay = ready - time.monotonic()
        if delay > 0:
            time.sleep(delay)
