"""Fixtures for the offline tests, reusable by QA.

- ``own_server``: a list holding a reference server of this test's own, on a copy of the demo catalog; the test
  may stop it and append a restarted one (``servers.restart(server)``, same port); all are stopped after the test.
- ``servers``: start/stop/restart of reference servers.
- ``master_key``: the cache master key from the real Secret Service (``secret_service``).
- ``make_api(server)``: a logged-in ``ApiClient`` (closed after the test).
(The recording source, the parts bundle and the polling helper live in offline_harness.py.)
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from keyring.backend import KeyringBackend

from cache import MasterKey
from client.api import ApiClient


@dataclass
class ServerControl:
    """tests/conftest.py's start_server/stop_server ("import conftest" would find this folder's conftest)."""

    start: Callable[..., Any]
    stop: Callable[[Any], None]

    def restart(self, server: Any) -> Any:
        """Start a new server process on the same data dir and port as ``server`` (which was stopped)."""
        return self.start(server.data_dir, int(server.url.rsplit(":", 1)[1]))


@pytest.fixture
def servers(request: pytest.FixtureRequest) -> ServerControl:
    shared = request.config.pluginmanager.get_plugin(str(Path(__file__).parents[1] / "conftest.py"))
    return ServerControl(shared.start_server, shared.stop_server)


@pytest.fixture
def own_server(demo_data: Path, tmp_path: Path, servers: ServerControl) -> Iterator[Any]:
    data = tmp_path / "server-data"
    shutil.copytree(demo_data, data)
    running = [servers.start(data)]
    yield running
    for server in running:
        servers.stop(server)


@pytest.fixture
def master_key(secret_service: KeyringBackend) -> MasterKey:
    return MasterKey.from_keystore(secret_service)


@pytest.fixture
def make_api(demo_login: tuple[str, str]) -> Iterator[Callable[[Any], ApiClient]]:
    clients: list[ApiClient] = []

    def make(server: Any) -> ApiClient:
        client = ApiClient(server.url)
        client.login(*demo_login)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
