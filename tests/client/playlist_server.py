"""A real reference server on its own data dir with a few users, restartable on the same port (for sync tests)."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx

from client.api import ApiClient
from client.bundled import BundledServer
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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
