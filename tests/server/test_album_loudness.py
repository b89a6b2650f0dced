"""Album loudness: measured at ingest over the album's audio as a whole, recomputed when a track joins, carried by
the manifest, and filled in once on an older data dir by the upgrade step (without re-encoding anything)."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np
import pyloudnorm
import pytest

from server.auth import create_user
from server.catalog import Catalog
from server.database import create_engine, database_url, is_postgresql
from server.ingest import ingest
from server.loudness import integrated_loudness_lufs, sample_peak_dbfs
from server.upgrades import apply_pending
from tests.conftest import start_server, stop_server
from tests.helpers.offline_harness import wait_until
from tests.helpers.own_server import DemoServer
from tests.helpers.postgres import ON_BOTH_ENGINES
from tests.helpers.server_sources import SOURCE_RATE, stereo_tone, write_audio

# Loud, very quiet and middling tracks: the quiet one falls under the album's relative gate, so the album's
# loudness is far from the mean of its tracks' figures.
_TRACKS = ((1, 2.0, 0.5), (2, 3.0, 0.02), (3, 1.5, 0.3))
_FIGURE_LU = 0.01  # the stream meter sums hops in another order than pyloudnorm: the last digits differ

pytestmark = ON_BOTH_ENGINES


def _album_sources(folder: Path, tracks: tuple[tuple[int, float, float], ...]) -> dict[int, tuple[Path, np.ndarray]]:
    folder.mkdir(parents=True, exist_ok=True)
    made = {}
    for track_no, seconds, gain in tracks:
        pcm16 = stereo_tone(seconds, gain=gain)
        path = write_audio(folder / f"t{track_no}.flac", pcm16,
                           {"title": f"Part {track_no}", "artist": "Dynamics", "album": "Range",
                            "track": str(track_no)})
        made[track_no] = (path, pcm16)
    return made


def _concatenated_lufs(pcm16: list[np.ndarray]) -> float:
    whole = np.concatenate(pcm16).astype(np.float64) / 32768.0
    return float(pyloudnorm.Meter(SOURCE_RATE).integrated_loudness(whole))


def _album_row(data_dir: Path) -> dict[str, object]:
    catalog = Catalog.open(data_dir)
    try:
        rows = catalog.query("SELECT id, loudness_lufs, peak_dbfs FROM albums")
    finally:
        catalog.close()
    assert len(rows) == 1
    return rows[0]


def test_album_loudness_is_the_loudness_of_its_tracks_concatenated_not_their_mean(tmp_path: Path) -> None:
    made = _album_sources(tmp_path / "src", _TRACKS)
    # Ingested out of order: the album's audio is still measured in album order.
    report = ingest(tmp_path / "data", [made[3][0], made[1][0], made[2][0]])
    assert report.ok, report.failures
    album = _album_row(tmp_path / "data")
    pcm = [made[n][1] for n in sorted(made)]
    expected = _concatenated_lufs(pcm)
    track_figures = [integrated_loudness_lufs(p.astype(np.float64) / 32768.0, SOURCE_RATE) for p in pcm]
    assert float(str(album["loudness_lufs"])) == pytest.approx(expected, abs=_FIGURE_LU)
    assert abs(expected - float(np.mean(track_figures))) > 3.0
    assert float(str(album["peak_dbfs"])) == pytest.approx(
        max(sample_peak_dbfs(p.astype(np.float64) / 32768.0) for p in pcm), abs=1e-6)


def test_a_track_joining_later_remeasures_its_album(tmp_path: Path) -> None:
    made = _album_sources(tmp_path / "src", _TRACKS)
    ingest(tmp_path / "data", [made[1][0], made[2][0]])
    before = float(str(_album_row(tmp_path / "data")["loudness_lufs"]))
    assert before == pytest.approx(_concatenated_lufs([made[1][1], made[2][1]]), abs=_FIGURE_LU)
    ingest(tmp_path / "data", [made[3][0]])
    after = float(str(_album_row(tmp_path / "data")["loudness_lufs"]))
    assert after == pytest.approx(_concatenated_lufs([made[n][1] for n in (1, 2, 3)]), abs=_FIGURE_LU)
    assert abs(after - before) > 0.1


def test_the_manifest_carries_album_order_and_album_loudness(demo_server: DemoServer, demo_token: str) -> None:
    headers = {"Authorization": f"Bearer {demo_token}"}
    track = httpx.get(f"{demo_server.url}/tracks", params={"limit": 1}, headers=headers).json()["tracks"][0]
    manifest = httpx.get(f"{demo_server.url}/tracks/{track['id']}/manifest", headers=headers).json()
    catalog = Catalog.open(demo_server.data_dir, demo_server.database)
    try:
        album = catalog.query_one("SELECT loudness_lufs, peak_dbfs FROM albums WHERE id = ?", [track["album_id"]])
    finally:
        catalog.close()
    assert album is not None and album["loudness_lufs"] is not None
    assert (manifest["album_id"], manifest["disc_no"], manifest["track_no"]) == (
        track["album_id"], track["disc_no"], track["track_no"])
    assert (manifest["album_loudness_lufs"], manifest["album_peak_dbfs"]) == (
        album["loudness_lufs"], album["peak_dbfs"])


def _make_old(data_dir: Path) -> None:
    """Turn ``data_dir``'s catalog (on the test's engine) into what the server before album loudness left: no album
    columns, no upgrade record, and the schema's stamp (SQLite's user_version, PostgreSQL's legato_schema) gone."""
    url = database_url(data_dir)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("ALTER TABLE albums DROP COLUMN loudness_lufs")
            connection.exec_driver_sql("ALTER TABLE albums DROP COLUMN peak_dbfs")
            connection.exec_driver_sql("DROP TABLE schema_migrations")
            connection.exec_driver_sql("DELETE FROM legato_schema" if is_postgresql(url) else "PRAGMA user_version = 0")
    finally:
        engine.dispose()


def _files_state(data_dir: Path) -> dict[int, tuple[str, int]]:
    catalog = Catalog.open(data_dir)
    try:
        rows = catalog.query("SELECT id, content_sha256 FROM files")
    finally:
        catalog.close()
    return {int(r["id"]): (str(r["content_sha256"]), (data_dir / "origin" / str(r["id"])).stat().st_mtime_ns)
            for r in rows}


def _upgrades_done(data_dir: Path) -> set[str]:
    catalog = Catalog.open(data_dir)
    try:
        return {str(row["name"]) for row in catalog.query("SELECT name FROM schema_migrations")}
    finally:
        catalog.close()


def test_a_server_on_an_old_data_dir_measures_its_albums_once_without_re_encoding(tmp_path: Path) -> None:
    made = _album_sources(tmp_path / "src", _TRACKS)
    data_dir = tmp_path / "data"
    ingest(data_dir, [path for path, _ in made.values()])
    measured = _album_row(data_dir)
    catalog = Catalog.open(data_dir)
    try:
        create_user(catalog, "old", "old-pw", "GB")
        track_id = int(catalog.query("SELECT id FROM tracks ORDER BY id LIMIT 1")[0]["id"])
    finally:
        catalog.close()
    _make_old(data_dir)
    files_before = _files_state(data_dir)

    server = start_server(data_dir)
    try:
        token = httpx.post(f"{server.url}/auth/login", json={"username": "old", "password": "old-pw"}).json()["token"]

        def album_figure() -> object:
            return httpx.get(f"{server.url}/tracks/{track_id}/manifest",
                             headers={"Authorization": f"Bearer {token}"}).json()["album_loudness_lufs"]

        wait_until(lambda: album_figure() is not None, "the upgrade to measure the album")
        wait_until(lambda: "album-loudness" in _upgrades_done(data_dir), "the upgrade to be recorded")
        assert album_figure() == pytest.approx(measured["loudness_lufs"], abs=1e-9)
    finally:
        stop_server(server)
    assert _album_row(data_dir)["peak_dbfs"] == pytest.approx(measured["peak_dbfs"], abs=1e-9)
    assert _files_state(data_dir) == files_before
    assert apply_pending(data_dir) == []
