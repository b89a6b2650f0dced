"""Saved albums and followed artists over HTTP on a real server: idempotent, newest first, private, input checked."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from client.bundled import BundledServer
from server.catalog import Catalog
from tests.helpers.postgres import ON_BOTH_ENGINES
from tests.helpers.server_api import assert_error

pytestmark = ON_BOTH_ENGINES


@pytest.fixture(scope="module")
def albums(users: dict[str, httpx.Client]) -> list[dict[str, Any]]:
    return list(users["alice"].get("/albums").json()["albums"])


def listed(client: httpx.Client, kind: str) -> list[dict[str, Any]]:
    answer = client.get(f"/me/{kind}")
    assert answer.status_code == 200, answer.text
    return list(answer.json()[kind])


@pytest.fixture(autouse=True)
def empty_libraries(users: dict[str, httpx.Client]) -> Iterator[None]:
    """Every test starts and ends with nothing saved or followed (the module's server is shared)."""
    yield
    for client in users.values():
        for kind in ("albums", "artists"):
            for item in listed(client, kind):
                assert client.delete(f"/me/{kind}/{item['id']}").status_code == 204


def test_saved_albums_are_idempotent_newest_first_with_what_the_client_shows(
        users: dict[str, httpx.Client], albums: list[dict[str, Any]]) -> None:
    alice = users["alice"]
    first, second = albums[0], albums[1]
    for album in (first, second, first):
        assert alice.put(f"/me/albums/{album['id']}").status_code == 204
    saved = listed(alice, "albums")
    assert [album["id"] for album in saved] == [second["id"], first["id"]]
    assert {key: saved[1][key] for key in first} == first  # the summary /albums lists
    assert saved[1]["added_at"] <= saved[0]["added_at"]
    assert alice.delete(f"/me/albums/{second['id']}").status_code == 204
    assert alice.delete(f"/me/albums/{second['id']}").status_code == 204
    assert [album["id"] for album in listed(alice, "albums")] == [first["id"]]


def test_followed_artists_carry_name_albums_and_when(users: dict[str, httpx.Client],
                                                     albums: list[dict[str, Any]]) -> None:
    alice = users["alice"]
    artist_id = albums[0]["artist_id"]
    assert alice.put(f"/me/artists/{artist_id}").status_code == 204
    assert alice.put(f"/me/artists/{artist_id}").status_code == 204
    (artist,) = listed(alice, "artists")
    assert (artist["id"], artist["name"]) == (artist_id, albums[0]["artist"])
    assert artist["album_count"] == sum(album["artist_id"] == artist_id for album in albums)
    assert artist["added_at"].endswith("Z")
    assert alice.delete(f"/me/artists/{artist_id}").status_code == 204
    assert listed(alice, "artists") == []


def test_nobody_sees_another_users_library(server: BundledServer, users: dict[str, httpx.Client],
                                           albums: list[dict[str, Any]]) -> None:
    alice, bob = users["alice"], users["bob"]
    assert alice.put(f"/me/albums/{albums[0]['id']}").status_code == 204
    assert alice.put(f"/me/artists/{albums[0]['artist_id']}").status_code == 204
    assert listed(bob, "albums") == [] and listed(bob, "artists") == []
    assert bob.delete(f"/me/albums/{albums[0]['id']}").status_code == 204  # only bob's own, which he lacks
    assert len(listed(alice, "albums")) == 1
    for method, path in (("GET", "/me/albums"), ("GET", "/me/artists"), ("PUT", f"/me/albums/{albums[0]['id']}"),
                         ("DELETE", f"/me/artists/{albums[0]['artist_id']}")):
        assert httpx.request(method, f"{server.url}{path}").status_code == 401


@pytest.mark.parametrize("kind", ["albums", "artists"])
def test_unknown_and_malformed_ids_are_refused(users: dict[str, httpx.Client], kind: str) -> None:
    alice = users["alice"]
    assert_error(alice.put(f"/me/{kind}/999999"), 404, "not_found")
    for bad in ("0", "-1", "abc", str(2**63), "1.5"):
        assert_error(alice.put(f"/me/{kind}/{bad}"), 422, "invalid_request")
        assert_error(alice.delete(f"/me/{kind}/{bad}"), 422, "invalid_request")
    assert listed(alice, kind) == []


def test_a_presaved_album_that_is_out_is_in_the_library_and_leaves_it_whole(
        users: dict[str, httpx.Client], albums: list[dict[str, Any]]) -> None:
    bob = users["bob"]
    assert bob.put(f"/me/presaves/{albums[1]['id']}").status_code == 204
    assert [album["id"] for album in listed(bob, "albums")] == [albums[1]["id"]]
    assert bob.delete(f"/me/albums/{albums[1]['id']}").status_code == 204
    assert listed(bob, "albums") == [] and bob.get("/me/presaves").json()["albums"] == []


def test_an_album_removed_from_the_catalog_leaves_every_library(server: BundledServer, server_database: sa.URL,
                                                                users: dict[str, httpx.Client]) -> None:
    catalog = Catalog.open(server.data_dir, server_database)
    try:
        with catalog.transaction():
            artist_id = catalog.insert("artists", {"name": "Short-lived"})
            album_id = catalog.insert("albums", {"title": "Gone soon", "artist_id": artist_id, "gapless": 0})
            track_id = catalog.insert("tracks", {"title": "Only", "artist_id": artist_id, "album_id": album_id,
                                                 "disc_no": 1, "track_no": 1, "duration_s": 1.0, "popularity": 0,
                                                 "regions": "[]", "source_sha256": "short-lived"})
        alice = users["alice"]
        assert alice.put(f"/me/albums/{album_id}").status_code == 204
        assert alice.put(f"/me/artists/{artist_id}").status_code == 204
        catalog.delete_track(track_id)
    finally:
        catalog.close()
    assert listed(alice, "albums") == [] and listed(alice, "artists") == []
