"""The catalog records: what the real server sends parses into them field for field; a record short of a field, or
with one of the wrong type, is refused with the field named; a drag of tracks carries records that parse back equal."""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import Any

import pytest
from PySide6.QtCore import QByteArray, QMimeData

from client import catalog
from client.api import ApiClient
from client.widgets.models import TRACKS_MIME, track_mime, tracks_from_mime


@pytest.fixture(scope="module")
def api(live_server: Any, demo_login: tuple[str, str]) -> Any:
    client = ApiClient(live_server.url)
    client.login(*demo_login)
    yield client
    client.close()


def same_fields(record: Any, raw: dict[str, Any], *nested: str) -> bool:
    """Every field of ``record`` but ``nested`` holds what the server sent under its name."""
    return all(getattr(record, field.name) == raw[field.name] for field in dataclasses.fields(record)
               if field.name not in nested)


def test_every_record_the_server_sends_parses_field_for_field(api: ApiClient) -> None:
    albums = api.albums()
    parsed = [catalog.album(a) for a in albums]
    assert parsed and all(same_fields(record, raw) for record, raw in zip(parsed, albums, strict=True))
    full = api.album(albums[0]["id"])
    album = catalog.album_with_tracks(full)
    assert same_fields(album, full, "tracks") and album.tracks
    assert all(same_fields(track, raw) for track, raw in zip(album.tracks, full["tracks"], strict=True))
    raw_artist = api.artist(albums[0]["artist_id"])
    artist = catalog.artist(raw_artist)
    assert artist.name == raw_artist["name"]
    assert [a.id for a in artist.albums] == [a["id"] for a in raw_artist["albums"]]
    found_raw = api.search(album.tracks[0].title.split()[0])
    found = catalog.search_results(found_raw)
    assert found.tracks and all(same_fields(t, raw) for t, raw in zip(found.tracks, found_raw["tracks"], strict=True))
    assert [a.name for a in found.artists] == [a["name"] for a in found_raw["artists"]]
    with pytest.raises(dataclasses.FrozenInstanceError):
        album.tracks[0].title = "changed"  # type: ignore[misc]


def test_a_record_without_a_field_or_with_a_wrong_one_is_refused_with_the_field_named(api: ApiClient) -> None:
    track = dict(api.tracks(limit=1)["tracks"][0])
    with pytest.raises(catalog.MalformedRecord, match="type Track without duration_s"):
        catalog.track({k: v for k, v in track.items() if k != "duration_s"})
    with pytest.raises(catalog.MalformedRecord, match="type Track whose id is a str, not a whole number"):
        catalog.track({**track, "id": "7"})
    with pytest.raises(catalog.MalformedRecord, match="whose duration_s is a bool, not a number"):
        catalog.track({**track, "duration_s": True})
    with pytest.raises(catalog.MalformedRecord, match="whose title is null, not a string"):
        catalog.track({**track, "title": None})
    album = api.album(api.albums()[0]["id"])
    del album["tracks"][1]["title"]
    with pytest.raises(catalog.MalformedRecord, match=r"without title.* \(in tracks\[1\] of a record of type Album"):
        catalog.album_with_tracks(album)
    with pytest.raises(catalog.MalformedRecord, match="sent a list, not an object, for a record of type Album"):
        catalog.album([album])


def test_a_drag_carries_whole_records_and_a_malformed_one_carries_none(
        api: ApiClient, caplog: pytest.LogCaptureFixture) -> None:
    tracks = [catalog.track(t) for t in api.tracks(limit=3)["tracks"]]
    assert tracks_from_mime(track_mime(tracks)) == tracks
    forged = QMimeData()
    forged.setData(TRACKS_MIME, QByteArray(json.dumps([dataclasses.asdict(tracks[0]), {"id": 5}]).encode()))
    with caplog.at_level(logging.WARNING):
        assert tracks_from_mime(forged) == []
    assert "type Track without" in caplog.text
