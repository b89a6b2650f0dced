"""A simulated client's bare HTTP/1.1 connection for benchmarks/release_day.py's crowd: thousands of them at once
on one asyncio loop, where httpx's pool would crawl."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass


@dataclass(frozen=True)
class Answer:
    """One HTTP answer, read to its end."""

    status: int
    headers: dict[str, str]
    body: bytes


class Connection:
    """One simulated client's HTTP/1.1 connection to one host (each client is its own machine), kept open between
    its requests as an app's HTTP client keeps it, and opened again when the server has closed it. Bare asyncio
    streams: httpx's pool crawls with thousands of requests waiting on it."""

    def __init__(self, target: tuple[str, int], keep_alive: bool = True) -> None:
        self._target = target
        self._keep_alive = keep_alive
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def get(self, path: str, headers: dict[str, str]) -> Answer:
        reused = self._streams is not None
        try:
            return await self._get(path, headers)
        except (asyncio.IncompleteReadError, ConnectionResetError):
            self.close()
            if not reused:
                raise
            return await self._get(path, headers)  # the server closed the idle connection: one fresh try

    def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None

    async def _get(self, path: str, headers: dict[str, str]) -> Answer:
        if self._streams is None:
            self._streams = await asyncio.open_connection(*self._target)
        reader, writer = self._streams
        try:
            lines = [f"GET {path} HTTP/1.1", f"Host: {self._target[0]}:{self._target[1]}",
                     f"Connection: {'keep-alive' if self._keep_alive else 'close'}",
                     *(f"{name}: {value}" for name, value in headers.items())]
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
            head = await reader.readuntil(b"\r\n\r\n")
            status_line, *header_lines = head.decode("latin-1").split("\r\n")
            answer_headers = {name.strip().lower(): value.strip() for name, _, value in
                              (line.partition(":") for line in header_lines if line)}
            body = await _body(reader, answer_headers)
        except BaseException:
            self.close()
            raise
        if not self._keep_alive or "content-length" not in answer_headers \
                or answer_headers.get("connection", "").lower() == "close":
            self.close()
        return Answer(int(status_line.split(" ")[1]), answer_headers, body)


async def _body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    """An answer's body: by its Content-Length, else by its chunks, else up to the end of the connection."""
    if "content-length" in headers:
        return await reader.readexactly(int(headers["content-length"]))
    if headers.get("transfer-encoding", "").lower() != "chunked":
        return await reader.read(-1)
    parts = []
    while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)
    await reader.readuntil(b"\r\n")
    return b"".join(parts)
