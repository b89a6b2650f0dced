"""A real reference server on its own data dir with a few users, restartable on the same port (for sync tests),
and a watcher of a sync core's changes that waits on a condition over them."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from client.api import ApiClient
from client.bundled import BundledServer
from client.playlists import PlaylistChange
from server.auth import create_user
from server.catalog import Catalog


class PlaylistServer:
    """The server process plus what a test needs to log in as its users and to restart it in place."""

    def __init__(self, data_dir: Path, users: tuple[str, ...]) -> None:
        self.data_dir = data_dir
        for name in users:
            self.add_user(name)
        self._handle = BundledServer(data_dir, _free_port())
        self.url = self._handle.start()

    def add_user(self, name: str) -> None:
        """A new account (password ``NAME-pw``); works while the server runs."""
        catalog = Catalog.open(self.data_dir)
        try:
            create_user(catalog, name, f"{name}-pw", "GB")
        finally:
            catalog.close()

    def session(self, user: str, transport: httpx.BaseTransport | None = None) -> ApiClient:
        """A client logged in as ``user``, as the app's session is (the caller closes it)."""
        api = ApiClient(self.url, transport=transport)
        api.login(user, f"{user}-pw")
        return api

    def token(self, user: str) -> str:
        response = httpx.post(f"{self.url}/auth/login", json={"username": user, "password": f"{user}-pw"})
        response.raise_for_status()
        return str(response.json()["token"])

    def restart(self) -> None:
        """Stop and start again on the same port, so clients keep their URL."""
        self._handle.stop()
        self.url = self._handle.start()

    def stop(self) -> None:
        self._handle.stop()


class SlowListing(httpx.BaseTransport):
    """The real network, with each playlist listing (GET /playlists) handed over ``delay_s`` after the server
    wrote it, as from a loaded server: by the time the caller reads it, it may be stale."""

    def __init__(self, delay_s: float) -> None:
        self._network = httpx.HTTPTransport()
        self._delay_s = delay_s

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._network.handle_request(request)
        if request.method == "GET" and request.url.path == "/playlists":
            response.read()  # the listing as the server saw it, then the delay of a slow link
            time.sleep(self._delay_s)
        return response

    def close(self) -> None:
        self._network.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Watcher:
    """Collects on_change calls and waits on a condition over them with a timeout (no sleeps)."""

    def __init__(self) -> None:
        self.changes: list[PlaylistChange] = []
        self._condition = threading.Condition()

    def __call__(self, change: PlaylistChange) -> None:
        with self._condition:
            self.changes.append(change)
            self._condition.notify_all()

    def wait_for(self, predicate: Callable[[], bool], timeout_s: float = 10.0) -> bool:
        with self._condition:
            return self._condition.wait_for(predicate, timeout_s)
