"""Discover Weekly and radio over HTTP on a real server: the contract's shapes, a real read-only playlist that only
its user sees, and radio's exclusions."""

from __future__ import annotations

import itertools
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from sync import PlaylistDoc, PullResult
from tests.helpers.server_api import assert_error, edit, push


@pytest.fixture(scope="module")
def tracks(users: dict[str, httpx.Client]) -> list[dict[str, object]]:
    listed: list[dict[str, object]] = users["alice"].get("/tracks", params={"limit": 500}).json()["tracks"]
    return listed


def test_discover_weekly_is_a_read_only_playlist_only_its_user_sees(users: dict[str, httpx.Client],
                                                                    tracks: list[dict[str, object]]) -> None:
    alice, bob = users["alice"], users["bob"]
    heard = [track["id"] for track in tracks[:3]]
    started = datetime.now(UTC) - timedelta(hours=1)
    alice.post("/me/plays", json={"events": [
        {"id": str(uuid.uuid4()), "track_id": track_id, "started_at": (started + timedelta(minutes=i)).isoformat(),
         "ms_played": 60_000, "completed": True, "skipped": False, "context": {"kind": "album", "id": None}}
        for i, track_id in enumerate(heard)]}).raise_for_status()
    weekly = alice.get("/me/discover-weekly")
    assert weekly.status_code == 200, weekly.text
    body = weekly.json()
    picked = [item["track"]["id"] for item in body["tracks"]]
    assert picked and not set(picked) & set(heard)
    fresh_per_artist = Counter(track["artist_id"] for track in tracks if track["id"] not in heard)
    assert len(picked) == len(set(picked)) == min(30, sum(min(2, n) for n in fresh_per_artist.values()))
    assert all(item["reason"]["track_id"] in heard and item["reason_text"] == f"Because you played "
               f"{item['reason']['title']}" for item in body["tracks"])
    assert datetime.fromisoformat(body["week_of"]).weekday() == 0
    assert alice.get("/me/discover-weekly").json() == body  # the week's list stays put

    playlist_id = body["playlist_id"]
    listed = {item["id"]: item for item in alice.get("/playlists").json()["playlists"]}
    assert listed[playlist_id]["role"] == "follower" and listed[playlist_id]["owner"] == "Legato"
    log = PullResult.from_json(alice.get(f"/playlists/{playlist_id}/updates").json())
    doc = PlaylistDoc.from_updates(playlist_id, [*([log.snapshot] if log.snapshot else []),
                                                 *(update.data for update in log.updates)])
    assert doc.name == "Discover Weekly" and [entry.track_id for entry in doc.entries()] == picked
    assert_error(push(alice, playlist_id, edit(doc, int(heard[0]), by="alice")), 403, "read_only")
    assert_error(alice.delete(f"/playlists/{playlist_id}"), 403, "not_owner")

    assert playlist_id not in {item["id"] for item in bob.get("/playlists").json()["playlists"]}
    assert_error(bob.get(f"/playlists/{playlist_id}"), 404, "not_found")
    assert_error(bob.post(f"/playlists/{playlist_id}/followers"), 404, "not_found")
    assert bob.get("/me/discover-weekly").json()["playlist_id"] != playlist_id


def test_radio_never_returns_the_seed_an_excluded_track_or_one_artist_twice_running(
        users: dict[str, httpx.Client], tracks: list[dict[str, object]]) -> None:
    alice = users["alice"]
    seed = tracks[0]
    first = alice.get(f"/tracks/{seed['id']}/radio", params={"limit": 5})
    assert first.status_code == 200, first.text
    assert first.json()["seed"]["id"] == seed["id"]
    got = first.json()["tracks"]
    assert got and seed["id"] not in [track["id"] for track in got]
    artists = [seed["artist_id"], *(track["artist_id"] for track in got)]
    assert all(a != b for a, b in itertools.pairwise(artists))
    window = [track["id"] for track in got]
    after = alice.get(f"/tracks/{seed['id']}/radio", params={"limit": 5, "exclude": ",".join(map(str, window))})
    assert not set(window) & {track["id"] for track in after.json()["tracks"]}


def test_radio_refuses_unknown_seeds_and_malformed_exclusions(users: dict[str, httpx.Client]) -> None:
    alice = users["alice"]
    assert_error(alice.get("/tracks/999999/radio"), 404, "not_found")
    assert_error(alice.get("/tracks/1/radio", params={"exclude": "1;DROP TABLE"}), 422, "invalid_request")
    assert_error(alice.get("/tracks/1/radio", params={"limit": 0}), 422, "invalid_request")
    assert httpx.get(f"{alice.base_url}/tracks/1/radio").status_code == 401
