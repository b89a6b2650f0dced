"""The demo catalog built by build_demo (the session's demo_data): content, the demo user, idempotence; on SQLite
and on PostgreSQL (a copy of it, ``db copy``'d into the test's database)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from server import auth
from server.catalog import Catalog
from server.demo import DEMO_PASSWORD, DEMO_USER, build_demo
from server.ingest import DEFAULT_REGIONS
from tests.helpers.postgres import ON_BOTH_ENGINES, copy_data_dir

pytestmark = ON_BOTH_ENGINES


@pytest.fixture
def demo_copy(demo_data: Path, tmp_path: Path) -> Path:
    """A copy of the session's demo data dir on the test's engine (building into it leaves the session's alone)."""
    copy_data_dir(demo_data, tmp_path / "demo")
    return tmp_path / "demo"


def _counts(data_dir: Path) -> dict[str, int]:
    catalog = Catalog.open(data_dir)
    try:
        return {table: int(catalog.query(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"])
                for table in ("artists", "albums", "tracks", "files", "users")}
    finally:
        catalog.close()


def test_demo_catalog_has_a_gapless_live_set_first_and_the_demo_user(demo_copy: Path) -> None:
    catalog = Catalog.open(demo_copy)
    try:
        albums = catalog.query("SELECT * FROM albums ORDER BY id")
        tracks = catalog.query("SELECT * FROM tracks")
        user = auth.authenticate(catalog, DEMO_USER, DEMO_PASSWORD)
    finally:
        catalog.close()
    assert [album["gapless"] for album in albums[:2]] == [1, 0]
    assert all(album["year"] and album["genre"] for album in albums)
    assert user is not None and user.region == "GB"
    assert all(json.loads(track["regions"]) == sorted(DEFAULT_REGIONS) for track in tracks)
    popularity = [track["popularity"] for track in tracks]
    assert all(0 <= value <= 100 for value in popularity) and len(set(popularity)) > 1
    assert all(track["duration_s"] > 2.0 for track in tracks)


def test_building_the_demo_twice_duplicates_nothing(demo_copy: Path) -> None:
    before = _counts(demo_copy)
    lines: list[str] = []
    build_demo(demo_copy, albums=2, seconds_per_track=6.0, progress=lines.append)
    assert _counts(demo_copy) == before
    assert len(lines) == 2 and all("already in the catalog" in line for line in lines)


def test_the_demo_with_listeners_gives_the_demo_user_a_discover_weekly_of_their_own(tmp_path: Path) -> None:
    from collections import Counter
    from datetime import UTC, datetime

    from server.playlist_hub import PlaylistHub
    from server.recs.service import Recommender

    build_demo(tmp_path, albums=2, seconds_per_track=3.0, progress=lambda line: None, sampler_albums=3,
               sampler_seconds=2.0, listeners=8)
    catalog = Catalog.open(tmp_path)
    plays_before = catalog.query("SELECT COUNT(*) AS n FROM plays")[0]["n"]
    catalog.close()
    before = _counts(tmp_path)
    build_demo(tmp_path, albums=2, seconds_per_track=3.0, progress=lambda line: None, sampler_albums=3,
               sampler_seconds=2.0, listeners=8)
    assert _counts(tmp_path) == before  # idempotent: no second population, no second history
    catalog = Catalog.open(tmp_path)
    try:
        assert catalog.query("SELECT COUNT(*) AS n FROM plays")[0]["n"] == plays_before
        assert before["artists"] == 5 and before["users"] == 1 + 8  # demo and the listeners
        demo = catalog.user_by_name(DEMO_USER)
        assert demo is not None
        heard = {int(row["track_id"]) for row in catalog.query("SELECT track_id FROM plays WHERE user_id = ?",
                                                               [demo["id"]])}
        week = Recommender(tmp_path).weekly(catalog, PlaylistHub(), auth.User.from_row(demo), datetime.now(UTC))
    finally:
        catalog.close()
    picked = [int(pick["track_id"]) for pick in week.picks]
    assert heard and picked and not set(picked) & heard
    assert all(pick["reason_track_id"] in heard for pick in week.picks)
    assert max(Counter(picked).values()) == 1
