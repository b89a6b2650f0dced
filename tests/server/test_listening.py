"""Listening history and likes over HTTP on a real server: stored once each, private, and hostile input refused."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa

from client.bundled import BundledServer
from server.auth import create_user
from server.catalog import Catalog
from server.database import create_engine
from server.plays import MAX_PLAYS_PER_DAY
from tests.helpers.postgres import ON_BOTH_ENGINES
from tests.helpers.server_api import assert_error

pytestmark = ON_BOTH_ENGINES


@pytest.fixture(scope="module")
def track_ids(users: dict[str, httpx.Client]) -> list[int]:
    return [track["id"] for track in users["alice"].get("/tracks", params={"limit": 500}).json()["tracks"]]


def event(track_id: int, started: datetime, ms_played: int = 45_000, **overrides: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "track_id": track_id, "started_at": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "ms_played": ms_played, "completed": ms_played >= 30_000, "skipped": ms_played < 30_000,
            "context": {"kind": "album", "id": "1"}, **overrides}


def history(client: httpx.Client) -> list[dict[str, Any]]:
    plays: list[dict[str, Any]] = []
    before = None
    while True:
        page = client.get("/me/plays", params={"limit": 7, **({"before": before} if before else {})}).json()
        plays += page["plays"]
        before = page["next_before"]
        if before is None:
            return plays


def stored_rows(url: sa.URL, table: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()


def test_a_resent_offline_batch_is_stored_exactly_once(users: dict[str, httpx.Client], track_ids: list[int]) -> None:
    alice = users["alice"]
    alice.delete("/me/plays")
    start = datetime.now(UTC) - timedelta(days=2)
    batch = [event(track_ids[i % len(track_ids)], start + timedelta(minutes=3 * i)) for i in range(20)]
    first = alice.post("/me/plays", json={"events": batch})
    assert first.json() == {"accepted": 20, "duplicates": 0, "ignored": []}
    again = alice.post("/me/plays", json={"events": [*batch[5:], event(track_ids[0], start)]})
    assert again.json() == {"accepted": 1, "duplicates": 15, "ignored": []}
    plays = history(alice)
    assert len(plays) == 21 and len({play["id"] for play in plays}) == 21
    assert [play["started_at"] for play in plays] == sorted((play["started_at"] for play in plays), reverse=True)
    newest = plays[0]
    assert newest["id"] == batch[-1]["id"] and newest["track"]["id"] == batch[-1]["track_id"]
    assert newest["context"] == {"kind": "album", "id": "1"} and newest["completed"] is True


def test_nobody_reads_another_users_history_or_likes(users: dict[str, httpx.Client], track_ids: list[int]) -> None:
    alice, bob = users["alice"], users["bob"]
    assert alice.post("/me/plays", json={"events": [event(track_ids[0], datetime.now(UTC))]}).status_code == 200
    assert alice.put(f"/me/likes/{track_ids[1]}").status_code == 204
    bob.delete("/me/plays")
    assert bob.get("/me/plays").json() == {"plays": [], "next_before": None}
    assert bob.delete("/me/likes/" + str(track_ids[1])).status_code == 204  # from bob's own set only
    assert track_ids[1] not in [track["id"] for track in bob.get("/me/likes").json()["tracks"]]
    assert track_ids[1] in [track["id"] for track in alice.get("/me/likes").json()["tracks"]]
    assert httpx.get(f"{alice.base_url}/me/plays").status_code == 401


def test_clearing_history_forgets_every_play(users: dict[str, httpx.Client], track_ids: list[int]) -> None:
    bob = users["bob"]
    assert bob.post("/me/plays", json={"events": [event(track_ids[0], datetime.now(UTC))]}).json()["accepted"] == 1
    assert bob.delete("/me/plays").status_code == 204
    assert bob.get("/me/plays").json()["plays"] == []


def test_likes_are_idempotent_newest_first_and_refuse_unknown_tracks(users: dict[str, httpx.Client],
                                                                      track_ids: list[int]) -> None:
    bob = users["bob"]
    for track_id in track_ids[:3]:
        assert bob.put(f"/me/likes/{track_id}").status_code == 204
    assert bob.put(f"/me/likes/{track_ids[0]}").status_code == 204
    liked = bob.get("/me/likes").json()
    assert liked["total"] == 3 and {track["id"] for track in liked["tracks"]} == set(track_ids[:3])
    assert all(track["liked_at"].endswith("Z") and track["title"] for track in liked["tracks"])
    assert bob.delete(f"/me/likes/{track_ids[0]}").status_code == 204
    assert bob.get("/me/likes", params={"limit": 1, "offset": 1}).json()["total"] == 2
    assert_error(bob.put("/me/likes/999999"), 404, "not_found")


def test_unknown_tracks_and_future_plays_are_ignored_with_a_reason(users: dict[str, httpx.Client],
                                                                   track_ids: list[int]) -> None:
    alice = users["alice"]
    now = datetime.now(UTC)
    unknown, future, skewed, ancient = (event(999_999, now), event(track_ids[0], now + timedelta(hours=2)),
                                        event(track_ids[0], now + timedelta(minutes=2)),
                                        event(track_ids[0], now - timedelta(days=3000)))
    before = stored_rows_for(alice)
    answer = alice.post("/me/plays", json={"events": [unknown, future, skewed, ancient]}).json()
    assert answer["accepted"] == 1 and answer["duplicates"] == 0
    assert {(item["id"], item["reason"]) for item in answer["ignored"]} == {
        (unknown["id"], "unknown_track"), (future["id"], "future"), (ancient["id"], "too_old")}
    assert stored_rows_for(alice) == before + 1


def stored_rows_for(client: httpx.Client) -> int:
    return len(history(client))


@pytest.mark.parametrize("mangle", [
    lambda e: {**e, "id": "not-a-uuid"}, lambda e: {**e, "track_id": "7"}, lambda e: {**e, "ms_played": -1},
    lambda e: {**e, "started_at": "yesterday"}, lambda e: {**e, "started_at": "2026-12-01T10:00:00"},
    lambda e: {**e, "completed": "yes"}, lambda e: {**e, "context": {"kind": "telepathy"}},
    lambda e: {k: v for k, v in e.items() if k != "skipped"}, lambda e: [e],
])
def test_a_malformed_event_refuses_the_whole_batch(users: dict[str, httpx.Client], track_ids: list[int],
                                                   server_database: sa.URL, mangle: Any) -> None:
    before = stored_rows(server_database, "plays")
    good = event(track_ids[0], datetime.now(UTC))
    answer = users["alice"].post("/me/plays", json={"events": [good, mangle(event(track_ids[0], datetime.now(UTC)))]})
    assert_error(answer, 422, "invalid_request")
    assert stored_rows(server_database, "plays") == before


def test_batches_are_bounded_in_count_and_bytes(users: dict[str, httpx.Client], track_ids: list[int],
                                                server_database: sa.URL) -> None:
    alice = users["alice"]
    before = stored_rows(server_database, "plays")
    now = datetime.now(UTC)
    assert_error(alice.post("/me/plays", json={"events": []}), 422, "invalid_request")
    assert_error(alice.post("/me/plays", json={"events": [event(track_ids[0], now)] * 501}), 422, "invalid_request")
    padded = [event(track_ids[0], now, context={"kind": "other", "id": "x" * 200})] * 500
    assert_error(alice.post("/me/plays", content=b'{"events": [' + b"1," * 400_000 + b"1]}",
                            headers={"Content-Type": "application/json"}), 413, "payload_too_large")
    assert alice.post("/me/plays", json={"events": padded}).json()["duplicates"] == 499  # fits; one id 500 times
    assert stored_rows(server_database, "plays") == before + 1


def test_a_flood_of_plays_in_one_day_is_ignored_past_the_bound(users: dict[str, httpx.Client], track_ids: list[int],
                                                               server: BundledServer) -> None:
    bob = users["bob"]
    bob.delete("/me/plays")
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=10)
    answers = [bob.post("/me/plays", json={"events": [event(track_ids[0], day + timedelta(seconds=i), 2_000)
                                                      for i in range(start, start + 500)]}).json()
               for start in range(0, MAX_PLAYS_PER_DAY + 500, 500)]
    assert sum(answer["accepted"] for answer in answers) == MAX_PLAYS_PER_DAY
    assert {item["reason"] for item in answers[-1]["ignored"]} == {"too_many_for_day"}
    next_day = bob.post("/me/plays", json={"events": [event(track_ids[0], day + timedelta(days=1))]}).json()
    assert next_day["accepted"] == 1
    assert bob.delete("/me/plays").status_code == 204


@pytest.fixture(scope="module")
def dora(server: BundledServer) -> str:
    """A token of dora's, a user of Japan (Asia/Tokyo: her weeks start on Monday there) with no plays yet.
    Module-scoped, so she is made in the module server's own database."""
    catalog = Catalog.open(server.data_dir)
    try:
        create_user(catalog, "dora", "dora-pw", "JP")
    finally:
        catalog.close()
    return str(httpx.post(f"{server.url}/auth/login", json={"username": "dora", "password": "dora-pw"}).json()["token"])


def test_the_listening_summary_counts_the_callers_time_per_local_week_and_their_top_tracks(
        server: BundledServer, users: dict[str, httpx.Client], dora: str) -> None:
    token = dora
    bob_before = users["bob"].get("/me/listening").json()
    tracks = users["alice"].get("/tracks", params={"limit": 500}).json()["tracks"]
    first = tracks[0]
    other = next(track for track in tracks if track["artist_id"] != first["artist_id"])
    tokyo = ZoneInfo("Asia/Tokyo")
    today = datetime.now(tokyo).date()
    this_monday = today - timedelta(days=today.weekday())
    last_monday = datetime.combine(this_monday - timedelta(weeks=1), time(0, 30), tokyo)
    sunday_before = datetime.combine(this_monday - timedelta(weeks=1, days=1), time(23, 30), tokyo)
    plays = [event(first["id"], last_monday.astimezone(UTC), 40_000),
             event(first["id"], (last_monday + timedelta(hours=1)).astimezone(UTC), 40_000),
             event(other["id"], sunday_before.astimezone(UTC), 20_000)]
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as dora:
        assert dora.post("/me/plays", json={"events": plays}).json()["accepted"] == 3
        summary = dora.get("/me/listening", params={"weeks": 3}).json()
        one_week = dora.get("/me/listening", params={"weeks": 1}).json()
        assert dora.get("/me/listening", params={"weeks": 0}).status_code == 422
        assert dora.get("/me/listening", params={"weeks": 54}).status_code == 422
    assert summary["weeks"] == [
        {"week_of": (this_monday - timedelta(weeks=2)).isoformat(), "ms_played": 20_000},
        {"week_of": (this_monday - timedelta(weeks=1)).isoformat(), "ms_played": 80_000},
        {"week_of": this_monday.isoformat(), "ms_played": 0}]
    assert [(top["track"]["id"], top["ms_played"], top["plays"]) for top in summary["top_tracks"]] == [
        (first["id"], 80_000, 2), (other["id"], 20_000, 1)]
    assert [(top["name"], top["ms_played"], top["plays"]) for top in summary["top_artists"]] == [
        (first["artist"], 80_000, 2), (other["artist"], 20_000, 1)]
    # The top lists cover their own days, even when the weeks asked for are fewer.
    assert one_week["weeks"] == summary["weeks"][-1:]
    assert (one_week["top_tracks"], one_week["top_artists"]) == (summary["top_tracks"], summary["top_artists"])
    assert users["bob"].get("/me/listening").json() == bob_before  # nobody else's listening moves
    assert httpx.get(f"{server.url}/me/listening").status_code == 401
