"""Home's rows over HTTP on a real server, on both engines: derived from the caller's own plays only, scheduled
albums first among new releases (and never among the popular ones), and 401 without a session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from client.bundled import BundledServer
from server import releases
from server.catalog import Catalog
from tests.helpers.postgres import ON_BOTH_ENGINES

pytestmark = ON_BOTH_ENGINES


@pytest.fixture(scope="module")
def server_catalog(server: BundledServer) -> Iterator[Catalog]:
    """The module server's own catalog (opened while the module's engine is set, before any test's own)."""
    catalog = Catalog.open(server.data_dir)
    yield catalog
    catalog.close()


def play(track: dict[str, Any], started: datetime, ms_played: int) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "track_id": track["id"], "started_at": started.isoformat(),
            "ms_played": ms_played, "completed": True, "skipped": False, "context": {"kind": "album", "id": None}}


def test_rows_come_from_the_callers_plays(users: dict[str, httpx.Client]) -> None:
    alice, bob = users["alice"], users["bob"]
    first, second = (alice.get(f"/albums/{album['id']}").json() for album in alice.get("/albums").json()["albums"][:2])
    now = datetime.now(UTC)
    plays = [play(first["tracks"][0], now - timedelta(days=2), 60_000),
             *(play(track, now - timedelta(hours=3) + timedelta(minutes=i), 20_000)
               for i, track in enumerate(second["tracks"]))]
    assert alice.post("/me/plays", json={"events": plays}).json()["accepted"] == len(plays)
    rows = alice.get("/me/home").json()
    assert [album["id"] for album in rows["recently_played"]] == [second["id"], first["id"]]
    assert [(row["album"]["id"], row["tracks_heard"]) for row in rows["jump_back_in"]] == [(first["id"], 1)]
    heard = {first["artist_id"]: 60_000, second["artist_id"]: 20_000 * len(second["tracks"])}
    assert [(artist["artist_id"], artist["ms_played"]) for artist in rows["top_artists"]] == sorted(
        heard.items(), key=lambda item: -item[1])
    assert {artist["album"]["artist_id"] for artist in rows["top_artists"]} == set(heard)
    assert rows["region"] == "GB" and {album["id"] for album in rows["popular_in_region"]} == {first["id"],
                                                                                              second["id"]}
    fresh = bob.get("/me/home").json()  # nobody else's plays
    assert (fresh["recently_played"], fresh["jump_back_in"], fresh["top_artists"]) == ([], [], [])
    assert {album["id"] for album in fresh["new_releases"]} == {first["id"], second["id"]}
    assert httpx.get(f"{alice.base_url}/me/home").status_code == 401


def test_a_scheduled_album_leads_new_releases_and_is_not_yet_popular(server_catalog: Catalog,
                                                                      users: dict[str, httpx.Client]) -> None:
    bob = users["bob"]
    album_id = bob.get("/albums").json()["albums"][-1]["id"]
    coming = datetime.now(UTC) + timedelta(days=3)
    releases.set_release(server_catalog, album_id, coming)
    try:
        rows = bob.get("/me/home").json()
    finally:
        server_catalog.execute("DELETE FROM releases WHERE album_id = ?", [album_id])
    assert rows["new_releases"][0]["id"] == album_id
    assert rows["new_releases"][0]["release_at"] == releases.format_instant(coming)
    assert album_id not in [album["id"] for album in rows["popular_in_region"]]
