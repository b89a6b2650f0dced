"""Scheduled releases on a clock the test moves: listed before, licences refused with the instant until then,
playable after; pre-saved albums join the library at the release; the CLI that schedules and moves releases."""

from __future__ import annotations

import math
import struct
import wave
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from server import cli, releases
from server.catalog import Catalog
from server.exceptions import ReleaseError
from tests.helpers.app_server import MovableClock, app_server, copy_with_users
from tests.helpers.postgres import ON_BOTH_ENGINES

pytestmark = ON_BOTH_ENGINES

RELEASE = datetime(2026, 12, 4, 0, 0, tzinfo=UTC)


@pytest.fixture
def scheduled(database: str, demo_data: Path, tmp_path: Path) -> Iterator[tuple[str, MovableClock, int]]:
    """A server on a moved clock whose first album releases at RELEASE (2 h after the clock's start). One per test:
    the server runs in this process, so each request's catalog is the test's own (LEGATO_DATABASE_URL as the
    ``database`` fixture set it for the test), and one server for the module would read another test's database."""
    data_dir = copy_with_users(demo_data, tmp_path, {"alice": "alice-pw"})
    assert cli.main(["release", "set", "--data", str(data_dir), "--album", "1",
                     "--at", "2026-12-04T01:00:00+01:00", "--jitter-ms", "1500"]) == cli.EXIT_OK
    clock = MovableClock()
    with app_server(data_dir, clock) as url:
        yield url, clock, 1


def login(url: str, name: str, password: str) -> httpx.Client:
    token = httpx.post(f"{url}/auth/login", json={"username": name, "password": password}).json()["token"]
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def first_file(client: httpx.Client, album_id: int) -> tuple[int, int]:
    track_id = client.get(f"/albums/{album_id}").json()["tracks"][0]["id"]
    return track_id, client.get(f"/tracks/{track_id}/manifest").json()["files"][0]["id"]


def test_a_scheduled_album_is_listed_but_its_licences_wait_for_the_release(
        scheduled: tuple[str, MovableClock, int]) -> None:
    url, clock, album_id = scheduled
    clock.now = RELEASE - timedelta(hours=2)
    with login(url, "alice", "alice-pw") as alice:
        album = alice.get(f"/albums/{album_id}").json()
        assert album["release_at"] == "2026-12-04T00:00:00Z" and album["release_jitter_ms"] == 1500
        assert album["tracks"] and album["has_cover"]
        assert [a["release_at"] for a in alice.get("/albums").json()["albums"] if a["id"] == album_id] == [
            "2026-12-04T00:00:00Z"]
        _, file_id = first_file(alice, album_id)  # the manifest is there before: files are ciphertext
        refused = alice.get(f"/licences/{file_id}")
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "not_yet_released"
        assert "2026-12-04T00:00:00Z" in refused.json()["error"]["message"]
        assert refused.headers["release-at"] == "2026-12-04T00:00:00Z"
        assert alice.get(f"/licences/{file_id}", params={"offline": "true"}).status_code == 403
        clock.now = RELEASE - timedelta(seconds=1)
        assert alice.get(f"/licences/{file_id}").status_code == 403
        clock.now = RELEASE
        licence = alice.get(f"/licences/{file_id}")
        assert licence.status_code == 200 and licence.json()["key"]


def test_an_album_without_a_release_plays_as_before(scheduled: tuple[str, MovableClock, int]) -> None:
    url, clock, _ = scheduled
    clock.now = RELEASE - timedelta(days=1)
    with login(url, "alice", "alice-pw") as alice:
        album = alice.get("/albums/2").json()
        assert album["release_at"] is None and album["release_jitter_ms"] == releases.DEFAULT_JITTER_MS
        _, file_id = first_file(alice, 2)
        assert alice.get(f"/licences/{file_id}").status_code == 200


def test_a_presaved_album_joins_the_library_at_its_release(scheduled: tuple[str, MovableClock, int]) -> None:
    url, clock, album_id = scheduled
    clock.now = RELEASE - timedelta(hours=1)
    with login(url, "alice", "alice-pw") as alice, login(url, "demo", "demo") as demo:
        assert alice.put(f"/me/presaves/{album_id}").status_code == 204
        assert alice.put(f"/me/presaves/{album_id}").status_code == 204  # saving twice is saving once
        assert [a["id"] for a in alice.get("/me/presaves").json()["albums"]] == [album_id]
        assert alice.get("/me/library").json()["albums"] == []
        clock.now = RELEASE
        assert [a["id"] for a in alice.get("/me/library").json()["albums"]] == [album_id]
        assert demo.get("/me/library").json()["albums"] == []  # one user's pre-save is theirs alone
        assert alice.delete(f"/me/presaves/{album_id}").status_code == 204
        assert alice.get("/me/library").json()["albums"] == []
        missing = alice.put("/me/presaves/999999")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
        assert httpx.put(f"{url}/me/presaves/{album_id}").status_code == 401


def test_the_release_can_be_moved_and_bad_instants_are_refused(demo_data: Path, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = copy_with_users(demo_data, tmp_path, {})
    assert cli.main(["release", "set", "--data", str(data_dir), "--album", "2", "--at", "2027-01-01T00:00:00Z"]) == 0
    assert cli.main(["release", "set", "--data", str(data_dir), "--album", "2", "--at", "2027-02-01T09:30:00Z"]) == 0
    catalog = Catalog.open(data_dir)
    try:
        assert releases.release_at(catalog, 2) == datetime(2027, 2, 1, 9, 30, tzinfo=UTC)
        with pytest.raises(ReleaseError, match="no album with id 999"):
            releases.set_release(catalog, 999, RELEASE)
    finally:
        catalog.close()
    with pytest.raises(SystemExit) as usage:
        cli.main(["release", "set", "--data", str(data_dir), "--album", "2", "--at", "2027-02-01 09:30"])
    assert usage.value.code == cli.EXIT_USAGE
    assert "no time zone" in capsys.readouterr().err
    assert cli.main(["release", "set", "--data", str(data_dir), "--album", "999", "--at", "2027-01-01T00:00Z"]) == 1
    assert "no album with id 999" in capsys.readouterr().err


def test_releasing_within_finds_the_albums_of_the_coming_window(demo_data: Path, tmp_path: Path) -> None:
    data_dir = copy_with_users(demo_data, tmp_path, {})
    catalog = Catalog.open(data_dir)
    try:
        releases.set_release(catalog, 1, RELEASE)
        releases.set_release(catalog, 2, RELEASE + timedelta(days=2))
        assert releases.releasing_within(catalog, RELEASE - timedelta(hours=3), timedelta(hours=24)) == [1]
        assert releases.releasing_within(catalog, RELEASE, timedelta(hours=24)) == []  # out already
        assert releases.releasing_within(catalog, RELEASE, timedelta(days=3)) == [2]
    finally:
        catalog.close()


def test_ingest_release_at_schedules_the_albums_it_ingests(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "single.wav"
    with wave.open(str(source), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(44100)
        out.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(n / 20))) for n in range(44100)))
    data_dir = tmp_path / "data"
    assert cli.main(["ingest", "--data", str(data_dir), "--release-at", "2026-12-04T00:00:00Z", str(source)]) == 0
    assert "releases at 2026-12-04T00:00:00Z" in capsys.readouterr().out
    catalog = Catalog.open(data_dir)
    try:
        (album,) = catalog.query("SELECT id FROM albums")
        assert releases.release_at(catalog, int(album["id"])) == RELEASE
    finally:
        catalog.close()
