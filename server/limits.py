"""Bounds on what a request may carry, checked at the edge before any handler parses it.

Body sizes are enforced by FastAPI's own ``max_body_size`` (app default, smaller per route); this module adds the
JSON nesting limit, scanned as the bytes stream in, in constant memory. It never buffers a body.
"""

from __future__ import annotations

import re

import numpy as np
from starlette.exceptions import HTTPException
from starlette.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_BODY_BYTES = 64 * 1024
AUTH_BODY_BYTES = 4 * 1024
MAX_JSON_DEPTH = 32

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)  # a whole string, escapes included
_STRING_REST = re.compile(rb'[^"\\]*(?:\\.[^"\\]*)*', re.DOTALL)  # up to the closing quote or a trailing backslash
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
_STEPS = np.zeros(256, dtype=np.int64)
_STEPS[list(b"[{")] = 1
_STEPS[list(b"]}")] = -1
_BACKSLASH = ord("\\")


class BodyRefused(HTTPException):
    """A request body refused at the edge; ``code`` is the snake_case error code of the JSON error body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(status_code=status, detail=message)
        self.code = code


def too_large_message(scope: Scope) -> str:
    """What to tell a client whose body went over the limit of the endpoint it called."""
    limit = scope.get(MAX_BODY_SIZE_SCOPE_KEY)
    bound = f"{limit} bytes" if isinstance(limit, int) else "its limit"
    return f"the request body is larger than this endpoint accepts ({bound}); send less"


async def declared_size_within_limit(request: Request) -> None:
    """A dependency of every route: refuse a body declared over the route's limit before the handler runs.

    Starlette's limiter checks a declared size only when the body is read, or else when the answer starts, which
    for a handler that never reads its body is after that handler has done its work (a logout, a delete).
    """
    limit = request.scope.get(MAX_BODY_SIZE_SCOPE_KEY)
    declared = request.headers.get("content-length", "")
    if isinstance(limit, int) and declared.isdigit() and int(declared) > limit:
        raise BodyRefused(413, "payload_too_large", too_large_message(request.scope))


class JsonDepthScanner:
    """Follows the nesting depth of a JSON text fed in pieces; raises BodyRefused past ``max_depth``.

    Only strings and brackets are tracked: anything else malformed is left to the JSON parser to refuse.
    """

    def __init__(self, max_depth: int = MAX_JSON_DEPTH) -> None:
        self.max_depth = max_depth
        self.depth = 0
        self._in_string = False
        self._escaped = False

    def feed(self, data: bytes) -> None:
        if self._in_string:
            data = self._leave_string(data)
            if self._in_string:
                return
        outside = _STRING.sub(b"", data)
        opened = outside.find(b'"')
        if opened >= 0:  # a string left open at the end of this piece: what follows it is all its content
            self._in_string = True
            self._leave_string(outside[opened + 1:])
            outside = outside[:opened]
        self._climb(outside.translate(None, _NOT_BRACKETS))

    def _leave_string(self, data: bytes) -> bytes:
        """What follows the end of the open string in ``data`` (empty if the string goes on)."""
        start = 0
        if self._escaped:
            if not data:
                return b""
            self._escaped, start = False, 1
        end = _skip(_STRING_REST, data, start)
        if end == len(data):
            return b""
        if data[end] == _BACKSLASH:  # the escaped character is in the next piece
            self._escaped = True
            return b""
        self._in_string = False
        return data[end + 1:]

    def _climb(self, brackets: bytes) -> None:
        if not brackets:
            return
        levels = np.cumsum(_STEPS[np.frombuffer(brackets, dtype=np.uint8)]) + self.depth
        if int(levels.max()) > self.max_depth:
            raise BodyRefused(422, "json_too_deep", f"the JSON body nests deeper than {self.max_depth} levels; "
                              "no request of this API needs that")
        self.depth = int(levels[-1])


def _skip(pattern: re.Pattern[bytes], data: bytes, pos: int) -> int:
    match = pattern.match(data, pos)
    return pos if match is None else match.end()


class JsonDepthLimit:
    """ASGI middleware: every request body is scanned for JSON nesting as the handler reads it."""

    def __init__(self, app: ASGIApp, max_depth: int = MAX_JSON_DEPTH) -> None:
        self.app = app
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scanner = JsonDepthScanner(self.max_depth)

        async def scanned() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                scanner.feed(message.get("body", b""))
            return message

        await self.app(scope, scanned, send)
