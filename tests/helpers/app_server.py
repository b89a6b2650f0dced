"""The reference server's app served in this process on a loopback port, for tests that hold one of its
injected parts (the release clock): real HTTP, real SQLite, the app built by ``create_app``."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import uvicorn

from server import auth
from server.app import create_app
from server.catalog import Catalog
from server.releases import Clock
from tests.helpers.postgres import copy_data_dir

_START_TIMEOUT_S = 30.0


@dataclass
class MovableClock:
    """A UTC clock the test moves by hand (the app's ``now``)."""

    now: datetime = datetime(2026, 12, 3, 22, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def copy_with_users(demo_data: Path, folder: Path, users: dict[str, str]) -> Path:
    """A copy of ``demo_data`` in ``folder`` with ``users`` (name -> password, region GB) added."""
    data_dir = folder / "data"
    copy_data_dir(demo_data, data_dir)
    catalog = Catalog.open(data_dir)
    try:
        for name, password in users.items():
            auth.create_user(catalog, name, password, "GB")
    finally:
        catalog.close()
    return data_dir


@contextmanager
def app_server(data_dir: Path, clock: Clock) -> Iterator[str]:
    """Serve ``create_app(data_dir, now=clock)`` on 127.0.0.1 from a thread; its URL while the block runs."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(data_dir, now=clock), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + _START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise AssertionError("the in-process server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
