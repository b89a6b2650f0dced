"""Shared fixtures for Legato's tests, reusable by QA.

- ``demo_data``: a data dir holding a small demo catalog built by the real ingest (session-wide).
- ``live_server``: the real reference server on a loopback port, serving ``demo_data`` (session-wide).
- ``demo_login``: the demo user's name and password.
- ``api_token``: a bearer token for the demo user on ``live_server``.
- ``start_server(data_dir)`` / ``stop_server(server)``: for tests that stop and restart a server themselves.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from client.bundled import BundledServer

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

DEMO_USER = ("demo", "demo")


@dataclass(frozen=True)
class LiveServer:
    """A running reference server: its base URL, its data dir and the handle that stops it."""

    url: str
    data_dir: Path
    handle: BundledServer


def start_server(data_dir: Path, port: int = 0) -> LiveServer:
    """Start ``legato-server serve`` on 127.0.0.1 and return once it accepts connections."""
    handle = BundledServer(data_dir, port)
    return LiveServer(handle.start(), data_dir, handle)


def stop_server(server: LiveServer) -> None:
    server.handle.stop()


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from server.demo import build_demo

    data_dir = tmp_path_factory.mktemp("server-data")
    build_demo(data_dir, albums=2, seconds_per_track=6.0)
    return data_dir


@pytest.fixture(scope="session")
def live_server(demo_data: Path) -> Iterator[LiveServer]:
    server = start_server(demo_data)
    yield server
    stop_server(server)


@pytest.fixture(scope="session")
def demo_login() -> tuple[str, str]:
    return DEMO_USER


@pytest.fixture(scope="session")
def api_token(live_server: LiveServer) -> str:
    response = httpx.post(f"{live_server.url}/auth/login",
                          json={"username": DEMO_USER[0], "password": DEMO_USER[1]})
    response.raise_for_status()
    return str(response.json()["token"])
