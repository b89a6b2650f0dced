"""Removing a track takes what hangs off it with it (its waveform, its files' offline grants and warmed slices), on
either engine's foreign keys; re-ingesting its audio drops its old files' grants and slices the same way."""

from __future__ import annotations

from pathlib import Path

from server import licences
from server.auth import create_user
from server.catalog import Catalog
from server.ingest import ingest
from tests.helpers.postgres import ON_BOTH_ENGINES
from tests.helpers.server_sources import stereo_tone, write_audio

pytestmark = ON_BOTH_ENGINES


def test_a_removed_track_leaves_no_waveform_grant_or_warmed_slice(tmp_path: Path) -> None:
    source = write_audio(tmp_path / "t.flac", stereo_tone(1.0), {"title": "Gone", "artist": "Soon", "track": "1"})
    data_dir = tmp_path / "data"
    assert ingest(data_dir, [source]).ok
    catalog = Catalog.open(data_dir)
    try:
        user_id = create_user(catalog, "keeper", "keeper-pw", "GB").id
        track_id = int(catalog.query("SELECT id FROM tracks")[0]["id"])
        file_id = int(catalog.query("SELECT id FROM files WHERE track_id = ?", [track_id])[0]["id"])
        licences.grant(catalog, user_id, file_id)
        catalog.execute("INSERT INTO warmed_slices (edge, file_id, start_byte) VALUES (?, ?, ?)",
                        ["http://edge-1", file_id, 0])
        assert catalog.query("SELECT 1 AS found FROM waveforms WHERE track_id = ?", [track_id])

        assert file_id in catalog.delete_track(track_id)

        for table in ("waveforms", "offline_grants", "warmed_slices", "files", "tracks"):
            assert catalog.query(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"] == 0, table
    finally:
        catalog.close()
