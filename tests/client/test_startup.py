"""Connecting at start-up, against a real server: the session comes back logged in, its audio routed through the
edge the server advertises for the user (asked for alongside the login), or through the one the user set."""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

from client.startup import Connection, Startup
from tests.helpers.own_server import own_server

EDGES = ("http://127.0.0.1:9/edge-a", "http://127.0.0.1:9/edge-b", "http://127.0.0.1:9/edge-c")
TIMEOUT_MS = 30_000


def _connect(qtbot: Any, url: str, cache_dir: Path, edge_url: str | None) -> Connection:
    startup = Startup(cache_dir, None, url, "alice", "alice-pw", edge_url=edge_url)
    failures: list[str] = []
    startup.failed.connect(failures.append)
    with qtbot.waitSignal(startup.connected, timeout=TIMEOUT_MS) as connected:
        startup.start()
    assert failures == []
    connection: Connection = connected.args[0]
    return connection


def _close(connection: Connection) -> None:
    if connection.store is not None:
        connection.store.close()
    connection.api.close()


def test_the_session_takes_the_edge_the_server_advertises_for_the_user_or_the_one_set(
        qtbot: Any, demo_data: Path, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("LEGATO_EDGES", ",".join(EDGES))
    with own_server(demo_data, tmp_path / "server") as server:
        assert server.url is not None
        advertised = _connect(qtbot, server.url, tmp_path / "cache-a", None)
        chosen = _connect(qtbot, server.url, tmp_path / "cache-b", "http://127.0.0.1:9/mine/")
        try:
            assert advertised.api.user_name == "alice" and advertised.api.token
            assert advertised.api.edge_url == EDGES[zlib.crc32(b"alice") % len(EDGES)]
            assert chosen.api.edge_url == "http://127.0.0.1:9/mine"
        finally:
            _close(advertised)
            _close(chosen)
