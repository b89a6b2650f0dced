"""The API client against the real reference server on loopback."""

from __future__ import annotations

import pytest

from cache import DecryptingSource, FileManifest
from client.api import ApiClient, ApiError, ServerUnreachable


@pytest.fixture()
def api(live_server, demo_login) -> ApiClient:
    client = ApiClient(live_server.url)
    client.login(*demo_login)
    yield client
    client.close()


def test_login_with_a_wrong_password_says_so(live_server) -> None:
    client = ApiClient(live_server.url)
    with pytest.raises(ApiError) as raised:
        client.login("demo", "not-the-password")
    assert raised.value.status == 401
    assert client.token is None


def test_browse_lists_albums_and_their_tracks(api: ApiClient) -> None:
    albums = api.albums()
    assert len(albums) == 2
    album = api.album(albums[0]["id"])
    assert album["tracks"] and all(t["album_id"] == album["id"] for t in album["tracks"])


def test_a_track_decrypts_to_the_media_file_the_manifest_describes(api: ApiClient) -> None:
    track = api.album(api.albums()[0]["id"])["tracks"][0]
    files = api.manifest(track["id"])["files"]
    lossless = FileManifest.from_json(next(f for f in files if f["quality"] == "lossless"))
    source = DecryptingSource(lossless, api.licence(lossless.file_id), api)
    data = source.read_at(0, lossless.size_bytes)
    assert len(data) == lossless.size_bytes
    assert data[:4] == b"fLaC"


def test_unreachable_server_is_reported_as_such() -> None:
    client = ApiClient("http://127.0.0.1:9", timeout_s=2)
    with pytest.raises(ServerUnreachable, match="cannot reach"):
        client.login("demo", "demo")
