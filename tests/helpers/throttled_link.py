"""A slow link for the download tests: a TCP proxy on 127.0.0.1 in front of a real server that carries at
most ``rate_bps`` bytes per second from the server to its clients (all connections together), keeps a
transcript of both directions, and can be held (nothing more forwarded to the clients) and released."""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time

_PIECE_BYTES = 4096
_HEAD_END = b"\r\n\r\n"


class ThrottledLink:
    """Forwards every connection to ``upstream_port``; ``url`` is where clients connect. Close it when done."""

    def __init__(self, upstream_port: int, rate_bps: float) -> None:
        self._upstream_port = upstream_port
        self._rate_bps = rate_bps
        self._next_free = time.monotonic()
        self._lock = threading.Lock()
        self._flow = threading.Condition(self._lock)
        self._held = False
        self._closed = False
        self._sockets: list[socket.socket] = []
        self._answers: list[bytearray] = []  # per connection: what the server sent that was let through
        self._asked: list[bytearray] = []  # per connection: what the client sent
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._accept, name="throttled-link", daemon=True).start()

    def hold(self) -> None:
        """Forward nothing more to the clients until ``release``: once this returns, ``answer_body_bytes`` is
        final and every byte it counts is on its way (the server's connections stay open, stalled)."""
        with self._lock:
            self._held = True

    def release(self) -> None:
        with self._flow:
            self._held = False
            self._flow.notify_all()

    def answer_body_bytes(self, status: int) -> list[int]:
        """Body bytes let through so far of each HTTP answer with ``status``, in the order they began."""
        with self._lock:
            transcripts = [bytes(t) for t in self._answers]
        return [body for transcript in transcripts for code, body in _answers_in(transcript) if code == status]

    def range_starts(self) -> list[int]:
        """The first byte of every Range request the clients sent, in order (per connection)."""
        with self._lock:
            asked = b"".join(bytes(a) for a in self._asked)
        return [int(start) for start in re.findall(rb"(?i)\r\nrange: bytes=(\d+)-", asked)]

    def close(self) -> None:
        self._listener.close()
        with self._flow:
            self._closed = True
            self._flow.notify_all()
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
            answers, asked = bytearray(), bytearray()
            with self._lock:
                self._sockets += [client, upstream]
                self._answers.append(answers)
                self._asked.append(asked)
            threading.Thread(target=self._pump, args=(client, upstream, asked, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, answers, True), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, transcript: bytearray, throttled: bool) -> None:
        try:
            while data := source.recv(_PIECE_BYTES):
                if throttled:
                    self._wait_for_room(len(data))
                with self._flow:
                    self._flow.wait_for(lambda: not (throttled and self._held) or self._closed)
                    if self._closed:
                        return
                    transcript += data  # counted as let through: sent below, whatever ``hold`` does meanwhile
                target.sendall(data)
        except OSError:
            pass  # either end went away (a killed client): the connection is over
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


def _answers_in(transcript: bytes) -> list[tuple[int, int]]:
    """(status, body bytes present) of each HTTP/1.1 answer in one connection's transcript (Content-Length
    bodies only, which is all the reference server sends on these routes)."""
    answers = []
    at = 0
    while (head_end := transcript.find(_HEAD_END, at)) >= 0:
        head = transcript[at:head_end].decode("latin-1")
        status = int(head.split(" ", 2)[1])
        length = re.search(r"(?im)^content-length:\s*(\d+)", head)
        size = int(length.group(1)) if length else 0
        body_start = head_end + len(_HEAD_END)
        answers.append((status, min(size, len(transcript) - body_start)))
        at = body_start + size
    return answers
