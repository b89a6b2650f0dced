"""150 playlists on one account, live sync on two devices: pushes and pulls work, over a few connections.

Connections are counted on the server's side of loopback (/proc/net/tcp), not by asking the client.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from client.api import ApiClient
from client.playlists import PlaylistSync
from tests.helpers.playlist_server import PlaylistServer, Watcher

PLAYLISTS = 150
# Per device: the event stream, and the keep-alive connections of the worker and of a caller's sync().
MAX_CONNECTIONS = 6

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts sockets in /proc/net/tcp")


def established_to(port: int) -> int:
    """Connections the server on ``port`` has accepted and not yet closed (its side of each, on loopback)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        lines = Path(table).read_text().splitlines()[1:] if Path(table).exists() else []
        for line in lines:
            local, _remote, state = line.split()[1:4]
            if int(local.rsplit(":", 1)[1], 16) == port and state == "01":
                count += 1
    return count


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlaylistServer]:
    running = PlaylistServer(tmp_path_factory.mktemp("scale-server"), ("many",))
    yield running
    running.stop()


def test_150_playlists_sync_live_over_a_few_connections(server: PlaylistServer, tmp_path: Path) -> None:
    port = urlsplit(server.url).port
    assert port is not None
    sessions: list[ApiClient] = []
    cores: list[PlaylistSync] = []
    laptop_news, phone_news = Watcher(), Watcher()
    try:
        for device, watcher in (("laptop", laptop_news), ("phone", phone_news)):
            sessions.append(server.session("many"))
            cores.append(PlaylistSync(sessions[-1], tmp_path / device, on_change=watcher))
        laptop, phone = cores
        laptop.start()
        ids = [laptop.create(f"Playlist {number}") for number in range(PLAYLISTS)]
        for number, playlist_id in enumerate(ids):
            laptop.add(playlist_id, number + 1)
        assert laptop.wait_idle(60)
        phone.start()
        assert phone_news.wait_for(lambda: len(phone.playlists()) == PLAYLISTS and all(
            len(phone.state(playlist_id).entries) == 1 for playlist_id in ids), timeout_s=60)
        assert phone.wait_idle(60)
        assert established_to(port) <= MAX_CONNECTIONS

        pulled = phone.add(ids[-1], 999)
        pushed = laptop.add(ids[0], 998)
        assert laptop_news.wait_for(lambda: pulled in laptop.state(ids[-1]).entries, timeout_s=20)
        assert phone_news.wait_for(lambda: pushed in phone.state(ids[0]).entries, timeout_s=20)
        assert laptop.wait_idle(20) and phone.wait_idle(20)
        assert established_to(port) <= MAX_CONNECTIONS
        assert all(info.unpushed_edits == 0 for core in cores for info in core.playlists())
    finally:
        for core in cores:
            core.close()
        for session in sessions:
            session.close()
