"""The origin's request log: one line per answered request (Unix time, method, path, Range, status), to a file
named by LEGATO_REQUEST_LOG; off when that is unset. For counting origin fetches behind edges, never for auth data.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import IO

from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_LOG_ENV = "LEGATO_REQUEST_LOG"


class RequestLog:
    """ASGI middleware appending ``<unix time> <method> <path> <range or -> <status>`` lines, one write each."""

    def __init__(self, app: ASGIApp, path: Path | None = None) -> None:
        self.app = app
        configured = path or (Path(os.environ[REQUEST_LOG_ENV]) if os.environ.get(REQUEST_LOG_ENV) else None)
        self._file: IO[str] | None = open(configured, "a", buffering=1) if configured else None  # noqa: SIM115 - lives as long as the app
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._file is None or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        log = self._file

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = dict(scope.get("headers", ()))
                byte_range = headers.get(b"range", b"-").decode("latin-1").replace(" ", "")
                line = f"{time.time():.3f} {scope['method']} {scope['path']} {byte_range} {message['status']}\n"
                with self._lock:
                    log.write(line)
            await send(message)

        await self.app(scope, receive, sending)
