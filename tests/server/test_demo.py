"""The demo catalog built by build_demo (the session's demo_data): content, the demo user, idempotence."""

from __future__ import annotations

import json
from pathlib import Path

from server import auth
from server.catalog import Catalog
from server.demo import DEMO_PASSWORD, DEMO_USER, build_demo
from server.ingest import DEFAULT_REGIONS


def _counts(data_dir: Path) -> dict[str, int]:
    catalog = Catalog.open(data_dir)
    try:
        return {table: int(catalog.query(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"])
                for table in ("artists", "albums", "tracks", "files", "users")}
    finally:
        catalog.close()


def test_demo_catalog_has_a_gapless_live_set_first_and_the_demo_user(demo_data: Path) -> None:
    catalog = Catalog.open(demo_data)
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


def test_building_the_demo_twice_duplicates_nothing(demo_data: Path) -> None:
    before = _counts(demo_data)
    lines: list[str] = []
    build_demo(demo_data, albums=2, seconds_per_track=6.0, progress=lines.append)
    assert _counts(demo_data) == before
    assert len(lines) == 2 and all("already in the catalog" in line for line in lines)
