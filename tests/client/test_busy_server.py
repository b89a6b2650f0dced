"""A busy server (503 + Retry-After): the app's API client waits out what it was told, plus jitter, and gets its
answer; the playlist sync backs off the same way and its edit lands."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from client.api import ApiClient, ServerBusy
from client.bundled import BundledServer
from client.playlists import PlaylistSync
from tests.helpers.own_server import own_server
from tests.helpers.playlist_server import PlaylistServer


@pytest.fixture(scope="module")
def tight_server(demo_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BundledServer]:
    environ = {"LEGATO_ADMIT_LICENCE_RATE": "1", "LEGATO_ADMIT_LICENCE_BURST": "1"}
    with own_server(demo_data, tmp_path_factory.mktemp("busy"), environ) as server:
        yield server


def test_the_app_waits_out_retry_after_with_jitter_and_gets_its_licence(tight_server: BundledServer) -> None:
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)  # the server's bucket refills on its own clock: the wait must be real

    assert tight_server.url is not None
    api = ApiClient(tight_server.url, sleep=sleep)
    try:
        api.login("alice", "alice-pw")
        track_id = api.album(1)["tracks"][0]["id"]
        files = [file["id"] for file in api.manifest(track_id)["files"]]
        keys = [api.licence(file_id) for file_id in files[:3]]  # one token a second: the later ones are shed
    finally:
        api.close()
    assert len(keys) == 3 and slept
    assert all(1.0 <= wait <= 2.0 for wait in slept), slept  # Retry-After 1 s, jitter up to as much again


def test_a_client_still_refused_after_its_retries_hears_server_busy() -> None:
    def busy(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, headers={"Retry-After": "3"}, json={"error": {"code": "server_busy",
                                                                                   "message": "busy"}})

    slept: list[float] = []
    api = ApiClient("http://legato.test", transport=httpx.MockTransport(busy), sleep=slept.append)
    try:
        with pytest.raises(ServerBusy) as refused:
            api.albums()
    finally:
        api.close()
    assert refused.value.retry_after_s == 3.0
    assert len(slept) == 4 and all(3.0 <= wait <= 6.0 for wait in slept)
    assert len(set(slept)) == 4  # jittered: a crowd told the same Retry-After does not come back together


class BusyPushes(httpx.BaseTransport):
    """The real server, except that the first ``busy`` playlist pushes are answered 503 (as a shedding origin
    would; the reference server sheds only its audio endpoints, so this fault is injected)."""

    def __init__(self, busy: int) -> None:
        self._inner = httpx.HTTPTransport()
        self.busy = busy
        self.shed = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/updates") and self.shed < self.busy:
            self.shed += 1
            return httpx.Response(503, headers={"Retry-After": "0.2"},
                                  json={"error": {"code": "server_busy", "message": "busy"}})
        return self._inner.handle_request(request)


@pytest.fixture(scope="module")
def playlists(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlaylistServer]:
    running = PlaylistServer(tmp_path_factory.mktemp("busy-sync"), ("alice", "bob"))
    yield running
    running.stop()


def test_the_playlist_sync_backs_off_a_busy_server_and_its_edit_lands(playlists: PlaylistServer,
                                                                      tmp_path: Path) -> None:
    transport = BusyPushes(busy=6)  # more than one request's retries: the sync loop's own backoff is needed too
    api = playlists.session("alice", transport=transport)
    sync = PlaylistSync(api, tmp_path / "alice")
    try:
        playlist_id = sync.create("Release day")
        sync.add(playlist_id, 1)
        sync.start()
        assert sync.wait_idle(30), "the edit never reached the server"
    finally:
        sync.close()
        api.close()
    assert transport.shed == transport.busy
    with httpx.Client(base_url=playlists.url, headers={"Authorization": f"Bearer {playlists.token('alice')}"}) as c:
        assert playlist_id in [item["id"] for item in c.get("/playlists").json()["playlists"]]
