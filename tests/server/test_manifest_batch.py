"""POST /manifests on a real server: manifests of many tracks at once, licences only where the licence route would
give them (region, release), oversized batches refused, and a manifest and key from the batch playing bit-exact."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from cache import DecryptingSource, FileKey, FileManifest
from client.api import MAX_BATCH_TRACKS, ApiClient
from player import QueueItem
from server import cli
from server.catalog import Catalog
from tests.helpers.app_server import MovableClock, app_server, copy_with_users
from tests.helpers.render_harness import render
from tests.helpers.server_api import assert_error


@pytest.fixture(scope="module")
def batch_server(module_database: str, demo_data: Path,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[int]]]:
    """A server whose track 1 is licensed only in Japan and whose album 2 releases a year after the clock;
    its URL and the ids of album 1's tracks. One per engine, on the module's database: the server runs in this
    process and opens its catalog where LEGATO_DATABASE_URL says, so no test here sets a database of its own."""
    data_dir = copy_with_users(demo_data, tmp_path_factory.mktemp("batch"), {"alice": "alice-pw"})
    catalog = Catalog.open(data_dir)
    try:
        with catalog.transaction():
            catalog.execute("UPDATE tracks SET regions = ? WHERE id = 1", [json.dumps(["JP"])])
        album_tracks = [int(row["id"]) for row in catalog.query("SELECT id FROM tracks WHERE album_id = 1 "
                                                                "ORDER BY disc_no, track_no")]
    finally:
        catalog.close()
    assert cli.main(["release", "set", "--data", str(data_dir), "--album", "2",
                     "--at", "2027-12-04T00:00:00Z"]) == cli.EXIT_OK
    with app_server(data_dir, MovableClock()) as url:
        yield url, album_tracks


def _client(url: str) -> httpx.Client:
    token = httpx.post(f"{url}/auth/login", json={"username": "alice", "password": "alice-pw"}).json()["token"]
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def _track_of_album(client: httpx.Client, album_id: int) -> int:
    return int(client.get(f"/albums/{album_id}").json()["tracks"][0]["id"])


def test_licences_come_only_for_the_tracks_the_user_is_entitled_to(batch_server: tuple[str, list[int]]) -> None:
    url, album_tracks = batch_server
    with _client(url) as client:
        unreleased = _track_of_album(client, 2)
        entitled = [t for t in album_tracks if t != 1]
        asked = [1, *entitled, unreleased, 999_999]
        body: dict[str, Any] = client.post("/manifests", json={"track_ids": asked, "quality": "high"}).json()
        assert [m["track_id"] for m in body["manifests"]] == [1, *entitled, unreleased]
        assert body["not_found"] == [999_999]
        file_of = {m["track_id"]: next(f["id"] for f in m["files"] if f["quality"] == "high")
                   for m in body["manifests"]}
        licensed = {g["file_id"]: g for g in body["licences"]}
        assert set(licensed) == {file_of[t] for t in entitled}
        refused = {r["file_id"]: r["code"] for r in body["refused"]}
        assert refused == {file_of[1]: "not_available_in_region", file_of[unreleased]: "not_yet_released"}
        for track in entitled:  # the same key the licence route gives
            single = client.get(f"/licences/{file_of[track]}").json()
            assert licensed[file_of[track]] == single
            assert client.get(f"/tracks/{track}/manifest").json() == next(
                m for m in body["manifests"] if m["track_id"] == track)


def test_oversized_and_malformed_batches_are_refused(batch_server: tuple[str, list[int]]) -> None:
    url, _ = batch_server
    with _client(url) as client:
        too_many = list(range(1, MAX_BATCH_TRACKS + 2))
        assert_error(client.post("/manifests", json={"track_ids": too_many}), 422, "invalid_request")
        assert client.post("/manifests", json={"track_ids": list(range(1, 20_000))}).status_code == 413
        assert_error(client.post("/manifests", json={"track_ids": []}), 422, "invalid_request")
        assert_error(client.post("/manifests", json={"track_ids": [0]}), 422, "invalid_request")
        assert_error(client.post("/manifests", json={"track_ids": [2], "quality": "high", "opening_track_id": 3}),
                     422, "invalid_request")
        assert_error(client.post("/manifests", json={"track_ids": [2], "quality": "high", "opening_track_id": 2,
                                                     "opening_chunks": 5}), 422, "invalid_request")
        assert_error(httpx.post(f"{url}/manifests", json={"track_ids": [2]}), 401, "unauthenticated")


def test_a_manifest_and_licence_from_the_batch_play_bit_exact(batch_server: tuple[str, list[int]],
                                                             tmp_path: Path) -> None:
    url, album_tracks = batch_server
    with _client(url) as client:
        token = client.headers["Authorization"].removeprefix("Bearer ")
    api = ApiClient(url, token)
    try:
        track = album_tracks[1]
        batch = api.manifests([track], "high", opening_track_id=track)
        manifest = FileManifest.from_json(next(f for f in batch.manifests[track]["files"] if f["quality"] == "high"))
        single = FileManifest.from_json(next(f for f in api.manifest(track)["files"] if f["quality"] == "high"))
        key: FileKey = batch.licences[manifest.file_id]
        assert batch.opening == (manifest.file_id, api.fetch(manifest, *manifest.chunk_span(0)))
        from_batch, _, _ = render([QueueItem("batch", lambda: DecryptingSource(manifest, key, api),
                                             frames=manifest.frames)], tmp_path / "batch.wav")
        one_by_one, _, _ = render([QueueItem("single", lambda: DecryptingSource(
            single, api.licence(single.file_id), api), frames=single.frames)], tmp_path / "single.wav")
    finally:
        api.close()
    assert len(from_batch) == manifest.frames
    assert np.array_equal(from_batch, one_by_one)
