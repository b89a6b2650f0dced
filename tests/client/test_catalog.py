"""The catalog records: what the real server sends passes the edge check whole; a record short of a field does not."""

from __future__ import annotations

from typing import Any

import pytest

from client import catalog
from client.api import ApiClient


@pytest.fixture(scope="module")
def api(live_server: Any, demo_login: tuple[str, str]) -> Any:
    client = ApiClient(live_server.url)
    client.login(*demo_login)
    yield client
    client.close()


def test_every_record_the_server_sends_passes_the_check_unchanged(api: ApiClient) -> None:
    albums = api.albums()
    assert [catalog.album(a) for a in albums] == albums
    full = api.album(albums[0]["id"])
    assert catalog.album_with_tracks(full) == full and full["tracks"]
    assert catalog.artist(api.artist(albums[0]["artist_id"]))["albums"]
    word = full["tracks"][0]["title"].split()[0]
    found = catalog.search_results(api.search(word))
    assert found["tracks"] and all(catalog.track(t) == t for t in found["tracks"])


def test_a_track_without_a_field_is_refused_with_the_field_named(api: ApiClient) -> None:
    track = dict(api.tracks(limit=1)["tracks"][0])
    del track["duration_s"]
    with pytest.raises(catalog.MalformedRecord, match="Track record without duration_s"):
        catalog.track(track)
    album = api.album(api.albums()[0]["id"])
    del album["tracks"][1]["title"]
    with pytest.raises(catalog.MalformedRecord, match="without title"):
        catalog.album_with_tracks(album)
    with pytest.raises(catalog.MalformedRecord, match="sent a list, not an object, for a record of type Album"):
        catalog.album([album])
